import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { rows } from "../helpers/db";
import { remitFor } from "../helpers/fixtures";

// The events consumer records a message batch's projected events in one D1 batch (issue 17, item 3). Its
// atomicity is per batch; one event D1 refuses must not hold the others back: they are tried alone.

let seq = 0;
async function store(payload: unknown): Promise<string> {
  const id = `evt_batch_${Date.now().toString(36)}_${++seq}`;
  await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, 'test-remit', 'cair.claim_response', ?, ?, '{}', ?)")
    .bind(id, id, JSON.stringify(payload), new Date().toISOString())
    .run();
  return id;
}

async function consume(ids: string[]) {
  const batch = createMessageBatch("claimgate-events", ids.map((id) => ({ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { eventId: id } })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const statusOf = async (id: string) => (await rows<{ status: string; last_error: string | null }>("SELECT status, last_error FROM events WHERE id = ?", id))[0]!;

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
});
