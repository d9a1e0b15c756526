import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { archiveDomainEventPayloads, archiveProcessedBodies, bodyKey, enforceRetention, payloadKey } from "../../src/ingest/archive";
import worker from "../../src/index";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { eventually, rows } from "../helpers/db";
import { remitBundle } from "../helpers/fixtures";

// Issue 17: raw bodies leave D1 once their event is processed (R2 keeps them, D1 the key and the
// metadata), reads fetch them back transparently, and a source's retentionDays deletes them later.

const SECRET = "archive-secret";
const db = () => database(env.DB);
const processedEvent = async (source: string, id: string) => {
  const body = JSON.stringify(remitBundle((cr) => ((cr.id = id), (cr.request.reference = `Claim/${id}-claim`))));
  const res = await postWebhook(source, body, { "x-api-key": SECRET });
  expect(res.status).toBe(202);
  await eventually(async () => (await rows<any>("SELECT status FROM events WHERE id = ?", res.body.eventId))[0]?.status === "processed");
  return { eventId: res.body.eventId as string, body };
};

beforeAll(async () => {
  await createSource({ id: "arch-keep", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  await createSource({ id: "arch-short", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET], retentionDays: 7 });
});

describe("archiving processed bodies to R2", () => {
  it("moves a processed body to R2, empties it in D1, and GET /admin/events/:id still shows it", async () => {
    const { eventId, body } = await processedEvent("arch-keep", "arch-1");
    // an invalid event (its body is still needed for reprocessing) stays in D1
    const invalid = await postWebhook("arch-keep", JSON.stringify({ resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "ClaimResponse" } }] }), { "x-api-key": SECRET });
    expect(invalid.status).toBe(422);

    expect(await archiveProcessedBodies(env, db())).toBeGreaterThanOrEqual(1);
    const [row] = await rows<any>("SELECT body, body_key, status FROM events WHERE id = ?", eventId);
    expect(row.body).toBe("");
    expect(row.status).toBe("processed");
    const [meta] = await rows<any>("SELECT received_at AS receivedAt, source_id AS sourceId FROM events WHERE id = ?", eventId);
    expect(row.body_key).toBe(bodyKey({ id: eventId, ...meta }));
    expect(await (await env.BODIES.get(row.body_key))!.text()).toBe(body);
    const [kept] = await rows<any>("SELECT body, body_key FROM events WHERE id = ?", invalid.body.error.eventId);
    expect(kept.body_key).toBeNull();
    expect(kept.body.length).toBeGreaterThan(0);

    const shown = await admin("GET", `/admin/events/${eventId}`);
    expect(shown.status).toBe(200);
    expect(shown.body.payload).toEqual(JSON.parse(body));
    expect(shown.body.bodyKey).toBe(row.body_key);

    // a second sweep finds nothing more to move and changes nothing
    await archiveProcessedBodies(env, db());
    expect((await rows<any>("SELECT body, body_key FROM events WHERE id = ?", eventId))[0]).toEqual({ body: "", body_key: row.body_key });
  });

  it("the cron sweep archives too", async () => {
    const { eventId } = await processedEvent("arch-keep", "arch-cron");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await rows<any>("SELECT body_key FROM events WHERE id = ?", eventId))[0].body_key).toMatch(/^events\/arch-keep\//);
  });
});

