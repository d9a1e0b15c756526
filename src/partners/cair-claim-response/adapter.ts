import { sql } from "drizzle-orm";
import { CLAIM_ID_SYSTEM, ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { applyStatus } from "../../claims/write";
import { claimResponses } from "../../db/schema";
import { toInstant } from "../../domain/claim-status";
import { roundToCents } from "../../domain/money";
import { itemCategoryCents, patientResponsibilityCents, remitDecision } from "../../domain/remit";
import { referenceId } from "../fhir";
import { defineAdapter } from "../types";
import { bundleResources, claimResponseBundle } from "./schema";

export const REMIT_EVENT = { approved: "CLAIMS_REMIT_APPROVED", denied: "CLAIMS_REMIT_DENIED" } as const;

/** cair.claim_response: a FHIR R4B collection Bundle with a ClaimResponse (remit) and its Patient. */
export const cairClaimResponse = defineAdapter({
  kind: "cair.claim_response",
  schema: claimResponseBundle,
  async project({ db, event, raw }, bundle) {
    const { claimResponse: cr } = bundleResources(bundle);
    const claimRef = referenceId(cr.request?.reference, "Claim");
    const billId =
      [...(cr.identifier ?? []), ...(cr.request?.identifier ? [cr.request.identifier] : [])].find(
        (i) => i.system === CLAIM_ID_SYSTEM && i.value,
      )?.value ?? null;
    const patientRef = referenceId(cr.patient.reference, "Patient");
    const { claimId, lifecycleId } = await resolveClaim(db, {
      keys: claimRef ? [{ system: ID_SYSTEM.fhirClaim, value: claimRef }] : [],
      billId,
      patient: patientRef ? { system: "fhir-patient", externalId: patientRef } : null,
    });

    const decision = remitDecision(cr);
    const { id: _id, ...update } = {
      id: cr.id,
      eventId: event.id,
      claimId,
      lifecycleId,
      decision,
      claimReference: cr.request?.reference ?? null,
      status: cr.status,
      outcome: cr.outcome,
      disposition: cr.disposition ?? null,
      patientReference: cr.patient.reference ?? null,
      createdDate: cr.created,
      submittedCents: itemCategoryCents(cr, "submitted"),
      benefitCents: itemCategoryCents(cr, "benefit"),
      paymentCents: cr.payment ? roundToCents(cr.payment.amount.value) : 0,
      patientResponsibilityCents: patientResponsibilityCents(cr),
      resource: JSON.stringify(cr),
      receivedAt: event.receivedAt,
    };
    // A later version of the same ClaimResponse replaces the earlier one; an older event never
    // overwrites a newer one, so replays and out-of-order redeliveries end in the same row.
    await db
      .insert(claimResponses)
      .values({ id: cr.id, ...update })
      .onConflictDoUpdate({
        target: claimResponses.id,
        set: update,
        setWhere: sql`(${claimResponses.receivedAt}, ${claimResponses.eventId}) <= (${event.receivedAt}, ${event.id})`,
      });

    await applyStatus(db, {
      claimId,
      eventId: event.id,
      to: decision === "approved" ? "approved" : "rejected",
      at: toInstant(cr.created),
      source: "cair.claim_response",
      message: cr.disposition ?? null,
    });
    return { produced: [{ type: REMIT_EVENT[decision], claimId, lifecycleId, payload: raw }] };
  },
});
