import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { countingD1 } from "../helpers/d1-count";
import { project, remit, scrub } from "../helpers/lifecycle";
import { claimOfBill, findClaimByIdentifier } from "../../src/claims/read";
import { CLAIM_ID_SYSTEM } from "../../src/claims/resolve";
import { database } from "../../src/db/client";

// D1 round trips are the projection path's cost (bench/round-trip-cost.mjs: one costs about an empty
// request here), so the events consumer's count for the common cases is pinned: a change that adds one
// shows up here, not only in a benchmark. Counted on the real binding, under the consumer's coalescing
// (every statement's first/all/run/raw and every batch D1 receives is one round trip); the lifecycle
// objects' own calls use their own binding.

let seq = 0;
/** Stores the remits as ingest would, then has the events consumer take them as one message batch, counted. */
async function consumeCounted(payloads: unknown[]) {
  const ids: string[] = [];
  for (const payload of payloads) {
    const id = `evt_rt_${Date.now().toString(36)}_${++seq}`;
    await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, 'test-remit', 'cair.claim_response', ?, ?, '{}', ?)")
      .bind(id, id, JSON.stringify(payload), new Date().toISOString())
      .run();
    ids.push(id);
  }
  const { db, calls } = countingD1(env.DB);
  const batch = createMessageBatch("claimgate-events", ids.map((id) => ({ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { eventId: id } })));
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, DB: db }, ctx);
  expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([]);
  return calls;
}

describe("D1 round trips of the events consumer", () => {
  it("a remit on a claim already known: seven, two of them its own", async () => {
    await project("cair.claim_scrubber", scrub({ claimId: "rt-known", billId: "RT-KNOWN", patient: "rt-pt", created: "2024-10-01" }));
    const calls = await consumeCounted([remit({ id: "rt-known-r", claimId: "rt-known", patient: "rt-pt", prCents: 1200 })]);
    expect(calls).toEqual([
      'update "events" set "attempts" = "events', // load the batch's events
      'batch of 2: insert into "patients" ("id", "system", ', // claim resolution: patient, the keys' claims (with their patients); no bill named, none read
      'batch of 4: select "status", "status_at" from "claim', // the remit's row, its status history and the status change
      'batch of 5: update "claim_lifecycles" set "facts_ver', // the batch's lifecycles no object holds: bumped, row and money flags, facts reloaded
      'batch of 1: update "claim_lifecycles" set "responsib', // … and their figures written
      'batch of 2: insert into "domain_events" ("id", "type', // what each event produced, and its processed status
      'batch of 3: update "domain_events" set "fanned_out_a', // fan-out: claim the events, the subscriptions, anything left
    ]);
  });

  it("a remit of a claim not seen yet: one more, to create it", async () => {
    const calls = await consumeCounted([remit({ id: "rt-new-r", claimId: "rt-new", patient: "rt-pt-new", prCents: 1200 })]);
    expect(calls.filter((c) => c.startsWith("batch of 3: insert into \"claims\""))).toHaveLength(1);
    expect(calls).toHaveLength(8);
  });

  it("five remits of known claims in one message batch: the same seven round trips as one remit", async () => {
    const remits = [];
    for (let i = 0; i < 5; i++) {
      await project("cair.claim_scrubber", scrub({ claimId: `rt-five-${i}`, billId: `RT-FIVE-${i}`, patient: `rt-five-pt-${i}`, created: "2024-10-01" }));
      remits.push(remit({ id: `rt-five-r-${i}`, claimId: `rt-five-${i}`, patient: `rt-five-pt-${i}`, prCents: 1000 + i }));
    }
    const calls = await consumeCounted(remits);
    // the projections run at once, and each step's batches go to D1 together (src/db/coalesce.ts)
    expect(calls).toEqual([
      'update "events" set "attempts" = "events',
      'batch of 10: insert into "patients" ("id", "system", ',
      'batch of 20: select "status", "status_at" from "claim',
      'batch of 25: update "claim_lifecycles" set "facts_ver',
      'batch of 5: update "claim_lifecycles" set "responsib',
      'batch of 10: insert into "domain_events" ("id", "type',
      'batch of 3: update "domain_events" set "fanned_out_a',
    ]);
  });
});

describe("D1 round trips of a payment", () => {
  it("a bill its isolate has not seen yet: one round trip finds its lifecycle, the same one the claim it names is in", async () => {
    await project("cair.claim_scrubber", scrub({ claimId: "rt-bill", billId: "RT-BILL", patient: "rt-bill-pt", created: "2024-10-01" }));
    await project("cair.claim_scrubber", scrub({ claimId: "rt-bill-only", billId: "RT-BILL-ONLY", patient: "rt-bill-only-pt", created: "2024-10-01" }));
    // a lifecycle whose bill no claim carries as its identifier: the lifecycle's latest claim names it
    await env.DB.prepare("DELETE FROM claim_identifiers WHERE system = ? AND value = 'RT-BILL-ONLY'").bind(CLAIM_ID_SYSTEM).run();
    const lifecycleOfClaim = async (bill: string) => {
      const claimId = await findClaimByIdentifier(database(env.DB), CLAIM_ID_SYSTEM, bill);
      if (!claimId) return null;
      return (await env.DB.prepare("SELECT claim_lifecycle_id AS id FROM claims WHERE id = ?").bind(claimId).first<{ id: string }>())!.id;
    };
    for (const bill of ["RT-BILL", "RT-BILL-ONLY", "RT-NO-SUCH-BILL"]) {
      const { db, calls } = countingD1(env.DB);
      const found = (await claimOfBill(database(db), bill))?.lifecycleId ?? null;
      expect(calls).toHaveLength(1);
      expect(found).toBe(await lifecycleOfClaim(bill));
      if (bill !== "RT-NO-SUCH-BILL") expect(found).toMatch(/./);
    }
  });
});
