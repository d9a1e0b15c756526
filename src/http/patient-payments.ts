import { z } from "zod";
import { centsToAmount } from "../domain/money";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { readJsonBody } from "../ingest/read-body";
import { patientPaymentBody, reversalBody } from "../partners/cair-patient-payment/schema";
import { receivePatientPayment, receivePaymentReversal } from "../payments/receipt";
import type { ResolvedSource } from "../sources/repository";
import { loadEnabledSource } from "./load-source";
import { PARTNER_ERRORS } from "./webhooks";
import { defineRoute, documentedBody, json, problem, router, serve } from "./route";

/** The source every patient payment is authenticated against (any verification scheme). */
export const PATIENT_PAYMENTS_SOURCE = "patient-payments";

async function paymentSource(env: Env): Promise<ResolvedSource> {
  const source = await loadEnabledSource(env, PATIENT_PAYMENTS_SOURCE);
  if (source.kind !== "cair.patient_payment") {
    throw new ApiError(404, "SOURCE_NOT_FOUND", `Source "${PATIENT_PAYMENTS_SOURCE}" must have kind cair.patient_payment.`);
  }
  return source;
}

export const patientPayments = router();

const applyRoute = defineRoute({
  method: "post",
  path: "/",
  tag: "payments",
  summary: "Apply a Cair patient payment (source patient-payments); the answer says what was set on the claim",
  description: "Verified first (the source's scheme), kept, then validated with the schema shown; an invalid verified body is kept as an `invalid` event and the answer names it.",
  auth: "partner",
  request: { body: documentedBody(patientPaymentBody.meta({ example: { billId: "BILL-1001", paymentAmount: 45.1, paymentDate: "2026-11-20", paymentTraceId: "ch_3QxY2b", paymentMethod: "card" } }), "A Cair PatientPaymentDetails") },
  responses: {
    200: json(
      z.object({ success: z.literal(true), message: z.string(), data: z.object({ claimId: z.string(), claimLifecycleId: z.string(), amountSetOnClaim: z.number(), excessAmount: z.number().optional() }) }).meta({
        example: { success: true, message: "Payment processed successfully", data: { claimId: "clm_01JD7T", claimLifecycleId: "lc_01JD7T", amountSetOnClaim: 45.1 } },
      }),
      "Applied",
    ),
    ...PARTNER_ERRORS,
    404: problem("SOURCE_NOT_FOUND, CLAIM_NOT_FOUND"),
    409: problem("NO_CLAIM_RESPONSE, TRACE_ID_CONFLICT"),
  },
});
serve(patientPayments, applyRoute, async (c) => {
  const source = await paymentSource(c.env);
  const later = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
  const outcome = await receivePatientPayment(c.env, source, c.req.raw.headers, await readJsonBody(c.req.raw), later, { method: c.req.method, url: c.req.url });
  return c.json({
    success: true,
    message: "Payment processed successfully",
    data: {
      claimId: outcome.claimId,
      claimLifecycleId: outcome.claimLifecycleId,
      amountSetOnClaim: centsToAmount(outcome.appliedCents),
      ...(outcome.excessCents > 0 ? { excessAmount: centsToAmount(outcome.excessCents) } : {}),
    },
  });
});

const reverseRoute = defineRoute({
  method: "post",
  path: "/reversal",
  tag: "payments",
  summary: "Reverse a payment by trace id (its unallocated credit first)",
  auth: "partner",
  request: { body: documentedBody(reversalBody.meta({ example: { paymentTraceId: "ch_3QxY2b" } }), "The payment to reverse") },
  responses: {
    200: json(
      z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.object({ claimId: z.string(), claimLifecycleId: z.string(), amountRemovedFromClaim: z.number(), creditVoided: z.number(), creditAlreadyAllocated: z.number() }),
      }),
      "Reversed",
    ),
    ...PARTNER_ERRORS,
    404: problem("SOURCE_NOT_FOUND, PAYMENT_NOT_FOUND"),
  },
});
serve(patientPayments, reverseRoute, async (c) => {
  const source = await paymentSource(c.env);
  const later = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
  const outcome = await receivePaymentReversal(c.env, source, c.req.raw.headers, await readJsonBody(c.req.raw), later, { method: c.req.method, url: c.req.url });
  return c.json({
    success: true,
    message: "Payment reversed successfully",
    data: {
      claimId: outcome.claimId,
      claimLifecycleId: outcome.claimLifecycleId,
      amountRemovedFromClaim: centsToAmount(outcome.removedFromClaimCents),
      creditVoided: centsToAmount(outcome.creditVoidedCents),
      creditAlreadyAllocated: centsToAmount(outcome.creditAlreadyAllocatedCents),
    },
  });
});
