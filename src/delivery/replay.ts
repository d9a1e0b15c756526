import { and, asc, eq, gt, gte, inArray, lte, ne, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { deliveries } from "../db/schema";
import type { Env } from "../env";
import { enqueueDeliveries } from "./fan-out";

type DeliveryStatus = (typeof deliveries.$inferSelect)["status"];

export type ReplayOutcome = { outcome: "replayed"; id: string; status: DeliveryStatus } | { outcome: "pending" } | { outcome: "not_found" };

/**
 * Puts a finished delivery (delivered, dead, cancelled) back to pending with a fresh attempt budget and
 * enqueues it; its attempts stay on record. A delivery still pending is not replayed again: each replay
 * would add a queue message of its own and multiply the attempts.
 */
export async function replayDelivery(env: Env, db: Db, id: string): Promise<ReplayOutcome> {
  const [row] = await db
    .update(deliveries)
    .set({ status: "pending", attempts: 0, deadAt: null, nextAttemptAt: null, enqueuedAt: null, updatedAt: nowIso() })
    .where(and(eq(deliveries.id, id), ne(deliveries.status, "pending")))
    .returning({ id: deliveries.id, status: deliveries.status });
  if (!row) {
    const [exists] = await db.select({ id: deliveries.id }).from(deliveries).where(eq(deliveries.id, id));
    return exists ? { outcome: "pending" } : { outcome: "not_found" };
  }
  await enqueueDeliveries(env, db, [id]);
  return { outcome: "replayed", ...row };
}

const PAGE = 500;

/**
 * Bulk replay of a subscription's deliveries created in [since, until] with the given statuses (default
 * dead and cancelled), at most PAGE per call in (created_at, id) order. `cursor` resumes after the last
 * delivery of the previous call; the answer says how many were replayed and the next cursor, if any.
 */
export async function replaySubscriptionRange(
  env: Env,
  db: Db,
  subscriptionId: string,
  range: { since: string; until: string; statuses: DeliveryStatus[]; cursor?: string | null },
) {
  const after = range.cursor ? decodeCursor(range.cursor) : null;
  const rows = await db
    .select({ id: deliveries.id, createdAt: deliveries.createdAt })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.subscriptionId, subscriptionId),
        gte(deliveries.createdAt, range.since),
        lte(deliveries.createdAt, range.until),
        // pending ones are on their way already: replaying them would multiply their attempts
        inArray(deliveries.status, range.statuses.filter((st) => st !== "pending")),
        after ? or(gt(deliveries.createdAt, after.createdAt), and(eq(deliveries.createdAt, after.createdAt), gt(deliveries.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id))
    .limit(PAGE);
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 90) {
    await db
      .update(deliveries)
      .set({ status: "pending", attempts: 0, deadAt: null, nextAttemptAt: null, enqueuedAt: null, updatedAt: nowIso() })
      .where(inArray(deliveries.id, ids.slice(i, i + 90)));
  }
  await enqueueDeliveries(env, db, ids);
  const last = rows[rows.length - 1];
  return { replayed: ids.length, nextCursor: rows.length === PAGE && last ? encodeCursor(last) : null };
}

const encodeCursor = (r: { createdAt: string; id: string }) => btoa(JSON.stringify([r.createdAt, r.id]));
function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const [createdAt, id] = JSON.parse(atob(cursor)) as [string, string];
    return typeof createdAt === "string" && typeof id === "string" ? { createdAt, id } : null;
  } catch {
    return null;
  }
}
