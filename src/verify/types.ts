import { timingSafeEqual } from "../crypto/compare";

export interface VerifyInput {
  headers: Headers;
  /** The raw request body, exactly as received. */
  body: Uint8Array;
  /** Every active secret of the source (rotation: any may match). */
  secrets: readonly string[];
  /** Current time, unix seconds. */
  now: number;
  /** The request line, for schemes that sign it (Healthie): method, path, query without `?`. */
  request?: { method: string; path: string; query: string };
}

export type VerifyFailureCode = "SIGNATURE_INVALID" | "TIMESTAMP_OUT_OF_TOLERANCE";

export type VerifyResult =
  | { ok: true; /** The partner's event id where the scheme carries one. */ eventId: string | null }
  | { ok: false; code: VerifyFailureCode; message: string };

export const fail = (code: VerifyFailureCode, message: string): VerifyResult => ({ ok: false, code, message });

/** Parses a unix-seconds timestamp header and checks it against the tolerance, both ways. */
export function checkTimestamp(
  raw: string | null | undefined,
  now: number,
  toleranceSeconds: number,
): { ok: true; timestamp: string } | { ok: false; result: VerifyResult } {
  if (!raw || !/^\d{1,12}$/.test(raw.trim())) {
    return { ok: false, result: fail("SIGNATURE_INVALID", "Missing or malformed signature timestamp.") };
  }
  const ts = Number(raw.trim());
  if (Math.abs(now - ts) > toleranceSeconds) {
    return {
      ok: false,
      result: fail(
        "TIMESTAMP_OUT_OF_TOLERANCE",
        `Signature timestamp is more than ${toleranceSeconds} seconds away from the current time.`,
      ),
    };
  }
  return { ok: true, timestamp: raw.trim() };
}

/**
 * Rotation: any of the source's secrets may have made any of the presented signatures. Every pair is
 * compared (constant time, no early exit), so timing says nothing about which secret matched.
 */
export async function anySecretMatches(
  secrets: readonly string[],
  presented: readonly Uint8Array[],
  expectedFor: (secret: string) => Promise<Uint8Array | null>,
): Promise<boolean> {
  let match = false;
  for (const secret of secrets) {
    const expected = await expectedFor(secret);
    if (!expected) continue; // an unusable stored secret is skipped, never a crash
    for (const sig of presented) match = timingSafeEqual(sig, expected) || match;
  }
  return match;
}
