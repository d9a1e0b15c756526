import type { z } from "zod";
import { concatBytes, fromHex, utf8 } from "../crypto/encoding";
import { hmacSha256 } from "../crypto/hmac";
import type { stripeConfig } from "./config";
import { anySecretMatches, checkTimestamp, fail, type VerifyInput, type VerifyResult } from "./types";

/**
 * Stripe-Signature: `t=<unix>,v1=<hex>[,v1=<hex>…]`; v1 = HMAC-SHA256(secret, `${t}.${body}`), where the
 * key is the endpoint secret string as given (including its `whsec_` prefix). The Stripe event id lives
 * in the body, so the stripe.payment adapter supplies the dedup key.
 */
export async function verifyStripe(config: z.output<typeof stripeConfig>, input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("stripe-signature");
  if (!header) return fail("SIGNATURE_INVALID", "Missing Stripe-Signature header.");

  let timestamp: string | null = null;
  const v1: Uint8Array[] = [];
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === "t") timestamp = value;
    else if (key === "v1") {
      const bytes = fromHex(value);
      if (bytes && bytes.length === 32) v1.push(bytes);
    }
  }
  if (v1.length === 0) return fail("SIGNATURE_INVALID", "Stripe-Signature carries no v1 signature.");
  const ts = checkTimestamp(timestamp, input.now, config.toleranceSeconds);
  if (!ts.ok) return ts.result;

  const message = concatBytes(utf8(`${ts.timestamp}.`), input.body);
  if (!(await anySecretMatches(input.secrets, v1, (secret) => hmacSha256(secret, message)))) return fail("SIGNATURE_INVALID", "No Stripe v1 signature matches any secret of this source.");
  return { ok: true, eventId: null };
}
