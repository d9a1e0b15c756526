// Shared bench plumbing: a wrangler dev of its own (separate local state, loopback only), a bounded
// load loop measuring each request, and result files. Node 22 (npm run bench).
import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { DatabaseSync } from "node:sqlite";
import autocannon from "autocannon";

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

/**
 * What the bench Worker's local D1 holds once it has stopped: stored events (how many processed, how many
 * with the body archived to R2) and its size: bytes on disk (main file and WAL), and compacted bytes (the
 * database copied with VACUUM INTO: what the rows and indexes take once freed space is reused, which is
 * what emptied bodies free for the next events), with the largest tables and indexes of the copy. Every
 * table counts, so bytes per event is the capacity figure.
 */
export async function d1Footprint(state) {
  // the Worker was just told to stop: its workerd may hold the database a moment longer
  for (let attempt = 1; ; attempt++) {
    try {
      return readFootprint(state);
    } catch (e) {
      if (!/database is locked/.test(String(e?.message)) || attempt >= 40) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function readFootprint(state) {
  const dir = `${state}/v3/d1/miniflare-D1DatabaseObject`;
  const files = readdirSync(dir).filter((f) => f !== "metadata.sqlite" && /\.sqlite(-wal)?$/.test(f));
  const bytes = files.reduce((n, f) => n + statSync(`${dir}/${f}`).size, 0);
  let compactBytes = 0;
  let largest = [];
  let row = { events: 0, processed: 0, archived: 0 };
  for (const f of files.filter((x) => x.endsWith(".sqlite"))) {
    const db = new DatabaseSync(`${dir}/${f}`, { readOnly: true });
    const copy = `${os.tmpdir()}/claimgate-bench-${process.pid}.sqlite`;
    try {
      if (!db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'events'").get().n) continue;
      row = db.prepare("SELECT count(*) AS events, coalesce(sum(status = 'processed'), 0) AS processed, coalesce(sum(body_key IS NOT NULL), 0) AS archived FROM events").get();
      rmSync(copy, { force: true });
      db.exec(`VACUUM INTO '${copy}'`);
      compactBytes += statSync(copy).size;
      const compact = new DatabaseSync(copy, { readOnly: true });
      largest = compact.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 5").all().map((r) => ({ name: r.name, bytes: r.bytes }));
      compact.close();
    } finally {
      db.close();
      rmSync(copy, { force: true });
    }
  }
  const per = (n) => (row.events ? Math.round(n / row.events) : null);
  return { events: row.events, processed: row.processed, archived: row.archived, bytes, bytesPerEvent: per(bytes), compactBytes, compactBytesPerEvent: per(compactBytes), largest };
}

/**
 * wrangler dev's own local tooling, off for the benches unless BENCH_DEV_TOOLING=1: the local explorer and
 * local observability (on by default since wrangler 4.x) attach a streaming tail to every Worker, so every
 * invocation (each request, queue batch, Durable Object call) is reported to a collector Worker in the same
 * workerd thread the gateway runs on. A perf profile of the end-to-end run put 11–13 % of that thread in
 * TailStreamTarget::report; production reports tails outside the Worker's thread. Both the baseline and
 * the subject run without it, so a ratio compares the gateway's own work (BENCHMARKS.md, "Method").
 */
function devToolingEnv() {
  return process.env.BENCH_DEV_TOOLING === "1" ? {} : { X_LOCAL_OBSERVABILITY: "false", X_LOCAL_EXPLORER: "false" };
}

/**
 * Starts wrangler dev on 127.0.0.1:port; returns { base, stop, state }. By default with fresh local state
 * of its own; `extraVars` are added as --var KEY:VALUE; `keepState` reuses the state folder as it is;
 * `args` are more wrangler dev flags (e.g. --test-scheduled, --inspector-port).
 */
export async function startWorker(port = 8799, { extraVars = {}, state: stateDir, keepState = false, config, args = [] } = {}) {
  // BENCH_STATE_ROOT puts the local state (D1, Durable Objects, queues) elsewhere, e.g. on tmpfs
  const state = stateDir ?? `${process.env.BENCH_STATE_ROOT ?? `${root}.wrangler`}/bench-state-${port}`;
  if (!keepState) rmSync(state, { recursive: true, force: true });
  await run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
  const vars = { ADMIN_TOKEN: ADMIN, SECRETS_KEY, ENVIRONMENT: "development", SOURCE_CACHE_TTL_SECONDS: "30", ...extraVars };
  const logFile = `${state}.log`;
  const logFd = openSync(logFile, "w");
  const child = spawn(
    "npx",
    ["wrangler", "dev", ...(config ? ["--config", config] : []), "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, ...args, ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
    // wrangler's output goes to a file, so the load generator's event loop does not also carry the logs
    { cwd: root, stdio: ["ignore", logFd, logFd], detached: true, env: { ...process.env, ...devToolingEnv() } },
  );
  closeSync(logFd);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  /** Stops the whole process group (npx, wrangler, workerd); SIGKILL is a crash. */
  const stop = (signal = "SIGTERM") => {
    try {
      process.kill(-child.pid, signal);
    } catch {}
  };
  process.on("exit", stop);
  devProcesses.set(port, findDevProcesses(port));
  return { base, stop, state };
}

/**
 * Where a request's CPU goes under `wrangler dev`: the Worker's own workerd (the gateway: handlers, queue
 * consumers, Durable Objects, local D1), wrangler's dev proxy (a second workerd in front of it that every
 * request passes through, absent in production), wrangler's Node process (it prints a line per request)
 * and this load generator. Why: on the 2-core machine these share the cores, and `/health`'s throughput is
 * bounded by the dev proxy (it spends about three times the Worker's CPU on each `/health`), so a ratio
 * alone does not say whose time a figure is made of. Linux only (/proc); elsewhere the figure is left out.
 */
const devProcesses = new Map();
const CLOCK_TICKS_PER_SECOND = 100;

function findDevProcesses(port) {
  try {
    const rows = execFileSync("ps", ["-eo", "pid=,ppid=,args="]).toString().split("\n").map((line) => {
      const [, pid, ppid, args] = line.match(/^\s*(\d+)\s+(\d+)\s+(.*)$/) ?? [];
      return { pid: Number(pid), ppid: Number(ppid), args: args ?? "" };
    });
    const proxy = rows.find((r) => /workerd/.test(r.args) && r.args.includes(`--socket-addr=entry=127.0.0.1:${port} `));
    const worker = proxy && rows.find((r) => /workerd/.test(r.args) && r.ppid === proxy.ppid && r.pid !== proxy.pid);
    return worker ? { worker: worker.pid, devProxy: proxy.pid, wrangler: proxy.ppid } : null;
  } catch {
    return null;
  }
}

/** CPU milliseconds used so far by each dev process and by this process (the load generator). */
function cpuSnapshot(processes) {
  if (!processes) return null;
  const out = {};
  try {
    for (const [name, pid] of Object.entries(processes)) {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[name] = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND; // utime + stime
    }
  } catch {
    return null;
  }
  const own = process.cpuUsage();
  out.loadGenerator = (own.user + own.system) / 1000;
  return out;
}

const cpuPerRequest = (before, after, requests) =>
  before && after && requests > 0 ? Object.fromEntries(Object.keys(before).map((k) => [k, Math.round((1000 * (after[k] - before[k])) / requests) / 1000])) : undefined;

/**
 * wrangler.toml with the Worker's entry swapped for bench/counted-worker.ts (the same Worker, its D1 round
 * trips counted), written beside it so relative paths still hold. Returns the file; remove it when done.
 */
export function countedConfig() {
  const toml = readFileSync(`${root}wrangler.toml`, "utf8");
  if (!/^main = "src\/index.ts"$/m.test(toml)) throw new Error('wrangler.toml: main = "src/index.ts" not found');
  const file = `${root}.bench-counted-wrangler.toml`;
  writeFileSync(file, toml.replace(/^main = "src\/index.ts"$/m, 'main = "bench/counted-worker.ts"'));
  return file;
}

/** The counted Worker's D1 round trips since the last call, by statement, and their total. */
export async function d1RoundTrips(base) {
  const bySql = await (await fetch(`${base}/__bench/d1-round-trips`)).json();
  return { total: Object.values(bySql).reduce((a, b) => a + b, 0), bySql };
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
 * Sends `count` requests made by `make(i)` ({ url, init } as for fetch) over `concurrency` keep-alive
 * connections with autocannon; bounded by count and by `maxSeconds`. Returns throughput, latency
 * percentiles (ms) and a count of each response status.
 *
 * Every request is made (bodies built, signatures computed) before the first is sent: the load
 * generator shares this machine's cores with the Worker, and its own work per request would otherwise
 * be charged to whichever route has the heavier requests.
 */
export async function load({ count, concurrency, make, maxSeconds = 120 }) {
  const build = (i) => {
    const { url, init = {} } = make(i);
    const u = new URL(url);
    return { origin: u.origin, method: init.method ?? "GET", path: u.pathname + u.search, headers: init.headers ?? {}, body: init.body };
  };
  const prepared = Array.from({ length: count }, (_, i) => build(i));
  const processes = devProcesses.get(Number(new URL(prepared[0].origin).port)) ?? null;
  const cpuBefore = cpuSnapshot(processes);
  let next = 0;
  let firstSentAt = null;
  let lastAnsweredAt = null;
  const statuses = new Map();
  const result = await autocannon({
    url: prepared[0].origin,
    connections: Math.min(concurrency, count),
    amount: count,
    duration: maxSeconds,
    requests: [
      {
        setupRequest: (req) => {
          firstSentAt ??= performance.now();
          // autocannon may set up a request it never sends once the count is reached
          const { method, path, headers, body } = prepared[next] ?? build(next);
          next++;
          return { ...req, method, path, headers, body };
        },
        onResponse: (status) => {
          lastAnsweredAt = performance.now();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        },
      },
    ],
  });
  if (result.errors > 0) statuses.set("error", result.errors);
  // autocannon's own duration ends on its next one-second tick; time from the first request to the last answer
  const requests = result.requests.total;
  const seconds = (lastAnsweredAt - firstSentAt) / 1000;
  return {
    requests,
    seconds: round(seconds),
    rps: round(requests / seconds),
    p50: round(result.latency.p50),
    p90: round(result.latency.p90),
    p99: round(result.latency.p99),
    statuses: Object.fromEntries(statuses),
    cpuMsPerRequest: cpuPerRequest(cpuBefore, cpuSnapshot(processes), requests),
  };
}

export const round = (x) => (x === null ? null : Math.round(x * 100) / 100);

/** GET /health: the hello-world route of the same Worker, the baseline every figure is a ratio to. */
export const baseline = (base, count, concurrency) =>
  load({ count, concurrency, make: () => ({ url: `${base}/health`, init: {} }) });

/**
 * Alternates the baseline and the measured load in `rounds` rounds (baseline, subject, baseline, …,
 * subject, baseline), so drift in the machine's speed during the run hits both alike. Each round's ratio
 * is the subject's throughput over the mean of the baselines either side of it; the figure is the median.
 */
export async function alternate({ rounds, baseline: runBaseline, subject }) {
  const baselines = [await runBaseline()];
  const subjects = [];
  for (let r = 0; r < rounds; r++) {
    subjects.push(await subject(r));
    baselines.push(await runBaseline());
  }
  const ratios = subjects.map((s, r) => round(s.rps / ((baselines[r].rps + baselines[r + 1].rps) / 2)));
  // each round's own throughputs (req/s), so a low ratio can be traced to its subject or to its baselines
  const rps = { baseline: baselines.map((b) => round(b.rps)), subject: subjects.map((s) => round(s.rps)) };
  return { baseline: combine(baselines), subject: combine(subjects), ratios, ratio: median(ratios), rps };
}

/** Totals of several runs of one load: summed requests, throughput over the summed time, median latencies. */
function combine(runs) {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const statuses = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  // CPU per request over all the runs (each run's figure weighted by its requests)
  let cpuMsPerRequest;
  if (runs.every((r) => r.cpuMsPerRequest)) {
    cpuMsPerRequest = {};
    for (const k of Object.keys(runs[0].cpuMsPerRequest)) cpuMsPerRequest[k] = Math.round((1000 * runs.reduce((n, r) => n + r.cpuMsPerRequest[k] * r.requests, 0)) / requests) / 1000;
  }
  return { runs: runs.length, requests, seconds: round(seconds), rps: round(requests / seconds), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), statuses, cpuMsPerRequest };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : round((s[m - 1] + s[m]) / 2);
}

export function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
}

export function writeResult(name, result) {
  mkdirSync(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/${name}.json`;
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + "\n");
  return file;
}

export async function waitFor(check, timeoutMs = 60_000, intervalMs = 200) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
