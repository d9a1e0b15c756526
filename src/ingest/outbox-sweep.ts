import { and, eq, inArray, isNull, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { events } from "../db/schema";
import type { Env } from "../env";
import { errorText, log } from "../log";
import { sendEvents } from "./ingest";

const BATCH = 90; // under D1's 100 bound parameters per statement

/**
 * The outbox sweep (cron): pending events whose enqueue never succeeded and that are older than
 * `olderThanSeconds` are claimed (enqueued_at set in the same statement that checks it is NULL, so two
 * concurrent sweeps never both send one event), sent in one sendBatch, and released again if the send
 * fails. Returns how many events were enqueued.
 */
export async function sweepPendingEvents(env: Env, db: Db, olderThanSeconds = 60): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000).toISOString();
  let total = 0;
  for (;;) {
    const candidates = await db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.status, "pending"), isNull(events.enqueuedAt), lt(events.receivedAt, cutoff)))
      .orderBy(events.receivedAt)
      .limit(BATCH);
    if (candidates.length === 0) return total;

    const claimed = await db
      .update(events)
      .set({ enqueuedAt: nowIso() })
      .where(and(inArray(events.id, candidates.map((c) => c.id)), isNull(events.enqueuedAt)))
      .returning({ id: events.id });
    if (claimed.length === 0) continue;
    try {
      await sendEvents(env, claimed.map((c) => c.id));
      total += claimed.length;
      log.info("sweep.enqueued", { count: claimed.length });
    } catch (e) {
      await db.update(events).set({ enqueuedAt: null }).where(inArray(events.id, claimed.map((c) => c.id)));
      log.warn("sweep.enqueue_failed", { count: claimed.length, error: errorText(e) });
      return total;
    }
  }
}
