import { z } from "zod";
import { applyPatientPayment } from "../../payments/service";
import { defineAdapter } from "../types";

const SUCCEEDED = "payment_intent.succeeded";

const paymentIntent = z.looseObject({
  id: z.string().min(1),
  object: z.literal("payment_intent"),
  amount_received: z.number().int().positive(),
  currency: z.literal("usd", { error: "only usd payments can be applied" }),
  created: z.number().int().optional(),
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
    created: z.number().int(),
    data: z.looseObject({ object: z.looseObject({}) }),
  })
  .superRefine((event, ctx) => {
    if (event.type !== SUCCEEDED) return;
    const parsed = paymentIntent.safeParse(event.data.object);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: issue.message, path: ["data", "object", ...issue.path] });
    }
  });

/** stripe.payment: metadata.billId, amount_received (cents) and the payment intent id as trace id. */
export const stripePayment = defineAdapter({
  kind: "stripe.payment",
  schema: stripeEvent,
  partnerEventId: (event) => event.id,
  async project({ env, db }, event) {
    if (event.type !== SUCCEEDED) return { produced: [] };
    const pi = paymentIntent.parse(event.data.object);
    await applyPatientPayment(env, db, {
      billId: pi.metadata.billId,
      amountCents: pi.amount_received,
      paymentDate: new Date((pi.created ?? event.created) * 1000).toISOString().slice(0, 10),
      paymentMethod: pi.payment_method_types?.[0] ?? "stripe",
      traceId: pi.id,
      source: "stripe",
    });
    return { produced: [] };
  },
});
