import { z } from "zod";
import { CPT_HCPCS, ICD10_CM } from "../domain/codes";
import { exactCents, exceedsAmount } from "../domain/money";

const date = z.iso.date({ error: "must be a date YYYY-MM-DD" });
const text = (max: number) => z.string().trim().max(max);

/** The guide's claim: four required fields, the recommended and optional ones typed and checked. */
export const claimSubmission = z.strictObject({
  patient_name: text(200).min(1, "is required"),
  insurance_id: text(64).min(1, "is required"),
  diagnosis_code: z
    .string()
    .trim()
    .transform((c) => c.toUpperCase())
    .pipe(z.string().regex(ICD10_CM, "must be an ICD-10-CM code such as J20.9 or E66.811")),
  amount: z
    .union([z.number(), z.string().trim().regex(/^\d+(\.\d+)?$/, "must be a decimal amount")], { error: "must be a number or a decimal string" })
    .transform((v, ctx) => {
      if (exceedsAmount(v, 10_000_000)) {
        ctx.addIssue({ code: "custom", message: "must not exceed 10,000,000.00" });
        return z.NEVER;
      }
      const cents = exactCents(v);
      if (cents === null) {
        ctx.addIssue({ code: "custom", message: "must have at most 2 decimal places" });
        return z.NEVER;
      }
      if (cents <= 0) {
        ctx.addIssue({ code: "custom", message: "must be greater than 0" });
        return z.NEVER;
      }
      if (cents > 1_000_000_000) {
        ctx.addIssue({ code: "custom", message: "must not exceed 10,000,000.00" });
        return z.NEVER;
      }
      return cents;
    }),
  procedure_code: z
    .string()
    .trim()
    .transform((c) => c.toUpperCase())
    .pipe(z.string().regex(CPT_HCPCS, "must be a CPT/HCPCS code such as 99213 or 3008F"))
    .optional(),
  diagnosis_description: text(500).optional(),
  procedure_description: text(500).optional(),
  date_of_service: date.optional(),
  priority: z.enum(["low", "medium", "high", "urgent"]).optional(),
  patient_id: text(64).optional(),
  notes: text(2000).optional(),
  provider_id: text(64).optional(),
  provider_name: text(200).optional(),
  referring_physician: text(200).optional(),
  prior_authorization: text(64).optional(),
  patient_dob: date.optional(),
  patient_gender: z.enum(["M", "F", "Other"]).optional(),
  emergency: z.boolean().optional(),
});

export type ClaimSubmission = z.output<typeof claimSubmission>;

export const reviewDecision = z.strictObject({
  decision: z.enum(["approved", "rejected"]),
  message: z.string().trim().min(1).max(1000),
});
