import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { newId } from "../crypto/ids";
import type { Db } from "../db/client";
import { chunk, nowIso } from "../db/client";
import { claims, deliveries, domainEvents, subscriptions } from "../db/schema";
import type { Env } from "../env";
import { errorText, log } from "../log";
import { byKeys } from "../order";
import { wantsEvent } from "./filters";

const BATCH = 50;

/**
 * The fan-out outbox: domain events not yet fanned out are claimed (fanned_out_at set where it is still
 * NULL, so concurrent fan-outs never split one event), one delivery row per matching active subscription
 * is inserted idempotently (domain event + subscription is unique), and only newly inserted deliveries are
 * sent to the deliveries queue. `olderThanSeconds` lets the cron sweep pick up what a crash left behind.
 * Returns how many deliveries were created.
 */
export async function fanOut(env: Env, db: Db, olderThanSeconds = 0): Promise<number> {
  let created = 0;
  for (let round = 0; round < 20; round++) {
    const cutoff = new Date(Date.now() - olderThanSeconds * 1000 + 1).toISOString();
    // the oldest unclaimed events, claimed in the same statement (one round trip); a concurrent fan-out
    // that claimed some of them first leaves them out of RETURNING
    const unclaimed = and(isNull(domainEvents.fannedOutAt), lt(domainEvents.occurredAt, cutoff));
    const candidates = db.select({ id: domainEvents.id }).from(domainEvents).where(unclaimed).orderBy(asc(domainEvents.occurredAt), asc(domainEvents.id)).limit(BATCH);
    // ... and, in the same round trip, the active subscriptions and whether any event is left unclaimed
    // after this pass (so the last pass is not an empty one)
    const [claimedRows, subs, left] = await db.batch([
      db
        .update(domainEvents)
        .set({ fannedOutAt: nowIso() })
        .where(and(inArray(domainEvents.id, candidates), isNull(domainEvents.fannedOutAt)))
        .returning(claimedColumns),
      db.select().from(subscriptions).where(eq(subscriptions.active, true)),
      db.select({ id: domainEvents.id }).from(domainEvents).where(unclaimed).limit(1),
    ]);
    const claimed = claimedRows.sort(byKeys((e) => e.occurredAt, (e) => e.id));
    if (claimed.length > 0) {
      try {
        created += await createDeliveries(env, db, claimed, subs);
      } catch (e) {
        await db.update(domainEvents).set({ fannedOutAt: null }).where(inArray(domainEvents.id, claimed.map((c) => c.id)));
        log.error("fanout.failed", { count: claimed.length, error: errorText(e) });
        throw e;
      }
    }
    if (left.length === 0) break;
  }
  return created;
}

/**
 * What fan-out reads of the events it claims. The payload only of a subscription's own notice (fan-out
 * keeps it from that subscription by the id in it): every other payload was sent back from D1 for
 * nothing, up to 50 of them per pass, on every flush and projection that recorded events.
 */
const claimedColumns = {
  id: domainEvents.id,
  type: domainEvents.type,
  claimId: domainEvents.claimId,
  lifecycleId: domainEvents.lifecycleId,
  occurredAt: domainEvents.occurredAt,
  notice: sql<string | null>`CASE WHEN ${domainEvents.type} LIKE 'subscription.%' THEN ${domainEvents.payload} END`,
};
type ClaimedEvent = { id: string; type: string; claimId: string | null; lifecycleId: string | null; occurredAt: string; notice: string | null };

async function createDeliveries(env: Env, db: Db, events: ClaimedEvent[], subs: (typeof subscriptions.$inferSelect)[]): Promise<number> {
  if (subs.length === 0) return 0;
  const claimIds = [...new Set(events.map((e) => e.claimId).filter((c): c is string => !!c))];
  const claimRows = claimIds.length && subs.some((s) => s.providerId || s.payerId)
    ? await db.select({ id: claims.id, providerId: claims.providerId, payerId: claims.payerId }).from(claims).where(inArray(claims.id, claimIds))
    : [];
  const claimById = new Map(claimRows.map((c) => [c.id, c]));

  const now = nowIso();
  const rows: (typeof deliveries.$inferInsert)[] = [];
  for (const e of events) {
    for (const s of subs) {
      if (!wantsEvent(JSON.parse(s.events) as string[], e.type)) continue;
      // a subscription's own failing/disabled notice goes to the others: it cannot take it anyway
      if (e.notice?.includes(`"subscriptionId":"${s.id}"`)) continue;
      const claim = e.claimId ? claimById.get(e.claimId) : undefined;
      if (s.providerId && claim?.providerId !== s.providerId) continue;
      if (s.payerId && claim?.payerId !== s.payerId) continue;
      rows.push({
        id: newId("msg"),
        subscriptionId: s.id,
        domainEventId: e.id,
        eventType: e.type,
        lifecycleId: e.lifecycleId,
        createdAt: now,
        updatedAt: now,
      });
    }
  }
  if (rows.length === 0) return 0;
  // 8 rows per statement (D1's 100 bound parameters), every statement in one round trip
  const inserts = chunk(rows, 8).map((part) => db.insert(deliveries).values(part).onConflictDoNothing().returning({ id: deliveries.id }));
  const inserted = ((await db.batch(inserts as unknown as [never, ...never[]])) as unknown as { id: string }[][]).flat().map((r) => r.id);
  await enqueueDeliveries(env, db, inserted);
  return inserted.length;
}

/** Sends deliveries to the queue (100 per sendBatch) and marks them enqueued; failures wait for the sweep. */
export async function enqueueDeliveries(env: Env, db: Db, ids: string[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const part = ids.slice(i, i + 100);
    try {
      await env.DELIVERIES_QUEUE.sendBatch(part.map((deliveryId) => ({ body: { deliveryId }, contentType: "json" as const })));
    } catch (e) {
      log.warn("deliveries.enqueue_failed", { count: part.length, error: errorText(e) });
      continue;
    }
    for (let j = 0; j < part.length; j += 90) {
      await db.update(deliveries).set({ enqueuedAt: nowIso() }).where(inArray(deliveries.id, part.slice(j, j + 90)));
    }
    sent += part.length;
  }
  return sent;
}

/** Cron: pending deliveries whose enqueue failed more than a minute ago are sent again. */
export async function sweepPendingDeliveries(env: Env, db: Db): Promise<number> {
  const cutoff = new Date(Date.now() - 60_000).toISOString();
  const stuck = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.status, "pending"), isNull(deliveries.enqueuedAt), lt(deliveries.createdAt, cutoff)))
    .limit(500);
  return enqueueDeliveries(env, db, stuck.map((d) => d.id));
}

/** Fan-out right after events are produced; a failure is left to the minute sweep. */
export async function fanOutSafely(env: Env, db: Db): Promise<void> {
  try {
    await fanOut(env, db);
  } catch (e) {
    log.warn("fanout.deferred", { error: errorText(e) });
  }
}

let running: Promise<void> | null = null;
let again = false;

/**
 * fanOutSafely, coalesced per isolate: fan-out takes every domain event not yet fanned out, so while one
 * runs, further callers (the lifecycle objects flushing their outboxes, many at once under load) only ask
 * for one more pass after it, instead of each racing it for the same rows.
 */
export function fanOutCoalesced(env: Env, db: Db): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await fanOutSafely(env, db);
    } while (again);
  })().finally(() => (running = null));
  return running;
}
