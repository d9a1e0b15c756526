import { and, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { chunk, nowIso } from "../db/client";
import { domainEvents, events, sources } from "../db/schema";
import type { Env } from "../env";
import { log } from "../log";

/**
 * Storage that grows with the work, not with history (issue 17). A raw body is needed in D1 while its
 * event can still be projected or reprocessed (pending, invalid, failed); once the event is processed it
 * is only read by an operator. So the sweep moves processed bodies to R2 (BODIES) and D1 keeps the
 * metadata and the object key; a source's `retentionDays` later deletes the archived body (the event row,
 * what it produced and the audit trail stay).
 *
 * Each step is safe to repeat: the R2 key is a function of the event, so a put that ran before a crash is
 * simply overwritten; D1 forgets the body only in the statement that records the key, and only for a row
 * still processed and unarchived.
 */

/** Bodies archived per sweep (well under D1's 100 bound parameters per statement for the updates). */
const ARCHIVE_BATCH = 50;
/** Archived bodies deleted per source per sweep (R2 deletes up to 1,000 keys per call). */
const RETENTION_BATCH = 500;

/** `events/<source>/<yyyy-mm-dd received>/<event id>.json`: listable per source and day. */
export const bodyKey = (e: { id: string; sourceId: string; receivedAt: string }) => `events/${e.sourceId}/${e.receivedAt.slice(0, 10)}/${e.id}.json`;

/** Moves processed bodies to R2, batch after batch (at most `batches` per sweep); returns how many moved. */
export async function archiveProcessedBodies(env: Env, db: Db, batches = 20): Promise<number> {
  let moved = 0;
  for (let i = 0; i < batches; i++) {
    const n = await archiveBatch(env, db, ARCHIVE_BATCH);
    moved += n;
    if (n < ARCHIVE_BATCH) break;
  }
  return moved;
}

async function archiveBatch(env: Env, db: Db, limit: number): Promise<number> {
  const due = await db
    .select({ id: events.id, sourceId: events.sourceId, receivedAt: events.receivedAt, body: events.body })
    .from(events)
    .where(and(eq(events.status, "processed"), isNull(events.bodyKey), isNull(events.bodyDeletedAt)))
    .orderBy(events.receivedAt)
    .limit(limit);
  if (due.length === 0) return 0;
  await Promise.all(due.map((e) => env.BODIES.put(bodyKey(e), e.body, { httpMetadata: { contentType: "application/json" }, customMetadata: { eventId: e.id, sourceId: e.sourceId } })));
  const at = nowIso();
  await db.batch(
    due.map((e) =>
      db
        .update(events)
        .set({ body: "", bodyKey: bodyKey(e) })
        .where(and(eq(events.id, e.id), eq(events.status, "processed"), isNull(events.bodyKey))),
    ) as [never, ...never[]],
  );
  log.info("archive.moved", { events: due.length, at });
  return due.length;
}

/**
 * Deletes archived bodies older than their source's retentionDays, and the archived payloads of the domain
 * events those events produced (the same partner data); returns how many objects. (A payload still in D1,
 * its delivery pending past the retention, waits for it.)
 */
export async function enforceRetention(env: Env, db: Db, now = Date.now()): Promise<number> {
  const kept = await db.select({ id: sources.id, days: sources.retentionDays }).from(sources).where(isNotNull(sources.retentionDays));
  let deleted = 0;
  for (const source of kept) {
    const cutoff = new Date(now - source.days! * 86_400_000).toISOString();
    const bodies = await db
      .select({ id: events.id, key: events.bodyKey })
      .from(events)
      .where(and(eq(events.sourceId, source.id), isNotNull(events.bodyKey), lt(events.receivedAt, cutoff)))
      .limit(RETENTION_BATCH);
    deleted += await deleteArchived(env, bodies, (ids, at) => db.update(events).set({ bodyKey: null, bodyDeletedAt: at }).where(inArray(events.id, ids)));
    const payloads = await db
      .select({ id: domainEvents.id, key: domainEvents.payloadKey })
      .from(domainEvents)
      .innerJoin(events, eq(events.id, domainEvents.sourceEventId))
      .where(and(eq(events.sourceId, source.id), isNotNull(domainEvents.payloadKey), lt(events.receivedAt, cutoff)))
      .limit(RETENTION_BATCH);
    deleted += await deleteArchived(env, payloads, (ids, at) => db.update(domainEvents).set({ payloadKey: null, payloadDeletedAt: at }).where(inArray(domainEvents.id, ids)));
    if (bodies.length || payloads.length) log.info("archive.retention_deleted", { sourceId: source.id, events: bodies.length, domainEvents: payloads.length, retentionDays: source.days });
  }
  return deleted;
}

/** Deletes the rows' objects from R2, then records that on the rows (a few ids per statement); returns how many. */
async function deleteArchived(env: Env, rows: { id: string; key: string | null }[], record: (ids: string[], at: string) => Promise<unknown>): Promise<number> {
  if (rows.length === 0) return 0;
  await env.BODIES.delete(rows.map((r) => r.key!));
  const at = nowIso();
  for (const ids of chunk(rows.map((r) => r.id), 90)) await record(ids, at);
  return rows.length;
}

export type StoredBody = { kind: "body"; text: string } | { kind: "deleted"; at: string } | { kind: "missing" };

/** An event's raw body wherever it lives: D1 until archived, then R2, gone after retention. */
export async function readEventBody(env: Env, e: { body: string; bodyKey: string | null; bodyDeletedAt: string | null }): Promise<StoredBody> {
  if (e.bodyDeletedAt) return { kind: "deleted", at: e.bodyDeletedAt };
  if (!e.bodyKey) return { kind: "body", text: e.body };
  const object = await env.BODIES.get(e.bodyKey);
  return object ? { kind: "body", text: await object.text() } : { kind: "missing" };
}

/** `domain-events/<yyyy-mm-dd occurred>/<domain event id>.json`. */
export const payloadKey = (e: { id: string; occurredAt: string }) => `domain-events/${e.occurredAt.slice(0, 10)}/${e.id}.json`;

/**
 * A domain event's payload is the subscriber-facing `data`, for partner events their body again: once the
 * archive has moved a processed body out of D1, D1 still held this copy of it. So a domain event that is
 * fanned out and has no delivery pending has its payload moved to R2 too, under the same rules as bodies
 * (the put first, then D1 forgets the payload only in the statement that records the key, for a row still
 * unarchived). A replay or a thin subscriber's fetch reads it from R2 (readDomainEventPayload); a delivery
 * still pending keeps it in D1, so a first send never waits on R2. Returns how many moved.
 */
export async function archiveDomainEventPayloads(env: Env, db: Db, batches = 20): Promise<number> {
  let moved = 0;
  for (let i = 0; i < batches; i++) {
    const due = await db
      .select({ id: domainEvents.id, occurredAt: domainEvents.occurredAt, payload: domainEvents.payload })
      .from(domainEvents)
      .where(and(isNotNull(domainEvents.fannedOutAt), isNull(domainEvents.payloadKey), isNull(domainEvents.payloadDeletedAt), noDeliveryPending))
      .orderBy(domainEvents.occurredAt)
      .limit(ARCHIVE_BATCH);
    if (due.length === 0) break;
    await Promise.all(due.map((e) => env.BODIES.put(payloadKey(e), e.payload, { httpMetadata: { contentType: "application/json" }, customMetadata: { domainEventId: e.id } })));
    await db.batch(
      due.map((e) =>
        db
          .update(domainEvents)
          .set({ payload: "", payloadKey: payloadKey(e) })
          // (a delivery made pending since, by a replay, still finds the payload: it is in R2 now)
          .where(and(eq(domainEvents.id, e.id), isNull(domainEvents.payloadKey))),
      ) as [never, ...never[]],
    );
    moved += due.length;
    log.info("archive.payloads_moved", { domainEvents: due.length });
    if (due.length < ARCHIVE_BATCH) break;
  }
  return moved;
}

// (written out: drizzle leaves a single-table select's columns unqualified, and inside the subquery "id"
// would be the delivery's own)
const noDeliveryPending = sql`NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.domain_event_id = domain_events.id AND d.status = 'pending')`;

export type StoredPayload = { kind: "payload"; text: string } | { kind: "missing" };

/** A domain event's payload wherever it lives: D1 until archived, then R2, gone after its source's retention. */
export async function readDomainEventPayload(env: Env, e: { payload: string; payloadKey: string | null; payloadDeletedAt: string | null }): Promise<StoredPayload> {
  if (e.payloadDeletedAt) return { kind: "missing" };
  if (!e.payloadKey) return { kind: "payload", text: e.payload };
  const object = await env.BODIES.get(e.payloadKey);
  return object ? { kind: "payload", text: await object.text() } : { kind: "missing" };
}
