import { centsToAmount } from "../domain/money";

export const PATIENT_PAYMENT_ISSUER = "https://fhir.cairhealth.com/StructureDefinition/patient-payment-issuer";

/** A FHIR R4B PaymentReconciliation for one patient payment, the patient linked as its issuer. */
export function paymentReconciliation(p: {
  id: string;
  claimId: string;
  fhirClaimId: string | null;
  patientRef: string | null;
  amountCents: number;
  appliedCents: number;
  paymentDate: string;
  traceId: string | null;
  method: string | null;
  created: string;
  status: "active" | "cancelled";
}) {
  return {
    resourceType: "PaymentReconciliation",
    id: p.id,
    status: p.status,
    created: p.created,
    paymentDate: p.paymentDate.slice(0, 10),
    paymentAmount: { value: centsToAmount(p.amountCents), currency: "USD" },
    ...(p.traceId ? { paymentIdentifier: { system: "urn:claimgate:payment-trace-id", value: p.traceId } } : {}),
    outcome: "complete",
    disposition: p.method ? `Patient payment (${p.method})` : "Patient payment",
    ...(p.patientRef ? { extension: [{ url: PATIENT_PAYMENT_ISSUER, valueReference: { reference: p.patientRef } }] } : {}),
    detail: [
      {
        type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/payment-type", code: "payment" }] },
        request: { reference: `Claim/${p.fhirClaimId ?? p.claimId}` },
        date: p.paymentDate.slice(0, 10),
        amount: { value: centsToAmount(p.appliedCents), currency: "USD" },
      },
    ],
  };
}
