import { z } from "zod";
import { CLAIM_STATUSES } from "../../domain/claim-status";
import { dateLike, dateTimeLike, idLike, moneyLike, optionalBoolean } from "../lenient";

const payorStatus = z.enum(CLAIM_STATUSES.filter((s) => s !== "draft") as ["submitted", "under_review", "approved", "rejected"]);

/** The event types the HCMS guide registers for subscribers. */
export const PAYOR_EVENT_TYPES = ["claim_status_update", "payment_processed"] as const;

/**
 * payor.claim_status: the HCMS guide's "Webhook Payload Structure", as payors send it: `claim_status_update`
 * or `payment_processed` (which the guide's registration example subscribes to), timestamps with or
 * without an offset (`2024-10-03T15:30:00.123456` is UTC), null amounts or names on a rejection. A status
 * update must say the new status; a payment may leave it out.
 */
export const claimStatusUpdate = z
  .looseObject({
    event_type: z.enum(PAYOR_EVENT_TYPES),
    timestamp: dateTimeLike,
    claim_id: idLike.pipe(z.string().min(1, "must not be empty")),
    previous_status: payorStatus.nullish(),
    new_status: payorStatus.nullish(),
    message: z.string().nullish(),
    processed_by: z.string().nullish(),
    processed_date: dateTimeLike.nullish(),
    patient_name: z.string().nullish(),
    insurance_id: idLike.nullish(),
    provider_id: idLike.nullish(),
    amount: moneyLike,
    coverage_validated: optionalBoolean,
    coverage_message: z.string().nullish(),
    auto_approved: optionalBoolean,
    payment_details: z
      .looseObject({
        approved_amount: moneyLike,
        patient_responsibility: moneyLike,
        expected_payment_date: dateLike,
        payment_method: z.string().nullish(),
      })
      .nullish(),
    webhook_signature: z.string().nullish(),
  })
  .superRefine((u, ctx) => {
    if (u.event_type === "claim_status_update" && !u.new_status) {
      ctx.addIssue({ code: "custom", path: ["new_status"], message: "is required for claim_status_update" });
    }
  });

export type ClaimStatusUpdate = z.output<typeof claimStatusUpdate>;
