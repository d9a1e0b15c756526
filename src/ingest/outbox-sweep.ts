import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { events } from "../db/schema";
import { nonNegativeVar, type Env } from "../env";
import { errorText, log } from "../log";
import { sendEvents } from "./ingest";

const BATCH = 90; // under D1's 100 bound parameters per statement

/** Sends after which an event whose message keeps going missing is failed, visibly, instead of sent forever. */
export const MAX_REDRIVES = 10;

/**
 * The outbox sweep (cron), so that every pending event ends processed, failed or invalid:
 * 1. pending events never put on the queue (the enqueue failed) and older than SWEEP_ENQUEUE_AFTER_SECONDS
 *    are enqueued;
 * 2. pending events whose queue message went missing (enqueued longer ago than
 *    SWEEP_REDRIVE_AFTER_SECONDS, more than the consumer's retries and backoff take, and still pending:
 *    a crash of the runtime loses in-flight messages) are sent again, at most MAX_REDRIVES times, then
 *    failed with that reason, visible and reprocessable.
 * Each event is claimed in the statement that checks it (enqueued_at compared and set), so two
 * concurrent sweeps never both send one; a failed send releases the claim. Returns how many were sent.
 */
export async function sweepPendingEvents(env: Env, db: Db): Promise<number> {
  const now = Date.now();
  const enqueueCutoff = new Date(now - nonNegativeVar(env.SWEEP_ENQUEUE_AFTER_SECONDS, 60) * 1000).toISOString();
  const redriveCutoff = new Date(now - nonNegativeVar(env.SWEEP_REDRIVE_AFTER_SECONDS, 900) * 1000).toISOString();

  const gaveUp = await db
    .update(events)
    .set({ status: "failed", lastError: sql`coalesce(${events.lastError} || '; ', '') || ${`NOT_PROCESSED: sent ${MAX_REDRIVES + 1} times, never processed`}` })
    .where(and(eq(events.status, "pending"), lt(events.enqueuedAt, redriveCutoff), sql`${events.redrives} >= ${MAX_REDRIVES}`))
    .returning({ id: events.id });
  for (const e of gaveUp) log.error("sweep.gave_up", { eventId: e.id, redrives: MAX_REDRIVES });

  let total = 0;
  for (const [kind, stale] of [
    ["enqueue", and(isNull(events.enqueuedAt), lt(events.receivedAt, enqueueCutoff))],
    ["redrive", lt(events.enqueuedAt, redriveCutoff)],
  ] as const) {
    for (;;) {
      const candidates = await db
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.status, "pending"), stale))
        .orderBy(events.receivedAt)
        .limit(BATCH);
      if (candidates.length === 0) break;
      const claimed = await db
        .update(events)
        .set({ enqueuedAt: nowIso(), ...(kind === "redrive" ? { redrives: sql`${events.redrives} + 1` } : {}) })
        .where(and(inArray(events.id, candidates.map((c) => c.id)), eq(events.status, "pending"), stale))
        .returning({ id: events.id });
      if (claimed.length === 0) continue;
      try {
        await sendEvents(env, claimed.map((c) => c.id));
        total += claimed.length;
        log.info(kind === "enqueue" ? "sweep.enqueued" : "sweep.redriven", { count: claimed.length });
      } catch (e) {
        await db.update(events).set({ enqueuedAt: null }).where(inArray(events.id, claimed.map((c) => c.id)));
        log.warn("sweep.enqueue_failed", { count: claimed.length, error: errorText(e) });
        return total;
      }
    }
  }
  return total;
}
