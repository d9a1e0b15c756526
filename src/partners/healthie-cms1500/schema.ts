import { z } from "zod";
import { CPT_HCPCS, ICD10_CM } from "../../domain/codes";
import { dateLike, decimalLike, diagnosisPointers, idLike, modifier, moneyLike, optionalBoolean } from "../lenient";

const upper = (pattern: RegExp, message: string) => z.string().trim().transform((c) => c.toUpperCase()).pipe(z.string().regex(pattern, message));
const cptCode = upper(CPT_HCPCS, "must be a CPT/HCPCS code");
const icd10 = upper(ICD10_CM, "must be an ICD-10 code");

/**
 * healthie.cms1500, as Healthie's API sends it: any optional field may be null, ids may be numbers,
 * modifiers may be empty or lower case, pointers may be letters, amounts and percents may be strings such
 * as "1,500.00" and "20%". Refused only: no form id or patient id, a line without a CPT code, a diagnosis
 * without an ICD-10 code, or a value that cannot be read at all.
 */
export const cms1500Payload = z.looseObject({
  id: idLike,
  patient_id: idLike,
  billing_provider_id: idLike.nullish(),
  organization_info_id: idLike.nullish(),
  service_location_id: idLike.nullish(),
  accept_assignment: optionalBoolean,
  client_sig_on_file: optionalBoolean,
  insured_sig_on_file: optionalBoolean,
  cms1500_policies: z
    .array(
      z.looseObject({
        id: idLike.nullish(),
        priority_type: z.string().nullish(),
        num: idLike.nullish(),
        insurance_type: z.string().nullish(),
        effective_end: dateLike,
        insurance_plan: z
          .looseObject({ id: idLike.nullish(), payer_id: idLike.nullish(), payer_name: z.string().nullish() })
          .nullish(),
        benefits: z
          .array(
            z.looseObject({
              coinsurance: decimalLike,
              copay: moneyLike,
              deductible_calendar_year: moneyLike,
              deductible_year_to_date: moneyLike,
            }),
          )
          .nullish(),
        updated_at: z.string().nullish(),
      }),
    )
    .nullish()
    .transform((v) => v ?? []),
  cpt_codes_cms1500s: z
    .array(
      z.looseObject({
        cpt_code: cptCode,
        units: decimalLike,
        mod1: modifier,
        mod2: modifier,
        mod3: modifier,
        mod4: modifier,
        pointers: diagnosisPointers,
        service_date: dateLike,
        charge: moneyLike,
      }),
    )
    .nullish()
    .transform((v) => v ?? []),
  icd_codes_cms1500s: z
    .array(z.looseObject({ code: icd10, active: optionalBoolean, id: idLike.nullish() }))
    .nullish()
    .transform((v) => v ?? []),
  patient: z.looseObject({}).nullish(),
  referral_info: z.looseObject({}).nullish(),
});

export type Cms1500Payload = z.output<typeof cms1500Payload>;
