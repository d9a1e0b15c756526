// npm run demo: a local subscriber receiver that verifies signatures, subscribed to every event; a
// signed sample of every partner kind (built from the test fixtures), an HCMS claim submission, and a
// patient payment over the patient's responsibility; then a table of what was stored and delivered.
// Uses a wrangler dev already on 127.0.0.1:8787 (npm run dev), or starts one and keeps it running so
// the console can be opened afterwards.
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { spawnSync } from "node:child_process";
import { Webhook } from "standardwebhooks";
import { fixture, root, startWorker, waitFor } from "../bench/lib.mjs";

const PORT = Number(process.env.PORT ?? 8787);
const INSPECTOR_PORT = process.env.INSPECTOR_PORT;
const base = `http://127.0.0.1:${PORT}`;
if (!existsSync(`${root}.dev.vars`)) spawnSync("node", ["scripts/seed-dev.mjs"], { cwd: root, stdio: "inherit" });
const vars = Object.fromEntries(readFileSync(`${root}.dev.vars`, "utf8").split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]));
const ADMIN = vars.ADMIN_TOKEN;
const { sources } = JSON.parse(readFileSync(`${root}scripts/dev-sources.json`, "utf8"));
const source = (id) => sources.find((s) => s.id === id);

let started = null;
const up = await fetch(`${base}/health`).then((r) => r.ok).catch(() => false);
if (!up) {
  spawnSync("npm", ["run", "-s", "db:migrate:local"], { cwd: root, stdio: "ignore" });
  spawnSync("node", ["scripts/seed-dev.mjs"], { cwd: root, stdio: "ignore" });
  started = await startWorker(PORT, {
    state: `${root}.wrangler/state`,
    keepState: true,
    extraVars: { ADMIN_TOKEN: ADMIN, SECRETS_KEY: vars.SECRETS_KEY },
    ...(INSPECTOR_PORT ? { args: ["--inspector-port", INSPECTOR_PORT] } : {}),
  });
}

