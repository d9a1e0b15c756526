// bench/ingest: signed seed ClaimResponse bundles (unique ids) → 202, beside GET /health measured with
// the same load before and after (target ≥ 0.6 of baseline throughput); then the duplicates storm:
// 1,000 concurrent POSTs of 50 distinct events → exactly 50 stored and 50 enqueued (checked in D1).
import { createHmac } from "node:crypto";
import { api, baseline, fixture, load, round, startWorker, strip, waitFor, writeResult } from "./lib.mjs";

const N = Number(process.env.BENCH_INGEST ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const STORM = 1000;
const DISTINCT = 50;
const SECRET = "bench-hmac-secret";

const { base, stop } = await startWorker(8797);
try {
  const src = await api(base, "POST", "/admin/sources", {
    id: "remit",
    kind: "cair.claim_response",
    verification: { scheme: "hmac_sha256", header: "x-signature", encoding: "hex", prefix: "sha256=", timestampHeader: "x-timestamp" },
    secrets: [SECRET],
  });
  if (src.status !== 201) throw new Error(JSON.stringify(src.body));
  // the storm has a source of its own, so its events can be counted through the admin API
  await api(base, "POST", "/admin/sources", { id: "storm", kind: "cair.claim_response", verification: src.body.verification, secrets: [SECRET] });
  const seed = fixture("cair-claim-response.json");
  const signed = (body) => {
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
    return { method: "POST", headers: { "content-type": "application/json", "x-signature": `sha256=${sig}`, "x-timestamp": String(t) }, body };
  };
  const bundle = (id) => {
    const b = structuredClone(seed);
    b.entry[0].resource.id = id;
    return JSON.stringify(b);
  };

  // the storm first, on a quiet queue: 20 copies of each of 50 events, all in flight at once
  const storm = await load({ count: STORM, concurrency: STORM, make: (i) => ({ url: `${base}/webhooks/storm`, init: signed(bundle(`bench-storm-${i % DISTINCT}`)) }) });
  const stormEvents = async () => (await api(base, "GET", "/admin/events?source=storm&limit=1000")).body.data;
  await waitFor(async () => (await stormEvents()).filter((e) => e.status === "processed").length >= DISTINCT, 120_000);
  await new Promise((r) => setTimeout(r, 3000)); // a second (wrong) enqueue would be consumed by now
  const all = await stormEvents();
  const stored = { stored: all.length, enqueued: all.filter((e) => e.enqueuedAt).length, consumed: all.reduce((n, e) => n + e.attempts, 0) };


  const before = await baseline(base, N, CONCURRENCY);
  const ingest = await load({ count: N, concurrency: CONCURRENCY, make: (i) => ({ url: `${base}/webhooks/remit`, init: signed(bundle(`bench-ingest-${i}`)) }) });
  const after = await baseline(base, N, CONCURRENCY);

  const baselineRps = (before.rps + after.rps) / 2;
  const ratio = round(ingest.rps / baselineRps);
  const result = {
    config: { requests: N, concurrency: CONCURRENCY, scheme: "hmac_sha256 with timestamp" },
    baseline: { before: strip(before), after: strip(after) },
    ingest: strip(ingest),
    ratio: { throughput: ratio, p50: round(ingest.p50 / ((before.p50 + after.p50) / 2)), target: 0.6, meetsTarget: ratio >= 0.6 },
    duplicatesStorm: {
      requests: STORM,
      distinct: DISTINCT,
      statuses: storm.statuses,
      stored: stored.stored,
      enqueued: stored.enqueued,
      consumerRuns: stored.consumed,
      exact: stored.stored === DISTINCT && stored.enqueued === DISTINCT && stored.consumed === DISTINCT,
    },
  };
  const file = writeResult("ingest", result);
  console.log(JSON.stringify({ ...result, file }, null, 2));
  if (!result.duplicatesStorm.exact) process.exitCode = 1;
} finally {
  stop();
}
