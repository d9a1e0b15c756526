import { z } from "zod";
import { ApiError } from "../../errors";
import { applyPatientPayment } from "../../payments/service";
import { MAX_MONEY, refuseCurrency, reissue } from "../fhir";
import { defineAdapter, ProjectionRefused } from "../types";

const SUCCEEDED = "payment_intent.succeeded";

const paymentIntent = z.looseObject({
  id: z.string().min(1),
  object: z.literal("payment_intent"),
  amount_received: z.number().int().positive().max(MAX_MONEY * 100, "must not exceed 10000000000 (100,000,000.00 USD)"),
  currency: z.string(),
  // Unix seconds between 2000 and 2100: a date the payment can be recorded on.
  created: z.number().int().min(946_684_800).max(4_102_444_800).optional(),
  payment_method_types: z.array(z.string()).optional(),
  metadata: z.looseObject({ billId: z.string().min(1) }),
});

/**
 * A Stripe event. Only payment_intent.succeeded carries a patient payment (its object is validated
 * fully); other event types are accepted and stored so Stripe stops retrying, and project to nothing.
 */
export const stripeEvent = z
  .looseObject({
    id: z.string().min(1),
    object: z.literal("event"),
    type: z.string().min(1),
    created: z.number().int().min(946_684_800, "must be a Unix time after 2000").max(4_102_444_800, "must be a Unix time before 2100"),
    data: z.looseObject({ object: z.looseObject({}) }),
  })
  .superRefine((event, ctx) => {
    if (event.type !== SUCCEEDED) return;
    const parsed = paymentIntent.safeParse(event.data.object);
    if (parsed.success) {
      if (parsed.data.currency.toLowerCase() !== "usd") refuseCurrency(ctx, parsed.data.currency, ["data", "object", "currency"]);
      return;
    }
    for (const issue of parsed.error.issues) reissue(ctx, issue, ["data", "object"]);
  });

/** stripe.payment: metadata.billId, amount_received (cents) and the payment intent id as trace id. */
export const stripePayment = defineAdapter({
  kind: "stripe.payment",
  schema: stripeEvent,
  partnerEventId: (event) => event.id,
  async project({ env, db, event: stored }, event) {
    if (event.type !== SUCCEEDED) return { produced: [] };
    const pi = paymentIntent.parse(event.data.object);
    let applied: Awaited<ReturnType<typeof applyPatientPayment>>;
    try {
      applied = await applyPatientPayment(env, db, {
        billId: pi.metadata.billId,
        amountCents: pi.amount_received,
        paymentDate: new Date((pi.created ?? event.created) * 1000).toISOString().slice(0, 10),
        paymentMethod: pi.payment_method_types?.[0] ?? "stripe",
        traceId: pi.id,
        source: "stripe",
        eventId: stored.id,
      });
    } catch (e) {
      // A payment intent id that is already another payment's never becomes applicable by retrying.
      if (e instanceof ApiError && e.code === "TRACE_ID_CONFLICT") throw new ProjectionRefused(e.code, e.message);
      throw e;
    }
    return { produced: [], ...(applied.recorded ? { processedByLifecycle: applied.payment.claimLifecycleId } : {}) };
  },
});
