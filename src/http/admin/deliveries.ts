import { z } from "zod";
import { database } from "../../db/client";
import { DELIVERY_STATUSES } from "../../db/schema";
import { deliveryWithAttempts, listDeliveries } from "../../operators/reads";
import { replayDelivery } from "../../delivery/replay";
import { ApiError } from "../../errors";
import { limitQuery, timeQuery } from "../list-query";
import { defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";
import { attemptRow, deliveryRow } from "./rows";

export const adminDeliveries = router();

const deliveryId = z.object({ id: z.string().meta({ example: "dlv_01JD7T3Q9M2X" }) });
const notFound = (id: string) => new ApiError(404, "DELIVERY_NOT_FOUND", `No delivery ${id}.`);

const listRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "delivery",
  summary: "List deliveries, newest first",
  auth: "admin",
  request: {
    query: z.object({
      subscription: z.string().optional().meta({ description: "A subscription id" }),
      status: z.enum(DELIVERY_STATUSES).optional(),
      since: timeQuery("Created at or after"),
      until: timeQuery("Created at or before"),
      before: z.string().optional().meta({ description: "Cursor: the previous page's nextBefore" }),
      limit: limitQuery(500),
    }),
  },
  responses: { 200: json(z.object({ data: z.array(deliveryRow), nextBefore: z.string().nullable() }), "Deliveries and the cursor of the next page"), ...OPERATOR_ERRORS, 400: problem("INVALID_FILTER") },
});
serve(adminDeliveries, listRoute, async (c) => c.json(await listDeliveries(database(c.env.DB), c.req.valid("query"))));

const attemptsRoute = defineRoute({
  method: "get",
  path: "/{id}/attempts",
  tag: "delivery",
  summary: "A delivery's attempts",
  auth: "admin",
  role: "operator",
  request: { params: deliveryId },
  responses: { 200: json(z.object({ delivery: deliveryRow, data: z.array(attemptRow) }), "The delivery and its attempts, oldest first"), ...OPERATOR_ERRORS, 404: problem("DELIVERY_NOT_FOUND") },
});
serve(adminDeliveries, attemptsRoute, async (c) => {
  const { id } = c.req.valid("param");
  const found = await deliveryWithAttempts(database(c.env.DB), id);
  if (!found) throw notFound(id);
  return c.json({ delivery: found.delivery, data: found.attempts });
});

const replayRoute = defineRoute({
  method: "post",
  path: "/{id}/replay",
  tag: "delivery",
  summary: "Replay one finished (delivered, dead, cancelled) delivery",
  auth: "admin",
  role: "operator",
  request: { params: deliveryId },
  responses: {
    202: json(z.object({ id: z.string(), status: z.string(), replayed: z.literal(true) }).meta({ example: { id: "dlv_01JD7T3Q9M2X", status: "pending", replayed: true } }), "Re-enqueued"),
    ...OPERATOR_ERRORS,
    404: problem("DELIVERY_NOT_FOUND"),
    409: problem("DELIVERY_PENDING"),
  },
});
serve(adminDeliveries, replayRoute, async (c) => {
  const { id } = c.req.valid("param");
  const result = await replayDelivery(c.env, database(c.env.DB), id);
  if (result.outcome === "not_found") throw notFound(id);
  if (result.outcome === "pending") throw new ApiError(409, "DELIVERY_PENDING", "The delivery is still pending; it will be attempted on its schedule. Replay it once it is delivered, dead or cancelled.");
  return c.json({ id: result.id, status: result.status, replayed: true }, 202);
});
