import { z } from "zod";
import { MAX_MONEY } from "../domain/money";

// The FHIR R4B datatypes our partner payloads use. Objects are loose: FHIR resources carry many elements
// we do not read, and those must pass through untouched.

export const coding = z.looseObject({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});

export const codeableConcept = z.looseObject({
  coding: z.array(coding).optional(),
  text: z.string().optional(),
});

export const reference = z.looseObject({
  reference: z.string().optional(),
  type: z.string().optional(),
  display: z.string().optional(),
  identifier: z.looseObject({ system: z.string().optional(), value: z.string().optional() }).optional(),
});

export const identifier = z.looseObject({
  use: z.string().optional(),
  type: codeableConcept.optional(),
  system: z.string().optional(),
  value: z.string().optional(),
});

export { MAX_MONEY };
export const CURRENCY_NOT_SUPPORTED = "CURRENCY_NOT_SUPPORTED";

/** Raises an inner value's issue at its place in the outer one, keeping its machine code (CURRENCY_NOT_SUPPORTED). */
export function reissue(ctx: z.RefinementCtx, issue: z.core.$ZodIssue, path: PropertyKey[]) {
  const params = issue.code === "custom" ? issue.params : undefined;
  ctx.addIssue({ code: "custom", message: issue.message, path: [...path, ...issue.path], ...(params ? { params } : {}) });
}

/** A currency other than USD: the issue carries the machine code the error answer uses. */
export function refuseCurrency(ctx: z.RefinementCtx, currency: string, path: PropertyKey[]) {
  ctx.addIssue({ code: "custom", path, message: `currency ${currency} is not supported; only USD`, params: { code: CURRENCY_NOT_SUPPORTED } });
}

/**
 * FHIR Money: `value` may be absent where FHIR allows it (a currency-only element); a value must lie
 * within ±100,000,000.00 and the currency, when given, must be USD, so an accepted remit is always
 * processable.
 */
export const money = z
  .looseObject({
    value: z.number().min(-MAX_MONEY, "must not be below -100,000,000.00").max(MAX_MONEY, "must not exceed 100,000,000.00").optional(),
    currency: z.string().length(3).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.currency !== undefined && m.currency.toUpperCase() !== "USD") refuseCurrency(ctx, m.currency, ["currency"]);
  });

/** FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) or dateTime. */
export const fhirDate = z
  .string()
  .regex(
    /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?)?)?)?$/,
    "must be a FHIR date or dateTime",
  );

export const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, "must be a FHIR id");

export type Coding = z.infer<typeof coding>;
export type CodeableConcept = z.infer<typeof codeableConcept>;

export const hasCode = (concept: CodeableConcept | undefined, system: string, code: string): boolean =>
  concept?.coding?.some((c) => c.system === system && c.code === code) ?? false;

export const codesOf = (concept: CodeableConcept | undefined): Coding[] => concept?.coding ?? [];

/** `Claim/44f4…` → `44f4…` when the reference has that resource type. */
export function referenceId(ref: string | undefined, resourceType: string): string | null {
  if (!ref) return null;
  const parts = ref.split("/");
  const i = parts.lastIndexOf(resourceType);
  return i >= 0 && parts[i + 1] ? parts[i + 1]! : null;
}
