// Runs the in-workerd CPU benchmark (bench/cpu/) and writes bench/results/cpu.json.
import { spawnSync } from "node:child_process";
import { root, writeResult } from "./lib.mjs";

const run = spawnSync("npx", ["vitest", "run", "--config", "bench/cpu/vitest.config.ts"], { cwd: root, encoding: "utf8", env: process.env });
const line = `${run.stdout}\n${run.stderr}`.split("\n").find((l) => l.includes("CPU_RESULT "));
if (run.status !== 0 || !line) {
  console.error(run.stdout, run.stderr);
  process.exit(1);
}
const result = JSON.parse(line.slice(line.indexOf("CPU_RESULT ") + "CPU_RESULT ".length));
const file = writeResult("cpu", result);
console.log(JSON.stringify({ ...result, file }, null, 2));
if (Object.values(result.kinds).some((k) => !k.withinTarget)) process.exitCode = 1;
