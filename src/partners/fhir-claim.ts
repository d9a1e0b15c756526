import { z } from "zod";
import { toInstant } from "../domain/claim-status";
import { codeableConcept, codesOf, coding, fhirDate, fhirId, identifier, money, reference, referenceId } from "./fhir";

/** FHIR R4B Claim, the elements the claim model reads; everything else passes through. */
export const fhirClaim = z.looseObject({
  resourceType: z.literal("Claim"),
  id: fhirId,
  identifier: z.array(identifier).optional(),
  status: z.enum(["active", "cancelled", "draft", "entered-in-error"]),
  type: codeableConcept,
  use: z.enum(["claim", "preauthorization", "predetermination"]),
  patient: reference,
  created: fhirDate,
  insurer: reference.optional(),
  provider: reference,
  priority: codeableConcept,
  diagnosis: z
    .array(
      z.looseObject({
        sequence: z.number().int().positive(),
        diagnosisCodeableConcept: codeableConcept.optional(),
      }),
    )
    .optional(),
  item: z
    .array(
      z.looseObject({
        sequence: z.number().int().positive(),
        productOrService: codeableConcept,
        modifier: z.array(codeableConcept).optional(),
        diagnosisSequence: z.array(z.number().int().positive()).optional(),
        servicedDate: fhirDate.optional(),
        quantity: z.looseObject({ value: z.number().positive() }).optional(),
        unitPrice: money.optional(),
        net: money.optional(),
      }),
    )
    .optional(),
  total: money.optional(),
  meta: z.looseObject({ lastUpdated: z.string().optional() }).optional(),
  related: z.array(z.looseObject({ claim: reference.optional(), relationship: codeableConcept.optional() })).optional(),
  supportingInfo: z
    .array(z.looseObject({ category: codeableConcept.optional(), code: codeableConcept.optional(), valueString: z.string().optional() }))
    .optional(),
  extension: z
    .array(z.looseObject({ url: z.string(), valueCode: z.string().optional(), valueString: z.string().optional(), valueCoding: coding.optional() }))
    .optional(),
});

export type FhirClaim = z.infer<typeof fhirClaim>;

export interface ClaimVersion {
  /** `Claim.created` as a UTC instant key. */
  created: string;
  /** FHIR Claim ids of the versions this claim replaces. */
  replaces: string[];
  /** X12 claim frequency code (CLM05-3), when the Claim carries it. */
  frequency: string | null;
}

const FREQUENCY = /frequency/i;

/**
 * Which versions a FHIR Claim replaces. FHIR R4B: `related` with relationship `prior` is "a prior claim
 * … which this claim is replacing"; X12 837 CLM05-3 frequency 7 (replacement) or 8 (void) names its
 * original in the payer claim control number (REF*F8), mapped to `related`, so for those any related
 * claim is the original. FHIR has no element for the frequency code: it is read from a supportingInfo
 * or extension whose category or url names it.
 */
export function claimVersion(claim: FhirClaim): ClaimVersion {
  const fromInfo = (claim.supportingInfo ?? []).find((i) => codesOf(i.category).some((c) => FREQUENCY.test(c.code ?? "") || FREQUENCY.test(c.display ?? "")));
  const fromExt = (claim.extension ?? []).find((e) => FREQUENCY.test(e.url));
  const frequency = (fromInfo ? (codesOf(fromInfo.code)[0]?.code ?? fromInfo.valueString) : (fromExt?.valueCode ?? fromExt?.valueString ?? fromExt?.valueCoding?.code)) ?? null;
  const corrective = frequency === "7" || frequency === "8";
  const replaces = (claim.related ?? [])
    .filter((r) => corrective || codesOf(r.relationship).some((c) => c.code === "prior"))
    .map((r) => referenceId(r.claim?.reference, "Claim"))
    .filter((id): id is string => !!id && id !== claim.id);
  return { created: toInstant(claim.created), replaces, frequency: frequency?.trim() || null };
}
