// Shared bench plumbing: a wrangler dev of its own (separate local state, loopback only), a bounded
// load loop measuring each request, and result files. Node 22 (npm run bench).
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";

export const root = new URL("..", import.meta.url).pathname;
export const ADMIN = "bench-admin-token";
const SECRETS_KEY = Buffer.from("bench-only-secrets-key-32-bytes!").toString("base64");

export const fixture = (name) => JSON.parse(readFileSync(`${root}test/fixtures/${name}`, "utf8"));

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} → ${code}\n${out}`))));
  });
}

/** Read-only SQL against the bench Worker's local D1 (wrangler d1 execute --json). */
export async function d1(state, sql) {
  const out = await run("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql]);
  return JSON.parse(out.slice(out.indexOf("[")))[0].results;
}

/**
 * Starts wrangler dev on 127.0.0.1:port; returns { base, stop, state }. By default with fresh local state
 * of its own; `extraVars` are added as --var KEY:VALUE; `keepState` reuses the state folder as it is.
 */
export async function startWorker(port = 8799, { extraVars = {}, state: stateDir, keepState = false } = {}) {
  const state = stateDir ?? `${root}.wrangler/bench-state-${port}`;
  if (!keepState) rmSync(state, { recursive: true, force: true });
  await run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
  const vars = { ADMIN_TOKEN: ADMIN, SECRETS_KEY, ENVIRONMENT: "development", SOURCE_CACHE_TTL_SECONDS: "30", ...extraVars };
  const child = spawn(
    "npx",
    ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  };
  process.on("exit", stop);
  return { base, stop, state };
}

export async function api(base, method, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}`, ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json ?? text };
}

/**
 * Sends `count` requests made by `make(i)` with at most `concurrency` in flight; bounded by count and by
 * `maxSeconds`. Returns throughput and latency percentiles (ms), plus each response's status.
 */
export async function load({ count, concurrency, make, maxSeconds = 120 }) {
  const latencies = [];
  const statuses = new Map();
  const results = new Array(count);
  let next = 0;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  async function worker() {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const { url, init } = make(i);
      const t0 = performance.now();
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        latencies.push(performance.now() - t0);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        results[i] = { status: res.status, text };
      } catch (e) {
        statuses.set("error", (statuses.get("error") ?? 0) + 1);
        results[i] = { status: "error", text: String(e) };
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null;
  return {
    requests: latencies.length,
    seconds: round(seconds),
    rps: round(latencies.length / seconds),
    p50: round(pct(50)),
    p99: round(pct(99)),
    statuses: Object.fromEntries(statuses),
    results,
  };
}

export const round = (x) => (x === null ? null : Math.round(x * 100) / 100);

/** GET /health: the hello-world route of the same Worker, the baseline every figure is a ratio to. */
export const baseline = (base, count, concurrency) =>
  load({ count, concurrency, make: () => ({ url: `${base}/health`, init: {} }) });

export function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
}

export function writeResult(name, result) {
  mkdirSync(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/${name}.json`;
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + "\n");
  return file;
}

export const strip = ({ results, ...summary }) => summary;

export async function waitFor(check, timeoutMs = 60_000) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}
