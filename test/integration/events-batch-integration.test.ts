import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { rows } from "../helpers/db";
import { remitFor } from "../helpers/fixtures";
import { project, remit, scrub } from "../helpers/lifecycle";

// The events consumer records a message batch's projected events in one D1 batch (issue 17, item 3). Its
// atomicity is per batch; one event D1 refuses must not hold the others back: they are tried alone.

let seq = 0;
async function store(payload: unknown, kind = "cair.claim_response"): Promise<string> {
  const id = `evt_batch_${Date.now().toString(36)}_${++seq}`;
  await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, 'test-remit', ?, ?, ?, '{}', ?)")
    .bind(id, kind, id, JSON.stringify(payload), new Date().toISOString())
    .run();
  return id;
}

async function consume(ids: string[]) {
  const batch = createMessageBatch("claimgate-events", ids.map((id) => ({ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { eventId: id } })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** D1 as it is (the helpers' rows() first flushes every lifecycle's outbox, which a test trigger may refuse). */
const d1 = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]) => (await env.DB.prepare(sql).bind(...params).all<T>()).results;
const statusOf = async (id: string) => (await d1<{ status: string; last_error: string | null }>("SELECT status, last_error FROM events WHERE id = ?", id))[0]!;

afterEach(async () => {
  await env.DB.prepare("DROP TRIGGER IF EXISTS refuse_one_event").run();
});

describe("events consumer: one D1 batch records the message batch", () => {
  it("every event of the batch ends processed with its domain event, once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await store(remitFor({ crId: `batch-cr-${seq}-${i}`, claimId: `batch-claim-${seq}-${i}` })));
    const result = await consume(ids);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(ids.map((id) => `m-${id}`).sort());
    for (const id of ids) {
      expect((await statusOf(id)).status).toBe("processed");
      expect(await rows("SELECT type FROM domain_events WHERE source_event_id = ?", id)).toEqual([{ type: "CLAIMS_REMIT_APPROVED" }]);
    }
  });

  it("an event whose record D1 refuses is retried alone; the rest of the batch is done", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await store(remitFor({ crId: `batch-cr-${seq}-${i}`, claimId: `batch-claim-${seq}-${i}` })));
    const refused = ids[2]!;
    await env.DB.prepare(
      `CREATE TRIGGER refuse_one_event BEFORE UPDATE OF status ON events WHEN NEW.id = '${refused}' AND NEW.status = 'processed' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
    ).run();
    const result = await consume(ids);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([`m-${refused}`]);
    for (const id of ids) {
      const event = await statusOf(id);
      if (id === refused) {
        expect(event.status).toBe("pending");
        expect(event.last_error).toContain("refused by the test");
        // what it produced was rolled back with its status: nothing half-recorded
        expect(await rows("SELECT id FROM domain_events WHERE source_event_id = ?", id)).toEqual([]);
      } else {
        expect(event.status).toBe("processed");
        expect(await rows("SELECT type FROM domain_events WHERE source_event_id = ?", id)).toHaveLength(1);
      }
    }
    // once D1 takes it, the retry finishes it
    await env.DB.prepare("DROP TRIGGER refuse_one_event").run();
    expect((await consume([refused])).retryMessages).toEqual([]);
    expect((await statusOf(refused)).status).toBe("processed");
    expect(await rows("SELECT id FROM domain_events WHERE source_event_id = ?", refused)).toHaveLength(1);
  });

  it("a lifecycle named by several events of the batch is reconciled after all of them, before any is processed", async () => {
    const billId = `BATCH-RC-${seq}`;
    await project("cair.claim_scrubber", scrub({ claimId: `c-${billId}`, billId, patient: `pt-${billId}`, created: "2024-10-01" }));
    const [lc] = await rows<{ id: string }>("SELECT id FROM claim_lifecycles WHERE bill_id = ?", billId);
    // three versions of one remit (same identifier, newer lastUpdated): the newest decides
    const ids = [];
    for (const [i, pr] of [3000, 1000, 2000].entries()) {
      ids.push(await store(remit({ id: `r-${billId}-${i}`, identifier: `REMIT-${billId}`, claimId: `c-${billId}`, patient: `pt-${billId}`, prCents: pr, lastUpdated: `2024-11-0${i + 1}T00:00:00Z` })));
    }
    expect((await consume(ids)).retryMessages).toEqual([]);
    // D1's figures as the object left them (no outbox flushed by the reader first)
    expect(await d1("SELECT responsibility_cents AS r FROM claim_lifecycles WHERE id = ?", lc!.id)).toEqual([{ r: 2000 }]);
    expect(await env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lc!.id)).outboxStatus()).toMatchObject({ pending: 0 });
    for (const id of ids) expect((await statusOf(id)).status).toBe("processed");
  });

  it("an event whose lifecycle fails to reconcile is retried, and is not processed; the batch's other lifecycles are done", async () => {
    const bills = [`BATCH-RF-A-${seq}`, `BATCH-RF-B-${seq}`];
    const lifecycles: string[] = [];
    for (const billId of bills) {
      await project("cair.claim_scrubber", scrub({ claimId: `c-${billId}`, billId, patient: `pt-${billId}`, created: "2024-10-01" }));
      lifecycles.push((await rows<{ id: string }>("SELECT id FROM claim_lifecycles WHERE bill_id = ?", billId))[0]!.id);
    }
    const [refusedEvent, okEvent] = [
      await store(remit({ id: `r-${bills[0]}`, claimId: `c-${bills[0]}`, patient: `pt-${bills[0]}`, prCents: 1500 })),
      await store(remit({ id: `r-${bills[1]}`, claimId: `c-${bills[1]}`, patient: `pt-${bills[1]}`, prCents: 2500 })),
    ];
    // D1 refuses the first lifecycle's new figures, which its reconcile writes (no object holds these
    // lifecycles, so the projection writes them itself: src/lifecycle/unheld.ts)
    await env.DB.prepare(`CREATE TRIGGER refuse_one_event BEFORE UPDATE OF responsibility_cents ON claim_lifecycles WHEN NEW.id = '${lifecycles[0]}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).run();
    const result = await consume([refusedEvent!, okEvent!]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([`m-${refusedEvent}`]);
    expect(await statusOf(refusedEvent!)).toMatchObject({ status: "pending" });
    expect((await statusOf(refusedEvent!)).last_error).toContain("refused by the test");
    expect(await d1("SELECT id FROM domain_events WHERE source_event_id = ?", refusedEvent)).toEqual([]);
    expect((await statusOf(okEvent!)).status).toBe("processed");
    expect(await d1("SELECT responsibility_cents AS r FROM claim_lifecycles WHERE id = ?", lifecycles[1])).toEqual([{ r: 2500 }]);
    // D1 takes it again: the retry reloads the facts, writes the figures and finishes the event
    await env.DB.prepare("DROP TRIGGER refuse_one_event").run();
    expect((await consume([refusedEvent!])).retryMessages).toEqual([]);
    expect((await statusOf(refusedEvent!)).status).toBe("processed");
    expect(await rows("SELECT responsibility_cents AS r FROM claim_lifecycles WHERE id = ?", lifecycles[0])).toEqual([{ r: 1500 }]);
  });
});
