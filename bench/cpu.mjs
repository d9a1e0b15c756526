// Runs the in-workerd CPU benchmarks (bench/cpu/) and writes bench/results/cpu.json: verify + validate per
// partner kind, and the events consumer's cost per event.
import { spawnSync } from "node:child_process";
import { root, writeResult } from "./lib.mjs";

const run = spawnSync("npx", ["vitest", "run", "--config", "bench/cpu/vitest.config.ts"], { cwd: root, encoding: "utf8", env: process.env });
const output = `${run.stdout}\n${run.stderr}`.split("\n");
const resultLine = (tag) => {
  const line = output.find((l) => l.includes(`${tag} `));
  return line ? JSON.parse(line.slice(line.indexOf(`${tag} `) + tag.length + 1)) : null;
};
const verify = resultLine("CPU_RESULT");
const consumer = resultLine("CONSUMER_RESULT");
if (run.status !== 0 || !verify || !consumer) {
  console.error(run.stdout, run.stderr);
  process.exit(1);
}
const file = writeResult("cpu", { ...verify, consumer });
console.log(JSON.stringify({ ...verify, consumer, file }, null, 2));
if (Object.values(verify.kinds).some((k) => !k.withinTarget)) process.exitCode = 1;
