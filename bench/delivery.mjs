// bench/delivery: deliveries per second from the deliveries consumer to a local receiver on loopback.
// Phase 1 is end to end (ingest → projection → fan-out → delivery); phase 2 replays every delivery in
// bulk, so the rate is the consumer's alone.
// The receiver's own count (and signature check) is the truth. GET /health of the same Worker, under the
// same concurrency, is the hello-world baseline measured in the same run.
import { createHmac } from "node:crypto";
import http from "node:http";
import { rmSync } from "node:fs";
import { api, baseline, countedConfig, d1RoundTrips, fixture, round, startWorker, waitFor, writeResult } from "./lib.mjs";

// A run's last partial batches wait out the queues' max_batch_timeout (1 s each for the events and the
// deliveries queue); at 300 events that tail was a third of the run (148.5 events/s delivered against 225
// once fanned out, same code). At 1,000 the two agreed within 1 % while a run took 4.4 s; once the
// pipeline got faster (stop 26) the 1 s tail was a quarter of a 1,000-event run again (247.7 delivered
// against 285 fanned out, same code), so a run is 3,000 events: the figure is throughput, not the tail.
const K = Number(process.env.BENCH_DELIVERIES ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const SECRET = "bench-secret";

let secretKey = null;
const got = new Map();
let first = null;
let last = null;
let badSignatures = 0;
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    const id = req.headers["webhook-id"];
    const expected = createHmac("sha256", secretKey).update(`${id}.${req.headers["webhook-timestamp"]}.${body}`).digest("base64");
    if (!String(req.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`)) badSignatures++;
    got.set(id, (got.get(id) ?? 0) + 1);
    first ??= performance.now();
    last = performance.now();
    res.writeHead(200).end("ok");
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const receiverUrl = `http://127.0.0.1:${server.address().port}/hooks`;

// the Worker with its D1 round trips counted (bench/counted-worker.ts): phase 1 reports them per event
const config = countedConfig();
const { base, stop } = await startWorker(8798, { config, extraVars: JSON.parse(process.env.BENCH_VARS ?? "{}") });
try {
  await api(base, "POST", "/admin/sources", { id: "remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  const sub = await api(base, "POST", "/admin/subscriptions", { url: receiverUrl, events: ["CLAIMS_REMIT_ALL"] });
  if (sub.status !== 201) throw new Error(JSON.stringify(sub.body));
  secretKey = Buffer.from(sub.body.secret.slice("whsec_".length), "base64");

  const before = await baseline(base, K, CONCURRENCY);
  const seed = fixture("cair-claim-response.json");
  await d1RoundTrips(base); // from here on
  const start = performance.now();
  // issue 17's end to end: ingest → projection → fan-out (every event's deliveries created and enqueued),
  // watched while the load runs; the receiver's count below goes one step further, to delivery
  const fannedOutSeconds = (async () => {
    for (;;) {
      const { fannedOut } = await (await fetch(`${base}/__bench/fanned-out`)).json();
      if (fannedOut >= K) return (performance.now() - start) / 1000;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const { load } = await import("./lib.mjs");
  const ingest = await load({
    count: K,
    concurrency: CONCURRENCY,
    make: (i) => {
      const b = structuredClone(seed);
      b.entry[0].resource.id = `bench-delivery-${i}`;
      b.entry[0].resource.request.reference = `Claim/bench-delivery-claim-${i}`;
      return { url: `${base}/webhooks/remit`, init: { method: "POST", headers: { "content-type": "application/json", "x-api-key": SECRET }, body: JSON.stringify(b) } };
    },
  });
  await waitFor(async () => got.size >= K, 300_000);
  const endToEnd = (performance.now() - start) / 1000;
  const toFanOut = await fannedOutSeconds;
  await new Promise((r) => setTimeout(r, 1000)); // the last deliveries' attempts recorded
  const roundTrips = await d1RoundTrips(base);
  const duplicates = [...got.values()].filter((n) => n > 1).length;

  // Phase 2, the consumer alone: every delivery is replayed at once (bulk replay by time range) and the
  // receiver times the second copies.
  const received = () => [...got.values()].reduce((a, b) => a + b, 0);
  const before2 = received();
  first = null;
  const replayStart = performance.now();
  let cursor = null;
  do {
    const r = await api(base, "POST", `/admin/subscriptions/${sub.body.id}/replay`, { since: "2000-01-01T00:00:00Z", until: new Date().toISOString(), status: ["delivered"], cursor });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    cursor = r.body.nextCursor;
  } while (cursor);
  await waitFor(async () => received() - before2 >= K, 300_000);
  const replaySeconds = (last - replayStart) / 1000;
  const after = await baseline(base, K, CONCURRENCY);

  const baselineRps = (before.rps + after.rps) / 2;
  const deliveriesPerSecond = round(K / replaySeconds);
  const result = {
    config: { deliveries: K, concurrency: CONCURRENCY },
    baseline: { before, after },
    ingest,
    delivery: {
      received: got.size,
      duplicatesInPhase1: duplicates,
      badSignatures,
      // ingest → projection → fan-out (issue 17's "events projected and fanned out per second")
      fannedOutSeconds: round(toFanOut),
      fannedOutPerSecond: round(K / toFanOut),
      // … → delivery received and signature-checked by the receiver
      endToEndSeconds: round(endToEnd),
      endToEndPerSecond: round(K / endToEnd),
      // every D1 round trip of phase 1 (ingest, projection, fan-out, delivery), per event
      d1RoundTripsPerEvent: round(roundTrips.total / K),
      d1RoundTrips: roundTrips.bySql,
      consumerSeconds: round(replaySeconds),
      deliveriesPerSecond,
    },
    ratio: { deliveriesToBaseline: round(deliveriesPerSecond / baselineRps) },
  };
  const file = writeResult("delivery", result);
  console.log(JSON.stringify({ ...result, file }, null, 2));
  if (got.size !== K || badSignatures > 0) process.exitCode = 1;
} finally {
  stop();
  server.close();
  rmSync(config, { force: true });
}
