import { eq } from "drizzle-orm";
import { ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { lifecycleHooks } from "../../payments/service";
import { applyStatus } from "../../claims/write";
import { claims } from "../../db/schema";
import { toInstant } from "../../domain/claim-status";
import { roundToCents } from "../../domain/money";
import { defineAdapter } from "../types";
import { claimStatusUpdate } from "./schema";

/** payor.claim_status: an HCMS claim_status_update. A stale update is history, not a status change. */
export const payorClaimStatus = defineAdapter({
  kind: "payor.claim_status",
  schema: claimStatusUpdate,
  async project({ env, db, event, raw }, update) {
    const { claimId, lifecycleId, factsChanged } = await resolveClaim(db, { keys: [{ system: ID_SYSTEM.hcmsClaim, value: update.claim_id }] }, lifecycleHooks(env));
    // A payment_processed event may carry no status: then it changes none, and only its money is kept.
    const { applied } = update.new_status
      ? await applyStatus(db, {
          claimId,
          eventId: event.id,
          to: update.new_status,
          at: toInstant(update.timestamp),
          source: "payor.claim_status",
          message: update.message ?? null,
        })
      : { applied: true };
    if (applied) {
      await db
        .update(claims)
        .set({
          ...(update.provider_id ? { providerId: update.provider_id } : {}),
          // what the payor said; an amount it left null stays unknown
          ...(update.payment_details?.approved_amount != null ? { approvedCents: roundToCents(update.payment_details.approved_amount) } : {}),
          ...(update.payment_details?.patient_responsibility != null
            ? { payorPatientResponsibilityCents: roundToCents(update.payment_details.patient_responsibility) }
            : {}),
        })
        .where(eq(claims.id, claimId));
    }
    // a new claim or patient in an existing lifecycle: its object reloads (which claim a bill names, whose payments)
    return { produced: [{ type: update.event_type, claimId, lifecycleId, payload: raw }], reconcile: factsChanged ? [lifecycleId] : [] };
  },
});
