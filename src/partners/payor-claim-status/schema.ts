import { z } from "zod";
import { CLAIM_STATUSES } from "../../domain/claim-status";

const payorStatus = z.enum(CLAIM_STATUSES.filter((s) => s !== "draft") as ["submitted", "under_review", "approved", "rejected"]);
const amount = z.union([z.number(), z.string().regex(/^\d+(\.\d{1,2})?$/, "must be a decimal amount")]);
const dateTime = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" });

/** payor.claim_status: the HCMS guide's "Webhook Payload Structure" (claim_status_update). */
export const claimStatusUpdate = z.looseObject({
  event_type: z.literal("claim_status_update"),
  timestamp: dateTime,
  claim_id: z.string().min(1),
  previous_status: payorStatus.nullish(),
  new_status: payorStatus,
  message: z.string().nullish(),
  processed_by: z.string().nullish(),
  processed_date: dateTime.nullish(),
  patient_name: z.string().optional(),
  insurance_id: z.string().optional(),
  provider_id: z.string().nullish(),
  amount: amount.optional(),
  coverage_validated: z.boolean().optional(),
  coverage_message: z.string().nullish(),
  auto_approved: z.boolean().optional(),
  payment_details: z
    .looseObject({
      approved_amount: amount,
      patient_responsibility: amount,
      expected_payment_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD").nullish(),
      payment_method: z.string().nullish(),
    })
    .nullish(),
  webhook_signature: z.string().optional(),
});

export type ClaimStatusUpdate = z.output<typeof claimStatusUpdate>;
