import { ApiError } from "../errors";

/** A `status` filter from the query: one of `allowed`, or undefined; anything else is 400 INVALID_FILTER. */
export function statusFilter<const T extends readonly string[]>(value: string | undefined, allowed: T): T[number] | undefined {
  if (!value) return undefined;
  if (!allowed.includes(value)) throw new ApiError(400, "INVALID_FILTER", `status must be one of ${allowed.join(", ")}.`);
  return value as T[number];
}

/** `limit` from the query, clamped to [1, max]. */
export const limitParam = (value: string | undefined, max: number, fallback = 100) => Math.min(max, Math.max(1, Number(value ?? fallback) || fallback));

/** An ISO bound from the query (`since`/`until`); a date that does not parse is 400 INVALID_FILTER. */
export function timeBound(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ApiError(400, "INVALID_FILTER", `${name} must be an ISO 8601 date-time.`);
  return new Date(t).toISOString();
}
