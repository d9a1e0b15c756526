import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { utf8 } from "../crypto/encoding";
import { sha256Hex } from "../crypto/hmac";
import { database } from "../db/client";
import { deliveries, domainEvents, subscriptions } from "../db/schema";
import { deliveryBody } from "../delivery/consumer";
import { readDomainEventPayload } from "../ingest/archive";
import { ApiError } from "../errors";
import { bearerToken } from "../operators/identity";
import { auditTrail } from "./admin/audit";
import { defineRoute, json, problem, router, serve } from "./route";

/**
 * GET /api/deliveries/:deliveryId/payload: the full body of a thin delivery, for the subscription it was
 * sent to only (`Authorization: Bearer <fetchToken>`, shown once when the subscription was created), while
 * the body is retained (PAYLOAD_RETENTION_DAYS, 30 by default). Every fetch is in the audit trail.
 */
export const deliveryPayloads = router();
deliveryPayloads.use("*", auditTrail);

const payloadRoute = defineRoute({
  method: "get",
  path: "/{deliveryId}/payload",
  tag: "delivery",
  summary: "The full body of a thin delivery, for its own subscription's fetch token (audited; 404 after PAYLOAD_RETENTION_DAYS)",
  auth: "subscriber",
  request: { params: z.object({ deliveryId: z.string().meta({ example: "dlv_01JD7T3Q9M2X" }) }) },
  responses: {
    200: json(z.object({ type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }).meta({ example: { type: "claim.remit.received", timestamp: "2026-11-23T10:00:00.000Z", data: { claimId: "clm_01JD7T" } } }), "The delivery's Standard Webhooks body"),
    401: problem("UNAUTHORIZED"),
    404: problem("DELIVERY_NOT_FOUND, PAYLOAD_EXPIRED"),
  },
});
serve(deliveryPayloads, payloadRoute, async (c) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token?.startsWith("cgft_")) {
    throw new ApiError(401, "UNAUTHORIZED", "Give the subscription's fetch token as a bearer token.", undefined, { "WWW-Authenticate": 'Bearer realm="claimgate-deliveries"' });
  }
  const db = database(c.env.DB);
  const [row] = await db
    .select({ delivery: deliveries, subscriptionId: subscriptions.id })
    .from(deliveries)
    .innerJoin(subscriptions, eq(subscriptions.id, deliveries.subscriptionId))
    .where(and(eq(deliveries.id, c.req.valid("param").deliveryId), eq(subscriptions.fetchTokenHash, await sha256Hex(utf8(token)))));
  // another subscription's delivery is not found, exactly like one that does not exist
  if (!row) throw new ApiError(404, "DELIVERY_NOT_FOUND", "No such delivery for this fetch token.");
  c.set("auditActor", `subscription:${row.subscriptionId}`);
  const retentionDays = Number(c.env.PAYLOAD_RETENTION_DAYS ?? "30") || 30;
  if (Date.now() - Date.parse(row.delivery.createdAt) > retentionDays * 86_400_000) {
    throw new ApiError(404, "PAYLOAD_EXPIRED", `The body of this delivery was kept for ${retentionDays} days and is gone.`);
  }
  const [event] = await db.select().from(domainEvents).where(eq(domainEvents.id, row.delivery.domainEventId));
  const stored = event ? await readDomainEventPayload(c.env, event) : null;
  if (!event || stored?.kind !== "payload") throw new ApiError(404, "PAYLOAD_EXPIRED", "The body of this delivery is gone.");
  return new Response(deliveryBody(c.env, "full", row.delivery.id, event, stored.text), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
});
