import { z } from "zod";

/**
 * Query parameters shared by the list routes, as zod schemas: they validate (400 INVALID_FILTER naming the
 * parameter, through the router's hook) and document each list route's query once.
 */

/** `limit`: clamped to [1, max] (a limit out of range is not an error; a page is simply that size). */
export const limitQuery = (max: number, fallback = 100) =>
  z
    .string()
    .optional()
    .transform((v) => Math.min(max, Math.max(1, Number(v ?? fallback) || fallback)))
    .meta({ description: `Page size, 1–${max} (default ${fallback})`, example: String(fallback) });

/** An ISO 8601 bound (`since`/`until`), normalised to UTC. */
export const timeQuery = (what: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), "must be an ISO 8601 date-time")
    .transform((v) => (v === undefined ? undefined : new Date(Date.parse(v)).toISOString()))
    .meta({ description: what, example: "2026-11-23T00:00:00Z" });

/** `true`/`false`; anything else is 400. */
export const booleanQuery = (what: string) =>
  z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true"))
    .meta({ description: what });
