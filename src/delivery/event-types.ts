import { z } from "zod";
import { adapterFor } from "../partners/registry";

/**
 * The catalog of event types subscribers can receive (GET /admin/event-types): name, description, an
 * example `data`, and its JSON Schema. A subscription naming anything else is 422 UNKNOWN_EVENT_TYPE.
 * Partner-borne events carry the partner's body, so their schema is the partner kind's own.
 */
export interface EventType {
  name: string;
  description: string;
  /** The partner kind whose body is the event's `data`, or the schema of what the gateway sends. */
  data: { kind: string } | { schema: z.ZodType };
  example: unknown;
}

const money = z.number();
const paymentApplied = z.object({
  paymentId: z.string(), claimId: z.string(), claimLifecycleId: z.string(), billId: z.string(), paymentAmount: money, amountSetOnClaim: money,
  excessAmount: money.optional(), paymentDate: z.string(), paymentMethod: z.string().nullable(), paymentTraceId: z.string().nullable(),
});
const subscriptionNotice = z.object({ subscriptionId: z.string(), reason: z.string() });

export const EVENT_TYPES: EventType[] = [
  { name: "CLAIMS_REMIT_APPROVED", description: "An adjudicated remit (FHIR R4B ClaimResponse bundle) that paid, or left the patient a share.", data: { kind: "cair.claim_response" }, example: { resourceType: "Bundle", type: "collection", entry: [] } },
  { name: "CLAIMS_REMIT_DENIED", description: "A remit that paid nothing and left the patient nothing, or an error outcome.", data: { kind: "cair.claim_response" }, example: { resourceType: "Bundle", type: "collection", entry: [] } },
  { name: "CLAIMS_PREAUTH", description: "A preauthorization or predetermination response (no balance).", data: { kind: "cair.claim_response" }, example: { resourceType: "Bundle", type: "collection", entry: [] } },
  { name: "CLAIMS_AI_OPTIMIZER", description: "A Cair AI scrub result for a claim.", data: { kind: "cair.claim_scrubber" }, example: { output: { claim_id: "…", optimizer_run_id: "…" } } },
  { name: "cms1500.created", description: "A Healthie CMS-1500 form seen for the first time.", data: { kind: "healthie.cms1500" }, example: { id: "…", patient_id: "…", cpt_codes_cms1500s: [] } },
  { name: "cms1500.updated", description: "A Healthie CMS-1500 form changed.", data: { kind: "healthie.cms1500" }, example: { id: "…", patient_id: "…", cpt_codes_cms1500s: [] } },
  { name: "healthie.event", description: "A Healthie thin event (resource id, type and event), as Healthie sent it.", data: { kind: "healthie.event" }, example: { resource_id: "1234", resource_id_type: "Appointment", event_type: "appointment.created" } },
  { name: "claim_status_update", description: "An HCMS claim status change (payor webhooks and our own adjudication).", data: { kind: "payor.claim_status" }, example: { event_type: "claim_status_update", claim_id: "CLM-…", new_status: "approved", timestamp: "2024-10-03T15:30:00Z" } },
  { name: "payment_processed", description: "An HCMS payor's payment notice for a claim.", data: { kind: "payor.claim_status" }, example: { event_type: "payment_processed", claim_id: "CLM-…", timestamp: "2024-10-03T15:30:00Z" } },
  { name: "patient_payment.applied", description: "A patient payment applied to a claim lifecycle (the part set on the claim, any excess).", data: { schema: paymentApplied }, example: { paymentId: "pay_…", claimId: "clm_…", claimLifecycleId: "lc_…", billId: "52343746129383", paymentAmount: 80, amountSetOnClaim: 60, excessAmount: 20, paymentDate: "2025-01-05", paymentMethod: "card", paymentTraceId: "pi_123" } },
  { name: "patient_payment.reversed", description: "A patient payment undone (its credit voided, its allocations reversed).", data: { schema: z.object({ paymentId: z.string(), claimId: z.string(), claimLifecycleId: z.string(), amountRemovedFromClaim: money, creditVoided: money, allocationsReversed: money }) }, example: { paymentId: "pay_…", claimId: "clm_…", claimLifecycleId: "lc_…", amountRemovedFromClaim: 60, creditVoided: 20, allocationsReversed: 0 } },
  { name: "patient_credit.created", description: "Patient money beyond the responsibility, kept as an unallocated credit (once per payment).", data: { schema: z.object({ creditId: z.string(), patientId: z.string().nullable(), amount: money, sourcePaymentId: z.string(), billId: z.string() }) }, example: { creditId: "crd_…", patientId: "pat_…", amount: 20, sourcePaymentId: "pay_…", billId: "52343746129383" } },
  { name: "patient_credit.allocated", description: "A credit applied to another claim of the same patient.", data: { schema: z.object({ creditId: z.string(), allocationId: z.string(), claimId: z.string(), amount: money, creditRemaining: money }) }, example: { creditId: "crd_…", allocationId: "alc_…", claimId: "clm_…", amount: 15, creditRemaining: 5 } },
  { name: "patient_credit.allocation_reversed", description: "An allocation undone because the payment behind its credit was reversed.", data: { schema: z.object({ creditId: z.string(), allocationId: z.string(), claimId: z.string(), amount: money, reversedPaymentId: z.string() }) }, example: { creditId: "crd_…", allocationId: "alc_…", claimId: "clm_…", amount: 15, reversedPaymentId: "pay_…" } },
  { name: "subscription.failing", description: "A subscription whose deliveries have only failed for an hour (sent once per failing run, before it is disabled).", data: { schema: subscriptionNotice }, example: { subscriptionId: "sub_…", reason: "every delivery failed since 2026-11-23T10:00:00.000Z" } },
  { name: "subscription.disabled", description: "A subscription disabled after failing for the whole window, or answering 410 Gone.", data: { schema: subscriptionNotice }, example: { subscriptionId: "sub_…", reason: "410 Gone" } },
];

/** Subscription patterns beside exact names: every type, and both remit types (Cair's own name). */
export const EVENT_PATTERNS = ["*", "CLAIMS_REMIT_ALL"] as const;

const known = new Set<string>([...EVENT_TYPES.map((t) => t.name), ...EVENT_PATTERNS]);
export const isKnownEventType = (name: string) => known.has(name);

/** The catalog as GET /admin/event-types answers it. */
export function eventTypeCatalog() {
  return EVENT_TYPES.map((t) => ({
    name: t.name,
    description: t.description,
    example: t.example,
    schema: "kind" in t.data ? { partnerKind: t.data.kind, ...jsonSchema(adapterFor(t.data.kind)!.schema) } : jsonSchema(t.data.schema),
  }));
}

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
