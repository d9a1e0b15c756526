import { exactCents } from "../../domain/money";
import { applyPatientPayment, today, type PatientPaymentRequest } from "../../payments/service";
import { defineAdapter } from "../types";
import { patientPaymentBody, type PatientPaymentBody } from "./schema";

export function paymentRequest(body: PatientPaymentBody, eventId: string | null): PatientPaymentRequest {
  return {
    billId: body.billId,
    amountCents: exactCents(body.paymentAmount)!,
    paymentDate: body.paymentDate ?? today(),
    paymentMethod: body.paymentMethod ?? null,
    traceId: body.paymentTraceId ?? null,
    source: "cair",
    eventId,
  };
}

/**
 * cair.patient_payment: answered synchronously at /api/webhooks/patient-payment. The projection is the
 * recovery path (an event whose synchronous application did not finish is swept and applied here); the
 * Durable Object's ledger makes both paths apply a payment once. The object records the domain events,
 * and, for a payment it records, the event's processed status (through its outbox).
 */
export const cairPatientPayment = defineAdapter({
  kind: "cair.patient_payment",
  schema: patientPaymentBody,
  async project({ env, db, event }, body) {
    const { recorded, payment } = await applyPatientPayment(env, db, paymentRequest(body, event.id));
    return { produced: [], ...(recorded ? { processedByLifecycle: payment.claimLifecycleId } : {}) };
  },
});
