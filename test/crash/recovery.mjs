// Crash recovery, end to end (issue "nothing is lost"): a few hundred webhooks are accepted by a real
// `wrangler dev`, the runtime is killed (SIGKILL, mid-load: in-flight queue messages and unwritten marks
// are lost), a new runtime starts on the same local state, and the scheduled sweep is run through
// `/__scheduled` (wrangler dev --test-scheduled; local dev fires no crons). Every event that was answered
// 202 must end processed. Patient payments go in alongside: every payment answered 200 (applied by its
// lifecycle's Durable Object, whose outbox may not have reached D1 when the runtime died) must be in D1
// afterwards, each once, with the ledger right. Bounded: about three minutes at most; exits non-zero on any
// event or payment left behind.
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

// a claim whose patient owes $100.00, for the payments
for (const [id, kind] of [["crash-scrub", "cair.claim_scrubber"], ["crash-remit", "cair.claim_response"], ["patient-payments", "cair.patient_payment"]]) {
  const r = await api(worker.base, "POST", "/admin/sources", { id, kind, verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] });
  if (r.status !== 201) throw new Error(`source ${id}: ${r.status} ${JSON.stringify(r.body)}`);
}
const BILL = "CRASH-BILL";
const scrub = fixture("cair-claim-scrubber.json");
const fhirClaim = JSON.parse(scrub.output.ai_generated_x12_837);
fhirClaim.id = "crash-claim";
fhirClaim.identifier[0].value = BILL;
fhirClaim.patient.reference = "Patient/crash-patient";
scrub.output.claim_id = "crash-claim";
scrub.output.ai_generated_x12_837 = JSON.stringify(fhirClaim);
const remit = fixture("cair-claim-response.json");
const cr = remit.entry[0].resource;
cr.id = "crash-cr";
cr.request.reference = "Claim/crash-claim";
cr.patient.reference = "Patient/crash-patient";
cr.item[0].adjudication.push({ category: { coding: [{ system: "https://x12.org/codes/claim-adjustment-group-codes", code: "PR" }] }, amount: { value: 100, currency: "USD" } });
for (const [source, body] of [["crash-scrub", scrub], ["crash-remit", remit]]) {
  const r = await api(worker.base, "POST", `/webhooks/${source}`, body, { "X-API-KEY": SECRET });
  if (r.status !== 202) throw new Error(`${source}: ${r.status}`);
}
const claimOf = async () => (await api(worker.base, "GET", `/api/claims?identifier=${encodeURIComponent(`https://fhir.cairhealth.com/fhir/identifier/claim-id|${BILL}`)}`)).body?.claim;
await waitFor(async () => !!(await claimOf())?.lifecycle?.claimResponse, 60_000);
const paid = new Map(); // trace id → cents, for payments answered 200

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
const payOne = async (i) => {
  const cents = 300 + i; // $3.00 and up: 40 of them more than cover the $100.00 owed, the rest is credit
  try {
    const res = await fetch(`${worker.base}/api/webhooks/patient-payment`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-API-KEY": SECRET },
      body: JSON.stringify({ billId: BILL, paymentAmount: cents / 100, paymentTraceId: `crash-pay-${i}`, paymentDate: "2025-01-01" }),
    });
    if (res.status === 200) paid.set(`crash-pay-${i}`, cents);
  } catch {
    // not answered: the partner would retry
  }
};
// 25 at a time, so the kill lands while requests, batches, queue messages and outbox flushes are in flight;
// a payment after every tenth event
let next = 0;
await Promise.all(Array.from({ length: 25 }, async () => {
  while (next < TOTAL) {
    const i = next++;
    await send(i);
    if (i % 10 === 0 && !killed) await payOne(i / 10);
  }
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

// every payment answered 200 is in D1 once, and the ledger is min(owed, paid) applied
const owedCents = 10_000;
let paymentProblem = null;
if (paid.size > 0) {
  worker = await startWorker(PORT, { extraVars: vars, args, keepState: true, state: worker.state });
  try {
    await waitFor(async () => {
      await fetch(`${worker.base}/__scheduled?cron=*+*+*+*+*`);
      const claim = await claimOf();
      const entries = claim?.lifecycle?.payments?.entries ?? [];
      const traces = entries.map((e) => e.paymentTraceId);
      const missing = [...paid.keys()].filter((t) => !traces.includes(t));
      const dupes = traces.length - new Set(traces).size;
      // a payment the runtime applied but could not answer before it died is there too (the partner's
      // retry would get its answer): the ledger is checked over what D1 holds
      const total = entries.reduce((n, e) => n + Math.round(e.amount * 100), 0);
      const applied = Math.round((claim?.lifecycle?.payments?.patientPaid ?? -1) * 100);
      paymentProblem = missing.length || dupes || applied !== Math.min(owedCents, total)
        ? { missing: missing.length, duplicates: dupes, applied, expected: Math.min(owedCents, total) }
        : null;
      return paymentProblem === null;
    }, 60_000, 2_000);
  } catch {
    // reported below
  } finally {
    worker.stop();
  }
}
if (paymentProblem) {
  console.error(`FAILED: of ${paid.size} payments answered 200, D1 disagrees after the crash: ${JSON.stringify(paymentProblem)}`);
  process.exit(1);
}
console.log(`payments ok: all ${paid.size} payments answered 200 are in D1 once, the ledger right`);

if (left.length > 0) {
  console.error(`FAILED: ${left.length} of ${accepted.length} accepted events are not processed after ${elapsed()}: ${left.slice(0, 10).join(", ")}`);
  process.exit(1);
}
if (accepted.length < 20) {
  console.error(`FAILED: only ${accepted.length} events were accepted before the kill; the test proved nothing`);
  process.exit(1);
}
console.log(`recovery ok: all ${accepted.length} events answered 202 were processed after the crash (${elapsed()})`);
