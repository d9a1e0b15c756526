import { z } from "zod";
import { CPT_HCPCS, ICD10_CM } from "../../domain/codes";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD");
/** Healthie sends numbers as strings ("1", "15"); both forms are accepted. */
const numeric = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, "must be a number")]);
const cptCode = z.string().regex(CPT_HCPCS, "must be a CPT/HCPCS code");
const icd10 = z.string().regex(ICD10_CM, "must be an ICD-10 code");
const modifier = z.string().regex(/^[0-9A-Z]{2}$/, "must be a two-character modifier").nullish();

export const cms1500Payload = z.looseObject({
  id: z.string().min(1),
  patient_id: z.string().min(1),
  billing_provider_id: z.string().nullish(),
  organization_info_id: z.string().nullish(),
  service_location_id: z.string().nullish(),
  accept_assignment: z.boolean().optional(),
  client_sig_on_file: z.boolean().optional(),
  insured_sig_on_file: z.boolean().optional(),
  cms1500_policies: z
    .array(
      z.looseObject({
        id: z.string().optional(),
        priority_type: z.string().optional(),
        num: z.string().optional(),
        insurance_type: z.string().optional(),
        effective_end: isoDate.nullish(),
        insurance_plan: z
          .looseObject({ id: z.string().optional(), payer_id: z.string().optional(), payer_name: z.string().optional() })
          .optional(),
        benefits: z
          .array(
            z.looseObject({
              coinsurance: numeric.nullish(),
              copay: numeric.nullish(),
              deductible_calendar_year: numeric.nullish(),
              deductible_year_to_date: numeric.nullish(),
            }),
          )
          .optional(),
        updated_at: z.string().optional(),
      }),
    )
    .default([]),
  cpt_codes_cms1500s: z
    .array(
      z.looseObject({
        cpt_code: cptCode,
        units: numeric.default("1"),
        mod1: modifier,
        mod2: modifier,
        mod3: modifier,
        mod4: modifier,
        pointers: z.string().regex(/^(\d+(\s*,\s*\d+)*)?$/, "must be comma-separated diagnosis numbers").nullish(),
        service_date: isoDate.nullish(),
        charge: numeric.nullish(),
      }),
    )
    .default([]),
  icd_codes_cms1500s: z
    .array(z.looseObject({ code: icd10, active: z.boolean().optional(), id: z.string().optional() }))
    .default([]),
  patient: z.looseObject({}).optional(),
  referral_info: z.looseObject({}).nullish(),
});

export type Cms1500Payload = z.output<typeof cms1500Payload>;
