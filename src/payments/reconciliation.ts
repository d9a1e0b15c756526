import { centsToAmount } from "../domain/money";

export const PATIENT_PAYMENT_ISSUER = "https://fhir.cairhealth.com/StructureDefinition/patient-payment-issuer";
const PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type";

/** A FHIR id is `[A-Za-z0-9\-.]{1,64}`: our ids' underscore becomes a hyphen. */
export const fhirIdOf = (id: string) => id.replace(/[^A-Za-z0-9\-.]/g, "-").slice(0, 64);

/**
 * A FHIR R4B PaymentReconciliation for one patient payment. R4B's `paymentIssuer` may only reference an
 * Organization, so the patient is linked through the `patient-payment-issuer` extension. The money applied
 * to the claim is a `payment` detail; what the claim could not take (the patient's credit) is an `advance`
 * detail (payment-type: money held ahead of a future claim), so the details add up to the payment.
 */
export function paymentReconciliation(p: {
  paymentId: string;
  claimId: string;
  fhirClaimId: string | null;
  patientRef: string | null;
  amountCents: number;
  appliedCents: number;
  excessCents: number;
  paymentDate: string;
  traceId: string | null;
  method: string | null;
  created: string;
  lastUpdated: string;
  status: "active" | "cancelled";
}) {
  const date = p.paymentDate.slice(0, 10);
  return {
    resourceType: "PaymentReconciliation",
    id: fhirIdOf(p.paymentId),
    meta: { lastUpdated: p.lastUpdated },
    ...(p.patientRef ? { extension: [{ url: PATIENT_PAYMENT_ISSUER, valueReference: { reference: p.patientRef } }] } : {}),
    identifier: [{ system: "urn:claimgate:payment-id", value: p.paymentId }],
    status: p.status,
    created: p.created,
    paymentDate: date,
    paymentAmount: { value: centsToAmount(p.amountCents), currency: "USD" },
    ...(p.traceId ? { paymentIdentifier: { system: "urn:claimgate:payment-trace-id", value: p.traceId } } : {}),
    outcome: "complete",
    disposition: p.method ? `Patient payment (${p.method})` : "Patient payment",
    detail: [
      {
        type: { coding: [{ system: PAYMENT_TYPE, code: "payment" }] },
        request: { reference: `Claim/${fhirIdOf(p.fhirClaimId ?? p.claimId)}` },
        date,
        amount: { value: centsToAmount(p.appliedCents), currency: "USD" },
      },
      ...(p.excessCents > 0
        ? [
            {
              type: { coding: [{ system: PAYMENT_TYPE, code: "advance", display: "Unapplied patient credit" }] },
                    date,
              amount: { value: centsToAmount(p.excessCents), currency: "USD" },
            },
          ]
        : []),
    ],
  };
}
