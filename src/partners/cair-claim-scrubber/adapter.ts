import { CLAIM_ID_SYSTEM, ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { replaceLines } from "../../claims/write";
import { excluded } from "../../db/compiled";
import { claims, scrubResults } from "../../db/schema";
import { eq } from "drizzle-orm";
import { lifecycleHooks } from "../../payments/service";
import { claimVersion } from "../fhir-claim";
import { toInstant } from "../../domain/claim-status";
import { fhirClaimLines } from "../claim-lines";
import { referenceId } from "../fhir";
import { defineAdapter } from "../types";
import { scrubberPayload } from "./schema";

/** cair.claim_scrubber: the AI scrub result of one claim, with the corrected FHIR Claim inside. */
export const cairClaimScrubber = defineAdapter({
  kind: "cair.claim_scrubber",
  schema: scrubberPayload,
  async project({ env, db, event, raw }, payload) {
    const out = payload.output;
    const claim = out.ai_generated_x12_837;
    const version = claimVersion(claim);
    const billId = claim.identifier?.find((i) => i.system === CLAIM_ID_SYSTEM && i.value)?.value ?? null;
    const patientRef = referenceId(claim.patient.reference, "Patient");
    const { claimId, lifecycleId } = await resolveClaim(db, {
      keys: [
        { system: ID_SYSTEM.fhirClaim, value: out.claim_id },
        { system: ID_SYSTEM.fhirClaim, value: claim.id },
      ],
      linked: version.replaces.map((value) => ({ system: ID_SYSTEM.fhirClaim, value })),
      billId,
      patient: patientRef ? { system: "fhir-patient", externalId: patientRef } : null,
    }, lifecycleHooks(env));

    // The scrubbed Claim is the claim's current content; its meta.lastUpdated orders versions of its lines.
    const { lines, diagnoses } = fhirClaimLines(claim);
    const linesVersion = claim.meta?.lastUpdated ? toInstant(claim.meta.lastUpdated) : event.receivedAt;
    // Which versions it replaces and its Claim.created order the lifecycle's versions (the money rules).
    await db
      .update(claims)
      .set({ claimCreated: version.created, replaces: JSON.stringify(version.replaces.map((id) => `${ID_SYSTEM.fhirClaim}|${id}`)), frequencyCode: version.frequency })
      .where(eq(claims.id, claimId));
    await replaceLines(db, claimId, linesVersion, lines, diagnoses, {
      payerId: referenceId(claim.insurer?.reference, "Organization"),
      providerId: referenceId(claim.provider.reference, "Organization") ?? referenceId(claim.provider.reference, "Practitioner"),
    });

    const row = {
      claimId,
      eventId: event.id,
      fhirClaim: JSON.stringify(claim),
      rulesApplied: JSON.stringify(out.relevant_rules_report.rules_applied),
      rulesFlagged: JSON.stringify(out.relevant_rules_report.rules_flagged),
      edits: JSON.stringify(out.edits),
      receivedAt: event.receivedAt,
    };
    await db
      .insert(scrubResults)
      .values({ id: out.optimizer_run_id, ...row })
      .onConflictDoUpdate({ target: scrubResults.id, set: excluded(scrubResults, row) });

    return { produced: [{ type: "CLAIMS_AI_OPTIMIZER", claimId, lifecycleId, payload: raw }], reconcile: [lifecycleId] };
  },
});
