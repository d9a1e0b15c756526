import { z } from "zod";
import { codeableConcept, fhirDate, fhirId, identifier, money, reference } from "./fhir";

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
});

export type FhirClaim = z.infer<typeof fhirClaim>;
