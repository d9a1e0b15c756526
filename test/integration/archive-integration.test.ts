import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { archiveProcessedBodies, bodyKey, enforceRetention } from "../../src/ingest/archive";
import worker from "../../src/index";
import { admin, createSource, postWebhook } from "../helpers/api";
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
