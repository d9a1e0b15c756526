import type { z } from "zod";
import { formatPath } from "../errors";

/** The HCMS guide's error body: {error, error_code, claim_id, suggestions} (plus field details). */
export class PayorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly suggestions: string[] = [],
    readonly details?: { path: string; message: string }[],
    readonly claimId: string | null = null,
  ) {
    super(message);
  }

  toBody() {
    return {
      error: this.message,
      error_code: this.code,
      claim_id: this.claimId,
      suggestions: this.suggestions,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export const insuranceNotFound = (insuranceId: string) =>
  new PayorError(404, "INSURANCE_NOT_FOUND", `Insurance ID ${insuranceId} not found or not covered by this payor`, [
    "Verify insurance ID format",
    "Check if patient is enrolled with this payor",
    "Contact payor customer service",
  ]);

/** A validation failure, coded by the first field at fault (the guide's codes for the two code checks). */
export function validationError(error: z.ZodError, input: unknown): PayorError {
  const details = error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const first = details[0]!;
  const given = input && typeof input === "object" ? (input as Record<string, unknown>) : {};
  const missing = error.issues.some((i) => i.path.length === 1 && given[String(i.path[0])] === undefined);
  const code =
    first.path === "diagnosis_code"
      ? "INVALID_DIAGNOSIS_CODE"
      : first.path === "procedure_code"
        ? "INVALID_PROCEDURE_CODE"
        : missing
          ? "MISSING_REQUIRED_FIELD"
          : "VALIDATION_ERROR";
  return new PayorError(
    400,
    code,
    `Invalid claim: ${first.path || "body"} ${first.message}`,
    details.map((d) => `${d.path || "body"}: ${d.message}`),
    details,
  );
}
