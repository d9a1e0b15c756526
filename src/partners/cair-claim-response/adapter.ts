import { sql } from "drizzle-orm";
import { CLAIM_ID_SYSTEM, ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { applyStatus } from "../../claims/write";
import { compiled, everyColumn, excluded } from "../../db/compiled";
import { claimResponses } from "../../db/schema";
import { toInstant } from "../../domain/claim-status";
import { remitFacts } from "../../domain/remit";
import { itemCategoryCents } from "../../domain/responsibility";
import { lifecycleHooks } from "../../payments/service";
import { referenceId } from "../fhir";
import { defineAdapter } from "../types";
import { bundleResources, claimResponseBundle } from "./schema";

export const REMIT_EVENT = { approved: "CLAIMS_REMIT_APPROVED", denied: "CLAIMS_REMIT_DENIED", preauth: "CLAIMS_PREAUTH" } as const;

/**
 * cair.claim_response: a FHIR R4B collection Bundle with a ClaimResponse (remit) and its Patient. The
 * projection stores the remit with the facts the money rules read (src/domain/remit.ts), and names the
 * lifecycle whose figures and ledger follow (the consumer reconciles it, once per batch).
 */
type RemitRow = typeof claimResponses.$inferInsert & { id: string };

/**
 * Versions of one ClaimResponse id: the newer by meta.lastUpdated, then created, wins; on a tie the
 * withdrawn one, then the greater resource text, so any arrival order keeps the same row. A withdrawal
 * (cancelled / entered-in-error) sticks to the id whatever arrives after it (its own statement, above).
 * Built once per isolate (src/db/compiled.ts): every column of the row is a value of each use.
 */
const upsertRemit = compiled((db, v: Required<RemitRow> & { withdrawnRank: number }) => {
  const set = everyColumn(claimResponses, v, ["id"]);
  // the update and its version check read the proposed row (`excluded`), so the resource is bound once, not three times
  const proposed = excluded(claimResponses, set);
  return db
    .insert(claimResponses)
    .values({ id: v.id, ...set })
    .onConflictDoUpdate({
      target: claimResponses.id,
      set: proposed,
      setWhere: sql`(${proposed.versionAt}, ${v.withdrawnRank}, ${proposed.resource}) > (${claimResponses.versionAt}, ${claimResponses.withdrawn}, ${claimResponses.resource})`,
    });
});

export const cairClaimResponse = defineAdapter({
  kind: "cair.claim_response",
  schema: claimResponseBundle,
  async project({ env, db, event, raw }, bundle) {
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
    }, lifecycleHooks(env));

    const facts = remitFacts(cr, CLAIM_ID_SYSTEM);
    const resource = JSON.stringify(cr);
    const { id: _id, ...update } = {
      id: cr.id,
      eventId: event.id,
      claimId,
      lifecycleId,
      decision: facts.decision,
      claimReference: cr.request?.reference ?? null,
      status: cr.status,
      outcome: cr.outcome,
      disposition: cr.disposition ?? null,
      patientReference: cr.patient.reference ?? null,
      createdDate: cr.created,
      submittedCents: itemCategoryCents(cr, "submitted"),
      benefitCents: itemCategoryCents(cr, "benefit"),
      paymentCents: facts.paymentCents,
      patientResponsibilityCents: facts.responsibility.cents,
      kind: facts.kind,
      provisional: facts.provisional,
      reversal: facts.reversal,
      withdrawn: facts.kind === "withdrawn",
      payerKey: facts.payerKey,
      identity: facts.identity,
      cobRank: facts.cobRank,
      cobPayers: facts.cobPayers,
      amounts: facts.amounts,
      versionAt: facts.versionAt,
      paidByPatientCents: facts.responsibility.paidByPatientCents,
      responsibilityBasis: facts.responsibility.basis,
      responsibilityInferred: facts.responsibility.inferred,
      totalResponsibilityCents: facts.responsibility.totalCents,
      resource,
      receivedAt: event.receivedAt,
    };
    const remitWrites = [
      upsertRemit(db, { id: cr.id, ...update, withdrawnRank: update.withdrawn ? 1 : 0 }),
      ...(update.withdrawn ? [db.update(claimResponses).set({ withdrawn: true }).where(sql`${claimResponses.id} = ${cr.id}`)] : []),
    ];
    // the remit's row and the claim's status change in one round trip
    if (facts.kind === "remit" || facts.kind === "rejection") {
      await applyStatus(
        db,
        {
          claimId,
          eventId: event.id,
          to: facts.decision === "approved" ? "approved" : "rejected",
          at: toInstant(cr.created),
          source: "cair.claim_response",
          message: cr.disposition ?? null,
        },
        remitWrites,
      );
    } else {
      await db.batch(remitWrites as unknown as [never, ...never[]]);
    }
    const type = facts.kind === "preauth" ? REMIT_EVENT.preauth : facts.kind === "withdrawn" ? null : REMIT_EVENT[facts.decision];
    return { produced: type ? [{ type, claimId, lifecycleId, payload: raw }] : [], reconcile: [lifecycleId] };
  },
});
