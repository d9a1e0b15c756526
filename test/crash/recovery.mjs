// Crash recovery, end to end (issue "nothing is lost"): a few hundred webhooks are accepted by a real
// `wrangler dev`, the runtime is killed (SIGKILL, mid-load: in-flight queue messages and unwritten marks
// are lost), a new runtime starts on the same local state, and the scheduled sweep is run through
// `/__scheduled` (wrangler dev --test-scheduled; local dev fires no crons). Every event that was answered
// 202 must end processed. Bounded: about three minutes at most; exits non-zero on any event left behind.
// Loopback only. Run: node test/crash/recovery.mjs (CI runs it after npm test).
import { api, fixture, startWorker, waitFor } from "../../bench/lib.mjs";

const PORT = 8797;
const INSPECTOR = "9331";
const TOTAL = Number(process.env.CRASH_EVENTS ?? 300);
const KILL_AFTER = Math.floor(TOTAL / 2);
const SECRET = "crash-test-secret";
// short sweep windows so the test finishes in seconds, not the production minutes
const vars = { SWEEP_ENQUEUE_AFTER_SECONDS: "3", SWEEP_REDRIVE_AFTER_SECONDS: "15", LOG_LEVEL: "warn" };
const args = ["--test-scheduled", "--inspector-port", INSPECTOR];

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

let worker = await startWorker(PORT, { extraVars: vars, args });
const created = await api(worker.base, "POST", "/admin/sources", { id: "crash-payor", kind: "payor.claim_status", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] });
if (created.status !== 201) throw new Error(`source: ${created.status} ${JSON.stringify(created.body)}`);

const template = fixture("payor-claim-status.json");
const accepted = [];
let answered = 0;
let killed = false;
const send = async (i) => {
  const body = JSON.stringify({ ...template, claim_id: `CLM-CRASH-${i}`, timestamp: new Date(Date.UTC(2024, 9, 1, 0, 0, i)).toISOString() });
  try {
    const res = await fetch(`${worker.base}/webhooks/crash-payor`, { method: "POST", headers: { "content-type": "application/json", "X-API-KEY": SECRET }, body });
    const json = await res.json().catch(() => null);
    if (res.status === 202 && json?.eventId) accepted.push(json.eventId);
  } catch {
    // the runtime is gone: not accepted, so the partner would retry; nothing to check
  }
  if (++answered === KILL_AFTER && !killed) {
    killed = true;
    worker.stop("SIGKILL");
    console.log(`killed the runtime after ${answered} answers (${accepted.length} accepted) at ${elapsed()}`);
  }
};
// 25 at a time, so the kill lands while requests, batches and queue messages are in flight
let next = 0;
await Promise.all(Array.from({ length: 25 }, async () => {
  while (next < TOTAL) await send(next++);
}));
if (!killed) worker.stop("SIGKILL");
await new Promise((r) => setTimeout(r, 1500));

worker = await startWorker(PORT, { extraVars: vars, args, keepState: true, state: worker.state });
console.log(`restarted on the same state at ${elapsed()}; ${accepted.length} events had been answered 202`);

const status = async (id) => (await api(worker.base, "GET", `/admin/events/${id}`)).body?.status;
const before = await Promise.all(accepted.map(status));
console.log(`before any sweep: ${before.filter((s) => s === "processed").length} processed, ${before.filter((s) => s === "pending").length} pending`);
let left = [...accepted];
try {
  await waitFor(async () => {
    await fetch(`${worker.base}/__scheduled?cron=*+*+*+*+*`);
    const statuses = await Promise.all(left.map(async (id) => [id, await status(id)]));
    left = statuses.filter(([, s]) => s !== "processed").map(([id]) => id);
    return left.length === 0;
  }, 150_000, 3_000);
} catch {
  // reported below
} finally {
  worker.stop();
}

if (left.length > 0) {
  console.error(`FAILED: ${left.length} of ${accepted.length} accepted events are not processed after ${elapsed()}: ${left.slice(0, 10).join(", ")}`);
  process.exit(1);
}
if (accepted.length < 20) {
  console.error(`FAILED: only ${accepted.length} events were accepted before the kill; the test proved nothing`);
  process.exit(1);
}
console.log(`recovery ok: all ${accepted.length} events answered 202 were processed after the crash (${elapsed()})`);
