import type { z } from "zod";

export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * An error the contract names: HTTP status, machine code, human message and optional details.
 * Anything else that escapes a handler is a 500 INTERNAL_ERROR.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
    /** Fields the answer carries beside code and message (e.g. the id an invalid event was kept under). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  toBody() {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}), ...this.extra },
    };
  }
}

/** `["entry", 0, "resource", "id"]` → `entry[0].resource.id` */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

export function zodDetails(error: z.ZodError, prefix = ""): ErrorDetail[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

export function payloadInvalid(error: z.ZodError, what = "payload", prefix = ""): ApiError {
  const details = zodDetails(error, prefix);
  // An issue that carries its own machine code is the answer's code (CONTRACT.md: a currency we cannot
  // hold is CURRENCY_NOT_SUPPORTED, an event type nobody sends is UNKNOWN_EVENT_TYPE).
  const codeOf = (i: z.core.$ZodIssue): string | null => (i.code === "custom" && typeof i.params?.code === "string" ? (i.params.code as string) : null);
  const coded = error.issues.findIndex((i) => codeOf(i) !== null);
  const code = coded >= 0 ? codeOf(error.issues[coded]!)! : "PAYLOAD_INVALID";
  const first = details[Math.max(0, coded)];
  const where = first?.path ? ` at ${first.path}` : "";
  return new ApiError(422, code, `The ${what} is invalid${where}: ${first?.message ?? "invalid"}.`, details);
}

export const storageUnavailable = () =>
  new ApiError(503, "STORAGE_UNAVAILABLE", "Storage is unavailable; retry later. Nothing was stored.", undefined, {
    "Retry-After": "5",
  });
