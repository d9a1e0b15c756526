import { sql } from "drizzle-orm";
import { claimResponses } from "../../db/schema";
import { itemCategoryCents, patientResponsibilityCents, remitDecision } from "../../domain/remit";
import { roundToCents } from "../../domain/money";
import { defineAdapter } from "../types";
import { bundleResources, claimResponseBundle } from "./schema";

export const REMIT_EVENT = { approved: "CLAIMS_REMIT_APPROVED", denied: "CLAIMS_REMIT_DENIED" } as const;

/** cair.claim_response: a FHIR R4B collection Bundle with a ClaimResponse (remit) and its Patient. */
export const cairClaimResponse = defineAdapter({
  kind: "cair.claim_response",
  schema: claimResponseBundle,
  async project({ db, event }, bundle) {
    const { claimResponse: cr } = bundleResources(bundle);
    const { id: _id, ...update } = {
      id: cr.id,
      eventId: event.id,
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
    const row = { id: cr.id, ...update };
    // A later version of the same ClaimResponse replaces the earlier one; an older event never
    // overwrites a newer one, so replays and out-of-order redeliveries end in the same row.
    await db
      .insert(claimResponses)
      .values(row)
      .onConflictDoUpdate({
        target: claimResponses.id,
        set: update,
        setWhere: sqlNewer(event.receivedAt, event.id),
      });
    return { eventType: REMIT_EVENT[remitDecision(cr)] };
  },
});

const sqlNewer = (receivedAt: string, eventId: string) =>
  sql`(${claimResponses.receivedAt}, ${claimResponses.eventId}) <= (${receivedAt}, ${eventId})`;