describe("retentionDays", () => {
  it("deletes archived bodies older than the source's retention; the event and what it produced stay", async () => {
    const old = await processedEvent("arch-short", "arch-old");
    const recent = await processedEvent("arch-short", "arch-recent");
    const keep = await processedEvent("arch-keep", "arch-keep-old");
    await archiveProcessedBodies(env, db());
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await env.DB.prepare("UPDATE events SET received_at = ? WHERE id IN (?, ?)").bind(tenDaysAgo, old.eventId, keep.eventId).run();
    const [oldRow] = await rows<any>("SELECT body_key FROM events WHERE id = ?", old.eventId);

    expect(await enforceRetention(env, db())).toBe(1);
    expect(await env.BODIES.get(oldRow.body_key)).toBeNull();
    const [after] = await rows<any>("SELECT status, body, body_key, body_deleted_at FROM events WHERE id = ?", old.eventId);
    expect(after).toMatchObject({ status: "processed", body: "", body_key: null });
    expect(after.body_deleted_at).toMatch(/^\d{4}-/);
    const shown = await admin("GET", `/admin/events/${old.eventId}`);
    expect(shown.status).toBe(200);
    expect(shown.body.payload).toBeUndefined();
    expect(shown.body.bodyDeletedAt).toBe(after.body_deleted_at);
    expect(shown.body.produced.length).toBeGreaterThan(0); // what it produced stays
    // a recent event of the same source, and an old one of a source without retention, keep their bodies
    expect((await admin("GET", `/admin/events/${recent.eventId}`)).body.payload).toEqual(JSON.parse(recent.body));
    expect((await admin("GET", `/admin/events/${keep.eventId}`)).body.payload).toEqual(JSON.parse(keep.body));
    // deleted once: nothing left to delete
    expect(await enforceRetention(env, db())).toBe(0);
  });

  it("is set per source through the admin API (1–36500 days or null)", async () => {
    expect((await admin("GET", "/admin/sources/arch-short")).body.retentionDays).toBe(7);
    expect((await admin("PATCH", "/admin/sources/arch-short", { retentionDays: 30 })).body.retentionDays).toBe(30);
    expect((await admin("PATCH", "/admin/sources/arch-short", { retentionDays: null })).body.retentionDays).toBeNull();
    const bad = await admin("PATCH", "/admin/sources/arch-short", { retentionDays: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe("retentionDays");
    expect((await admin("PATCH", "/admin/sources/arch-short", { retentionDays: 1.5 })).status).toBe(422);
  });
});

describe("archiving domain event payloads to R2", () => {
  const received = async (key: string): Promise<{ body: string }[]> => (await fetch(`https://receiver.test/__log/${key}`)).json();
  let seq = 0;
  /** A fanned-out domain event with one delivery to `key`'s receiver, pending (not yet sent). */
  const pendingDelivery = async (subscriptionId: string, payload: string) => {
    const tag = `${subscriptionId}-${++seq}`;
    const now = new Date().toISOString();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO domain_events (id, type, source_event_id, payload, occurred_at, fanned_out_at) VALUES (?, 'claim.remit.received', ?, ?, ?, ?)").bind(`dev_${tag}`, `src_${tag}`, payload, now, now),
      env.DB.prepare("INSERT INTO deliveries (id, subscription_id, domain_event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, 'claim.remit.received', 'pending', ?, ?)").bind(`dlv_${tag}`, subscriptionId, `dev_${tag}`, now, now),
    ]);
    return { deliveryId: `dlv_${tag}`, domainEventId: `dev_${tag}` };
  };
  const consume = async (ids: string[]) => {
    const batch = createMessageBatch("claimgate-deliveries", ids.map((id) => ({ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { deliveryId: id } })));
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };
  const dataOf = (body: string) => JSON.parse(body).data;

  it("moves a payload once no delivery of it is pending; a replay sends the same data from R2", async () => {
    const sub = (await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/dev-archive/ok", events: ["*"] })).body;
    const payload = JSON.stringify({ resourceType: "Bundle", note: "the partner's body" });
    const sent = await pendingDelivery(sub.id, payload);
    const waiting = await pendingDelivery(sub.id, JSON.stringify({ still: "pending" }));
    await consume([sent.deliveryId]);
    expect((await rows<any>("SELECT status FROM deliveries WHERE id = ?", sent.deliveryId))[0].status).toBe("delivered");

    expect(await archiveDomainEventPayloads(env, db())).toBeGreaterThanOrEqual(1);
    const [moved] = await rows<any>("SELECT payload, payload_key, occurred_at FROM domain_events WHERE id = ?", sent.domainEventId);
    expect(moved.payload).toBe("");
    expect(moved.payload_key).toBe(payloadKey({ id: sent.domainEventId, occurredAt: moved.occurred_at }));
    expect(await (await env.BODIES.get(moved.payload_key))!.text()).toBe(payload);
    // a domain event with a delivery still pending keeps its payload in D1 (a first send never waits on R2)
    expect((await rows<any>("SELECT payload, payload_key FROM domain_events WHERE id = ?", waiting.domainEventId))[0]).toEqual({ payload: JSON.stringify({ still: "pending" }), payload_key: null });

    expect((await admin("POST", `/admin/deliveries/${sent.deliveryId}/replay`)).status).toBe(202);
    // (the subscription takes every type, so other events of this file may reach the receiver too)
    const copies = await eventually(async () => {
      const got = (await received("dev-archive")).filter((c) => JSON.stringify(dataOf(c.body)) === payload);
      return got.length >= 2 ? got : null;
    });
    expect(copies).toHaveLength(2);
    // the replay's body, its data read from R2, is the first send's byte for byte
    expect(copies[1]!.body).toBe(copies[0]!.body);
  });

  it("a thin subscriber's fetch reads an archived payload from R2", async () => {
    const sub = (await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/dev-thin/ok", events: ["*"], payload: "thin" })).body;
    const payload = JSON.stringify({ thin: "fetched later" });
    const d = await pendingDelivery(sub.id, payload);
    await consume([d.deliveryId]);
    await archiveDomainEventPayloads(env, db());
    expect((await rows<any>("SELECT payload FROM domain_events WHERE id = ?", d.domainEventId))[0].payload).toBe("");
    const fetched = await call("GET", `/api/deliveries/${d.deliveryId}/payload`, { headers: { authorization: `Bearer ${sub.fetchToken}` } });
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(JSON.parse(payload));
  });

  it("a source's retentionDays deletes the archived payloads of what its old events produced, with their bodies", async () => {
    await createSource({ id: "arch-payloads", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET], retentionDays: 7 });
    const old = await processedEvent("arch-payloads", "arch-payload-old");
    const recent = await processedEvent("arch-payloads", "arch-payload-recent");
    // fanned out, and their deliveries to this file's subscriptions sent (a pending one keeps a payload in D1)
    const unsettled = async () =>
      (
        await rows<any>(
          "SELECT (SELECT count(*) FROM domain_events WHERE source_event_id IN (?1, ?2) AND fanned_out_at IS NULL) + (SELECT count(*) FROM deliveries d JOIN domain_events e ON e.id = d.domain_event_id WHERE e.source_event_id IN (?1, ?2) AND d.status = 'pending') AS n",
          old.eventId,
          recent.eventId,
        )
      )[0].n;
    await eventually(async () => (await unsettled()) === 0);
    await archiveProcessedBodies(env, db());
    await archiveDomainEventPayloads(env, db());
    await env.DB.prepare("UPDATE events SET received_at = ? WHERE id = ?").bind(new Date(Date.now() - 10 * 86_400_000).toISOString(), old.eventId).run();
    const [before] = await rows<any>("SELECT payload_key FROM domain_events WHERE source_event_id = ?", old.eventId);
    expect(before.payload_key).toMatch(/^domain-events\//);

    expect(await enforceRetention(env, db())).toBeGreaterThanOrEqual(2); // its body and its domain event's payload
    expect(await env.BODIES.get(before.payload_key)).toBeNull();
    const [gone] = await rows<any>("SELECT payload, payload_key, payload_deleted_at FROM domain_events WHERE source_event_id = ?", old.eventId);
    expect(gone).toMatchObject({ payload: "", payload_key: null });
    expect(gone.payload_deleted_at).toMatch(/^\d{4}-/);
    // the recent event's payload stays archived, readable
    const [kept] = await rows<any>("SELECT payload_key FROM domain_events WHERE source_event_id = ?", recent.eventId);
    expect(JSON.parse((await (await env.BODIES.get(kept.payload_key))!.text())!)).toEqual(JSON.parse(recent.body));
    // a sweep after retention moves nothing back: a deleted payload is not archived again
    await archiveDomainEventPayloads(env, db());
    expect((await rows<any>("SELECT payload_key FROM domain_events WHERE source_event_id = ?", old.eventId))[0].payload_key).toBeNull();
  });

  it("a payload gone from R2 ends its delivery dead with PAYLOAD_GONE, nothing sent", async () => {
    const sub = (await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/dev-gone/ok", events: ["*"] })).body;
    const d = await pendingDelivery(sub.id, JSON.stringify({ a: 1 }));
    await env.DB.prepare("UPDATE domain_events SET payload = '', payload_key = 'domain-events/none/missing.json' WHERE id = ?").bind(d.domainEventId).run();
    const result = await consume([d.deliveryId]);
    expect(result.retryMessages).toEqual([]);
    const [row] = await rows<any>("SELECT status, last_error FROM deliveries WHERE id = ?", d.deliveryId);
    expect(row).toEqual({ status: "dead", last_error: "PAYLOAD_GONE: the event's payload is no longer stored" });
    expect((await received("dev-gone")).filter((c) => JSON.stringify(dataOf(c.body)) === JSON.stringify({ a: 1 }))).toEqual([]);
  });
});
