import { CLAIM_ID_SYSTEM, ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { replaceLines } from "../../claims/write";
import { scrubResults } from "../../db/schema";
import { toInstant } from "../../domain/claim-status";
import { fhirClaimLines } from "../claim-lines";
import { referenceId } from "../fhir";
import { defineAdapter } from "../types";
import { scrubberPayload } from "./schema";

/** cair.claim_scrubber: the AI scrub result of one claim, with the corrected FHIR Claim inside. */
export const cairClaimScrubber = defineAdapter({
  kind: "cair.claim_scrubber",
  schema: scrubberPayload,
  async project({ db, event, raw }, payload) {
    const out = payload.output;
    const claim = out.ai_generated_x12_837;
    const billId = claim.identifier?.find((i) => i.system === CLAIM_ID_SYSTEM && i.value)?.value ?? null;
    const patientRef = referenceId(claim.patient.reference, "Patient");
    const { claimId, lifecycleId } = await resolveClaim(db, {
      keys: [
        { system: ID_SYSTEM.fhirClaim, value: out.claim_id },
        { system: ID_SYSTEM.fhirClaim, value: claim.id },
      ],
      billId,
      patient: patientRef ? { system: "fhir-patient", externalId: patientRef } : null,
    });

    // The scrubbed Claim is the claim's current content; its meta.lastUpdated orders versions.
    const { lines, diagnoses } = fhirClaimLines(claim);
    const version = claim.meta?.lastUpdated ? toInstant(claim.meta.lastUpdated) : event.receivedAt;
    await replaceLines(db, claimId, version, lines, diagnoses, {
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
      .onConflictDoUpdate({ target: scrubResults.id, set: row });

    return { produced: [{ type: "CLAIMS_AI_OPTIMIZER", claimId, lifecycleId, payload: raw }] };
  },
});
