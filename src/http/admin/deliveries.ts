import { and, asc, desc, eq, gte, lte } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../db/client";
import { deliveries, deliveryAttempts } from "../../db/schema";
import { replayDelivery } from "../../delivery/replay";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";

const STATUSES = ["pending", "delivered", "dead", "cancelled"] as const;

export const adminDeliveries = new Hono<AppContext>();

/** GET /admin/deliveries?subscription=&status=&since=&until=&limit= (newest first) */
adminDeliveries.get("/", async (c) => {
  const q = c.req.query();
  if (q.status && !STATUSES.includes(q.status as (typeof STATUSES)[number])) {
    throw new ApiError(400, "INVALID_FILTER", `status must be one of ${STATUSES.join(", ")}.`);
  }
  const limit = Math.min(500, Math.max(1, Number(q.limit ?? 100) || 100));
  const rows = await database(c.env.DB)
    .select()
    .from(deliveries)
    .where(
      and(
        q.subscription ? eq(deliveries.subscriptionId, q.subscription) : undefined,
        q.status ? eq(deliveries.status, q.status as (typeof STATUSES)[number]) : undefined,
        q.since ? gte(deliveries.createdAt, new Date(q.since).toISOString()) : undefined,
        q.until ? lte(deliveries.createdAt, new Date(q.until).toISOString()) : undefined,
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
  return c.json({ data: rows });
});

adminDeliveries.get("/:id/attempts", async (c) => {
  const db = database(c.env.DB);
  const [delivery] = await db.select().from(deliveries).where(eq(deliveries.id, c.req.param("id")));
  if (!delivery) throw new ApiError(404, "DELIVERY_NOT_FOUND", `No delivery ${c.req.param("id")}.`);
  const attempts = await db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, delivery.id)).orderBy(asc(deliveryAttempts.id));
  return c.json({ delivery, data: attempts });
});

adminDeliveries.post("/:id/replay", async (c) => {
  const row = await replayDelivery(c.env, database(c.env.DB), c.req.param("id"));
  if (!row) throw new ApiError(404, "DELIVERY_NOT_FOUND", `No delivery ${c.req.param("id")}.`);
  return c.json({ id: row.id, status: row.status, replayed: true }, 202);
});
