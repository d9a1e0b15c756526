export interface VerifyInput {
  headers: Headers;
  /** The raw request body, exactly as received. */
  body: Uint8Array;
  /** Every active secret of the source (rotation: any may match). */
  secrets: readonly string[];
  /** Current time, unix seconds. */
  now: number;
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
