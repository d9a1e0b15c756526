import { and, asc, desc, eq, gte, lte } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../db/client";
import { deliveries, deliveryAttempts } from "../../db/schema";
import { replayDelivery } from "../../delivery/replay";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { limitParam, statusFilter, timeBound } from "../list-query";

const STATUSES = ["pending", "delivered", "dead", "cancelled"] as const;

export const adminDeliveries = new Hono<AppContext>();

/** GET /admin/deliveries?subscription=&status=&since=&until=&limit= (newest first) */
adminDeliveries.get("/", async (c) => {
  const q = c.req.query();
  const status = statusFilter(q.status, STATUSES);
  const since = timeBound(q.since, "since");
  const until = timeBound(q.until, "until");
  const limit = limitParam(q.limit, 500);
  const rows = await database(c.env.DB)
    .select()
    .from(deliveries)
    .where(
      and(
        q.subscription ? eq(deliveries.subscriptionId, q.subscription) : undefined,
        status ? eq(deliveries.status, status) : undefined,
        since ? gte(deliveries.createdAt, since) : undefined,
        until ? lte(deliveries.createdAt, until) : undefined,
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
  const result = await replayDelivery(c.env, database(c.env.DB), c.req.param("id"));
  if (result.outcome === "not_found") throw new ApiError(404, "DELIVERY_NOT_FOUND", `No delivery ${c.req.param("id")}.`);
  if (result.outcome === "pending") throw new ApiError(409, "DELIVERY_PENDING", "The delivery is still pending; it will be attempted on its schedule. Replay it once it is delivered, dead or cancelled.");
  return c.json({ id: result.id, status: result.status, replayed: true }, 202);
});
