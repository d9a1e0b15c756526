// Money is integer cents inside the gateway. These are the only conversions, done on decimal strings so
// no binary floating point ever touches an amount.

/** The money range the gateway accepts anywhere (CONTRACT.md "Money rules"): ±100,000,000.00 USD. */
export const MAX_MONEY = 100_000_000;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Exact decimal (≤ 2 places) → cents; null when the value has more than 2 decimals or is not finite. */
export function exactCents(value: number | string): number | null {
  const parsed = parseDecimal(value);
  if (!parsed || parsed.frac.length > 2) return null;
  return exceedsSafeCents(parsed.int) ? null : centsOf(parsed.negative, parsed.int, parsed.frac.padEnd(2, "0"));
}

/** Whether a decimal's integer part is too large to hold as cents (callers bound amounts long before). */
const exceedsSafeCents = (int: string) => int.replace(/^0+/, "").length > 13;

/** True when a decimal amount's magnitude is above `max` units (checked on the digits, never a float). */
export function exceedsAmount(value: number | string, max: number): boolean {
  const parsed = parseDecimal(value);
  if (!parsed) return false;
  if (exceedsSafeCents(parsed.int)) return true;
  return centsOf(false, parsed.int, parsed.frac.padEnd(2, "0").slice(0, 2)) > max * 100 || (centsOf(false, parsed.int, "00") === max * 100 && /[1-9]/.test(parsed.frac));
}

/**
 * Partner amounts (FHIR decimals may carry more precision): rounds half away from zero to the cent,
 * on the decimal digits themselves.
 */
export function roundToCents(value: number | string): number {
  const parsed = parseDecimal(value);
  if (!parsed) throw new RangeError(`not a decimal amount: ${String(value)}`);
  const frac = parsed.frac.padEnd(3, "0");
  let cents = centsOf(false, parsed.int, frac.slice(0, 2));
  if (frac.charCodeAt(2) >= 53 /* '5' */) cents += 1;
  return parsed.negative ? -cents : cents;
}

/** cents → a JSON number with the same decimal digits (for responses and partner-facing payloads). */
export function centsToAmount(cents: number): number {
  if (!Number.isSafeInteger(cents)) throw new RangeError("cents must be a safe integer");
  return Number(centsToDecimalString(cents));
}

/** cents → "1250.00" */
export function centsToDecimalString(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function parseDecimal(value: number | string): { negative: boolean; int: string; frac: string } | null {
  let s: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    // Shortest round-trip form; beyond 1e21 a double is an integer (BigInt spells it out), below 1e-6
    // toFixed expands the exponent.
    s = Math.abs(value) >= 1e21 ? BigInt(value).toString() : Math.abs(value) >= 1e-6 || value === 0 ? String(value) : value.toFixed(20);
  } else {
    s = value.trim();
  }
  const m = DECIMAL.exec(s);
  if (!m) return null;
  return { negative: m[1] === "-", int: m[2]!, frac: (m[3] ?? "").replace(/0+$/, "") };
}

function centsOf(negative: boolean, int: string, twoDigits: string): number {
  const cents = Number(int) * 100 + Number(twoDigits || "0");
  if (!Number.isSafeInteger(cents)) throw new RangeError("amount out of range");
  return negative && cents !== 0 ? -cents : cents;
}
