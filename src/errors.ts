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
  // A currency we cannot hold is its own answer (CONTRACT.md "Money rules"): 422 CURRENCY_NOT_SUPPORTED.
  const currency = error.issues.findIndex((i) => i.code === "custom" && (i as { params?: { code?: string } }).params?.code === "CURRENCY_NOT_SUPPORTED");
  const first = details[Math.max(0, currency)];
  const where = first?.path ? ` at ${first.path}` : "";
  return new ApiError(422, currency >= 0 ? "CURRENCY_NOT_SUPPORTED" : "PAYLOAD_INVALID", `The ${what} is invalid${where}: ${first?.message ?? "invalid"}.`, details);
}

export const storageUnavailable = () =>
  new ApiError(503, "STORAGE_UNAVAILABLE", "Storage is unavailable; retry later. Nothing was stored.", undefined, {
    "Retry-After": "5",
  });
