import { z } from "zod";
import { MAX_MONEY } from "../domain/money";

// What partners' real APIs send, accepted as it comes (CONTRACT.md "Nothing verified is lost"): null for
// anything optional in practice, numbers where ids are usually strings, money and percent strings. Each
// helper refuses only what the gateway cannot act on, and says so naming the field.

/** An id sent as a string or a number (Healthie sends both): a string. */
export const idLike = z.union([z.string(), z.number()], { error: "must be a string or a number" }).transform(String);

/** An optional boolean that may come as null. */
export const optionalBoolean = z.boolean().nullish();

/**
 * A decimal that may come as a number or a string with a currency sign, thousands separators or a
 * percent sign ("$1,500.00", "1,500.00", "20%", 20): the plain decimal string, or null for null / "".
 * Bounded to ±100,000,000 so what is accepted can always be processed.
 */
export const decimalLike = decimalOf(Infinity);

/** Money the same way, in dollars and cents: more than two decimals is refused, never rounded silently. */
export const moneyLike = decimalOf(2);

function decimalOf(maxDecimals: number) {
  return z
    .union([z.number(), z.string()], { error: "must be a number or a decimal string" })
    .nullish()
    .transform((v, ctx): string | null => {
      if (v === null || v === undefined) return null;
      const s = typeof v === "number" ? String(v) : v.trim().replace(/^\$/, "").replace(/,/g, "").replace(/%$/, "").trim();
      if (s === "") return null;
      if (!/^-?\d+(\.\d+)?$/.test(s)) {
        ctx.addIssue({ code: "custom", message: "must be a number or an amount such as 1,500.00 or 20%" });
        return z.NEVER;
      }
      if ((s.split(".")[1]?.length ?? 0) > maxDecimals) {
        ctx.addIssue({ code: "custom", message: `must have at most ${maxDecimals} decimal places` });
        return z.NEVER;
      }
      if (Math.abs(Number(s)) > MAX_MONEY) {
        ctx.addIssue({ code: "custom", message: "must not exceed 100,000,000" });
        return z.NEVER;
      }
      return s;
    });
}

/** A CPT modifier: empty means none, lower case is upper case, anything else must be two characters. */
export const modifier = z
  .string()
  .nullish()
  .transform((v) => (v ?? "").trim().toUpperCase() || null)
  .pipe(z.string().regex(/^[0-9A-Z]{2}$/, "must be a two-character modifier").nullable());

/**
 * CMS-1500 diagnosis pointers (box 24E): "1,2", "A,B" (the form's letters A–L for diagnoses 1–12), a
 * number, or empty: the diagnosis numbers.
 */
export const diagnosisPointers = z
  .union([z.string(), z.number()], { error: "must be diagnosis pointers such as 1,2 or A,B" })
  .nullish()
  .transform((v, ctx): number[] => {
    if (v === null || v === undefined) return [];
    const parts = String(v).split(/[\s,]+/).filter(Boolean);
    const out: number[] = [];
    for (const part of parts) {
      const n = /^\d+$/.test(part) ? Number(part) : /^[A-La-l]$/.test(part) ? part.toUpperCase().charCodeAt(0) - 64 : NaN;
      if (!(n >= 1 && n <= 12)) {
        ctx.addIssue({ code: "custom", message: "must be diagnosis pointers 1–12 or A–L, comma-separated" });
        return z.NEVER;
      }
      out.push(n);
    }
    return out;
  });

/** A date (YYYY-MM-DD), or a date-time whose date is taken; null when absent. */
export const dateLike = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T.*)?$/, "must be a date YYYY-MM-DD")
  .transform((v) => v.slice(0, 10))
  .nullish();

/**
 * An ISO 8601 date-time with or without an offset (`2024-10-03T15:30:00.123456` is read as UTC), as the
 * HCMS payor sends it.
 */
export const dateTimeLike = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/, "must be an ISO 8601 date-time")
  .refine((v) => !Number.isNaN(Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v.replace(/(\.\d{3})\d+$/, "$1")}Z`)), "must be a real date-time");
