import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { auditLog, deliveries, deliveryAttempts, events } from "../../db/schema";

/**
 * Response schemas of the admin API's row-shaped answers, made from the D1 tables themselves
 * (drizzle-zod), so the documented shape cannot drift from what the routes return.
 */
export const deliveryRow = createSelectSchema(deliveries).meta({ id: "Delivery" });
export const attemptRow = createSelectSchema(deliveryAttempts).meta({ id: "DeliveryAttempt" });
export const auditRow = createSelectSchema(auditLog).meta({ id: "AuditEntry" });
const eventRow = createSelectSchema(events);
/** A raw partner event as listed: no body, no headers. */
export const eventSummary = eventRow
  .pick({ id: true, sourceId: true, kind: true, status: true, eventType: true, receivedAt: true, enqueuedAt: true, processedAt: true, attempts: true, lastError: true })
  .meta({ id: "EventSummary" });
/** One raw event: its stored fields, the payload (or its text when it is not JSON), and what it produced. */
export const eventDetail = eventRow
  .omit({ body: true, headers: true, validationErrors: true })
  .extend({
    headers: z.record(z.string(), z.string()).meta({ description: "Headers as received, signature and secret headers removed" }),
    payload: z.unknown().optional(),
    payloadText: z.string().optional(),
    bodyKey: z.string().nullable().meta({ description: "Where the body lives in R2 once the event is processed (read back transparently)" }),
    bodyDeletedAt: z.string().nullable().meta({ description: "When the source's retentionDays deleted the archived body; no payload after that" }),
    validationErrors: z.array(z.object({ path: z.string(), message: z.string() })).nullable(),
    produced: z.array(z.object({ id: z.string(), type: z.string(), claimId: z.string().nullable(), lifecycleId: z.string().nullable(), occurredAt: z.string() })),
    payments: z.array(
      z.object({
        paymentId: z.string(),
        claimId: z.string().nullable(),
        claimLifecycleId: z.string().nullable(),
        status: z.string(),
        amount: z.number(),
        amountSetOnClaim: z.number(),
        excessAmount: z.number(),
        creditId: z.string().nullable(),
      }),
    ),
    deliveries: z.array(deliveryRow),
  })
  .meta({ id: "Event" });