const call = async (method, path, body, headers = {}) => {
  const res = await fetch(base + path, { method, headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}`, ...headers }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
};

/** Signs a body the way the demo source's verification scheme expects. */
function signed(sourceId, body) {
  const s = source(sourceId);
  const v = s.verification;
  const secret = s.secrets[0];
  const t = Math.floor(Date.now() / 1000);
  if (v.scheme === "api_secret") return { [v.header]: secret };
  if (v.scheme === "stripe") return { "stripe-signature": `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}` };
  if (v.scheme === "standard_webhooks") {
    const id = `msg_${randomUUID()}`;
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    return { "webhook-id": id, "webhook-timestamp": String(t), "webhook-signature": `v1,${createHmac("sha256", key).update(`${id}.${t}.${body}`).digest("base64")}` };
  }
  const msg = v.timestampHeader ? `${t}.${body}` : body;
  const sig = createHmac("sha256", secret).update(msg).digest(v.encoding === "base64" ? "base64" : "hex");
  return { [v.header]: `${v.prefix ?? ""}${sig}`, ...(v.timestampHeader ? { [v.timestampHeader]: String(t) } : {}) };
}

// the receiver: verifies every delivery with the public standardwebhooks library
const received = [];
let verifier = null;
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    let ok = false;
    try {
      verifier.verify(body, req.headers);
      ok = true;
    } catch {}
    received.push({ type: JSON.parse(body).type, verified: ok, id: req.headers["webhook-id"] });
    res.writeHead(ok ? 200 : 401).end();
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const sub = await call("POST", "/admin/subscriptions", { url: `http://127.0.0.1:${server.address().port}/hooks`, events: ["*"], description: "npm run demo receiver" });
if (sub.status !== 201) throw new Error(`subscription: ${sub.status} ${JSON.stringify(sub.body)}`);
verifier = new Webhook(sub.body.secret);

const R = randomUUID().slice(0, 8);
const bill = `DEMO-${R}`;
const claimId = `demo-claim-${R}`;
const patient = `Patient/demo-patient-${R}`;
const scrub = fixture("cair-claim-scrubber.json");
const claim = JSON.parse(scrub.output.ai_generated_x12_837);
Object.assign(claim, { id: claimId, patient: { ...claim.patient, reference: patient } });
claim.identifier[0].value = bill;
Object.assign(scrub.output, { claim_id: claimId, optimizer_run_id: `demo-run-${R}`, ai_generated_x12_837: JSON.stringify(claim) });
const remit = fixture("cair-claim-response.json");
Object.assign(remit.entry[0].resource, { id: `demo-remit-${R}`, request: { reference: `Claim/${claimId}`, type: "Claim" }, patient: { reference: patient } });
remit.entry[0].resource.item[0].adjudication.push({ category: { coding: [{ system: "https://x12.org/codes/claim-adjustment-group-codes", code: "PR" }] }, reason: { coding: [{ code: "2" }] }, amount: { value: 150.75, currency: "USD" } });
const denied = fixture("cair-claim-response.json");
Object.assign(denied.entry[0].resource, { id: `demo-denied-${R}`, outcome: "error", disposition: "Claim denied", request: { reference: `Claim/demo-denied-claim-${R}` } });
const cms = { ...fixture("healthie-cms1500.json"), id: `demo-cms-${R}` };
const status = { ...fixture("payor-claim-status.json"), claim_id: `CLM-DEMO-${R}`, timestamp: new Date().toISOString() };
const stripeEvent = { id: `evt_demo_${R}`, object: "event", type: "payment_intent.succeeded", created: Math.floor(Date.now() / 1000), data: { object: { id: `pi_demo_${R}`, object: "payment_intent", amount_received: 1000, currency: "usd", payment_method_types: ["card"], metadata: { billId: bill } } } };

const rows = [];
async function post(label, sourceId, payload) {
  const body = JSON.stringify(payload);
  const res = await call("POST", `/webhooks/${sourceId}`, body, signed(sourceId, body));
  rows.push({ label, answer: `${res.status}`, eventId: res.body.eventId });
  return res.body.eventId;
}
const processed = (id) => waitFor(async () => (await call("GET", `/admin/events/${id}`)).body.status === "processed", 60_000);

await processed(await post("Cair claim scrubber", "cair-scrubber", scrub));
await processed(await post("Cair ClaimResponse (approved)", "cair-remit", remit));
await post("Cair ClaimResponse (denied, HMAC)", "cair-remit-hmac", denied);
await post("Healthie CMS-1500 (Standard Webhooks)", "healthie-cms1500", cms);
await post("HCMS claim status (HMAC)", "payor-status", status);
await post("Stripe payment_intent.succeeded", "stripe", stripeEvent);
const hcms = await call("POST", "/api/claims/", { patient_name: "Demo Patient", insurance_id: "BC-789-456", diagnosis_code: "J20.9", procedure_code: "99213", amount: "1250.00" }, { "x-api-key": "dev-provider-key", "x-provider-id": "PROV-001", authorization: "" });
rows.push({ label: "HCMS claim submission", answer: `${hcms.status} ${hcms.body.status ?? hcms.body.error_code}`, eventId: hcms.body.claim?.claim_id });
await waitFor(async () => (await call("GET", "/admin/events?source=stripe&limit=5")).body.data.some((e) => e.status === "processed"), 60_000).catch(() => {});
const pay = await call("POST", "/api/webhooks/patient-payment", { billId: bill, paymentAmount: 200, paymentTraceId: `demo-pay-${R}`, paymentMethod: "card" }, { "x-api-key": source("patient-payments").secrets[0], authorization: "" });
// Both payments are dated today: the ledger fills the $150.75 by payment date, then trace id, whatever the
// arrival order, so which one's money becomes credit follows the ids (the totals do not).
rows.push({ label: "Patient payment $200 (owes $150.75; Stripe $10 the same day)", answer: `${pay.status} set ${pay.body.data?.amountSetOnClaim} excess ${pay.body.data?.excessAmount ?? 0}`, eventId: pay.body.data?.claimId });

const expected = ["CLAIMS_AI_OPTIMIZER", "CLAIMS_REMIT_APPROVED", "CLAIMS_REMIT_DENIED", "cms1500.created", "claim_status_update", "patient_payment.applied", "patient_credit.created"];
await waitFor(async () => expected.every((t) => received.some((r) => r.type === t)), 90_000).catch(() => {});

console.log("\nWhat was stored");
console.table(rows);
console.log("What the subscriber received (signatures checked with the standardwebhooks library)");
const byType = {};
for (const r of received) byType[r.type] = { deliveries: (byType[r.type]?.deliveries ?? 0) + 1, verified: (byType[r.type]?.verified ?? true) && r.verified };
console.table(byType);
const missing = expected.filter((t) => !byType[t]);
if (missing.length) console.log(`not delivered yet: ${missing.join(", ")} (see /console/deliveries)`);
server.close();
// the demo's receiver is gone: its subscription goes too, so later runs do not pile up failing ones
await call("DELETE", `/admin/subscriptions/${sub.body.id}`);
console.log(`\nConsole: ${base}/console (log in with ADMIN_TOKEN from .dev.vars: ${ADMIN})`);
if (started) {
  console.log("wrangler dev keeps running for the console; Ctrl-C to stop.");
  process.on("SIGINT", () => {
    started.stop();
    process.exit(0);
  });
  await new Promise(() => {});
}
