import { z } from "zod";
import { fhirClaim } from "../fhir-claim";
import { jsonString } from "../json-string";

const rule = z.looseObject({
  id: z.string(),
  text: z.string(),
  tags: z.string().nullable().optional(),
});

export const rulesReport = z.looseObject({
  rules_flagged: z.array(rule),
  rules_applied: z.array(rule),
});

/** cair.claim_scrubber: `{"output": {...}}`; two of its fields are JSON strings, parsed and validated too. */
export const scrubberPayload = z.looseObject({
  output: z.looseObject({
    claim_id: z.string().min(1),
    optimizer_run_id: z.string().min(1),
    ai_generated_claim_extended: z.string().optional(),
    ai_generated_encounter_description: z.string().optional(),
    ai_generated_x12_837: jsonString(fhirClaim, "a FHIR Claim"),
    relevant_rules_report: jsonString(rulesReport, "a rules report"),
    edits: z.array(z.looseObject({ difference: z.string(), rationale: z.string() })),
    additional_info: z.looseObject({}).optional(),
  }),
});

export type ScrubberPayload = z.output<typeof scrubberPayload>;
