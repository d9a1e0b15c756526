import { z } from "zod";
import { codeableConcept, fhirDate, fhirId, identifier, money, reference, reissue } from "../fhir";

const adjudication = z.looseObject({
  category: codeableConcept,
  reason: codeableConcept.optional(),
  amount: money.optional(),
  value: z.number().optional(),
});

const subDetail = z.looseObject({
  subDetailSequence: z.number().int().positive().optional(),
  adjudication: z.array(adjudication).optional(),
});

const itemDetail = z.looseObject({
  detailSequence: z.number().int().positive().optional(),
  adjudication: z.array(adjudication).optional(),
  subDetail: z.array(subDetail).optional(),
});

const item = z.looseObject({
  itemSequence: z.number().int().positive(),
  adjudication: z.array(adjudication),
  detail: z.array(itemDetail).optional(),
});

/** R4/R4B addItem: which items (and details) it replaces, its own adjudication, its details. */
const addItem = z.looseObject({
  itemSequence: z.array(z.number().int().positive()).optional(),
  detailSequence: z.array(z.number().int().positive()).optional(),
  adjudication: z.array(adjudication).optional(),
  detail: z.array(itemDetail).optional(),
});

export const claimResponseResource = z.looseObject({
  resourceType: z.literal("ClaimResponse"),
  id: fhirId,
  identifier: z.array(identifier).optional(),
  status: z.enum(["active", "cancelled", "draft", "entered-in-error"]),
  type: codeableConcept.optional(),
  use: z.enum(["claim", "preauthorization", "predetermination"]),
  patient: reference,
  created: fhirDate,
  insurer: reference.optional(),
  request: reference.optional(),
  outcome: z.enum(["queued", "complete", "error", "partial"]),
  disposition: z.string().optional(),
  item: z.array(item).optional(),
  addItem: z.array(addItem).optional(),
  insurance: z.array(z.looseObject({ sequence: z.number().int().positive().optional(), focal: z.boolean().optional() })).optional(),
  meta: z.looseObject({ lastUpdated: z.string().optional() }).optional(),
  adjudication: z.array(adjudication).optional(),
  total: z.array(z.looseObject({ category: codeableConcept, amount: money.optional() })).optional(),
  payment: z
    .looseObject({
      type: codeableConcept.optional(),
      date: fhirDate.optional(),
      amount: money,
    })
    .optional(),
});

export const patientResource = z.looseObject({
  resourceType: z.literal("Patient"),
  id: fhirId,
  identifier: z.array(identifier).optional(),
});

const entry = z.looseObject({
  fullUrl: z.string().optional(),
  resource: z.looseObject({ resourceType: z.string() }),
});

/**
 * A FHIR R4B collection Bundle carrying exactly one ClaimResponse and at most one Patient. Each entry's
 * resource is validated against its own schema so errors name the entry (entry[0].resource.outcome).
 */
export const claimResponseBundle = z
  .looseObject({
    resourceType: z.literal("Bundle"),
    type: z.literal("collection"),
    entry: z.array(entry).min(1),
  })
  .superRefine((bundle, ctx) => {
    let claimResponses = 0;
    bundle.entry.forEach((e, i) => {
      const schema =
        e.resource.resourceType === "ClaimResponse"
          ? claimResponseResource
          : e.resource.resourceType === "Patient"
            ? patientResource
            : null;
      if (e.resource.resourceType === "ClaimResponse") claimResponses++;
      if (!schema) return;
      const result = schema.safeParse(e.resource);
      if (!result.success) {
        for (const issue of result.error.issues) reissue(ctx, issue, ["entry", i, "resource"]);
      } else parsedResources.set(e.resource, result.data);
    });
    if (claimResponses !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["entry"],
        message: `must contain exactly one ClaimResponse resource (found ${claimResponses})`,
      });
    }
  });

export type ClaimResponseResource = z.infer<typeof claimResponseResource>;
export type PatientResource = z.infer<typeof patientResource>;
export type ClaimResponseBundle = z.infer<typeof claimResponseBundle>;

/**
 * The typed resources the bundle's own validation parsed, by the bundle's resource objects: the projection
 * reads them from here instead of parsing each resource a second time (its largest cost after D1).
 */
const parsedResources = new WeakMap<object, unknown>();

export function bundleResources(bundle: ClaimResponseBundle): {
  claimResponse: ClaimResponseResource;
  patient: PatientResource | null;
} {
  const cr = bundle.entry.find((e) => e.resource.resourceType === "ClaimResponse");
  const patient = bundle.entry.find((e) => e.resource.resourceType === "Patient");
  return {
    claimResponse: (parsedResources.get(cr!.resource) as ClaimResponseResource | undefined) ?? claimResponseResource.parse(cr!.resource),
    patient: patient ? ((parsedResources.get(patient.resource) as PatientResource | undefined) ?? patientResource.parse(patient.resource)) : null,
  };
}
