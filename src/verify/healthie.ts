import type { z } from "zod";
import { fromHex, toBase64, toHex, utf8 } from "../crypto/encoding";
import { hmacSha256, sha256Bytes } from "../crypto/hmac";
import type { healthieConfig } from "./config";
import { anySecretMatches, checkTimestamp, fail, type VerifyInput, type VerifyResult } from "./types";

/**
 * Healthie's signed payloads (docs.gethealthie.com/guides/webhooks, "Signed payloads"). Each webhook
 * carries three headers:
 *   Content-Digest:  `<algorithm>=<SHA-256 of the raw body>`
 *   Signature-Input: the label and the components it signs, e.g.
 *                    `sig1=("@method" "@path" "@query" "content-digest" "content-type" "content-length")`
 *   Signature:       `sig1=<hex HMAC-SHA256>` keyed by the webhook's secret
 * over the string, the components joined by single spaces:
 *   `<method, lower case> <path> <query, without ?> <Content-Digest value> application/json <body length in bytes>`
 * where the Content-Digest value is what follows the header's first `=` (up to any next `=`), as Healthie's
 * own verification sample takes it.
 *
 * Worked vector (test/unit/verify-unit.test.ts): secret `healthie-webhook-secret-example`, POST to
 * /webhooks/healthie-events with no query, body
 *   {"resource_id":"1234","resource_id_type":"Appointment","event_type":"appointment.created"} (90 bytes)
 *   Content-Digest: sha-256=1c94e32e7771bc6d19bebf6f5cb1883623c60fbfe01bd2731a8e30d53d296a7b
 *   signed string:  "post /webhooks/healthie-events  1c94e32e…6a7b application/json 90" (empty query: two spaces)
 *   Signature:      sig1=7c570123a7a64735b298dcc8b2ad5c8ee4c2ff4ac1fcbe68dbb3107f5d4fdabe
 *
 * Beyond the sample, the digest is checked against the body itself (hex or base64 SHA-256), so a valid
 * signature cannot carry another body of the same length; a `created=` in Signature-Input must be fresh.
 */
export async function verifyHealthie(config: z.output<typeof healthieConfig>, input: VerifyInput): Promise<VerifyResult> {
  const digestHeader = input.headers.get("content-digest");
  const signatureInput = input.headers.get("signature-input");
  const signature = input.headers.get("signature");
  if (!digestHeader || !signatureInput || !signature) return fail("SIGNATURE_INVALID", "Missing Content-Digest, Signature-Input or Signature header.");
  if (!input.request) return fail("SIGNATURE_INVALID", "The request line is needed to verify a Healthie signature.");

  const eq = digestHeader.indexOf("=");
  const algorithm = digestHeader.slice(0, eq).trim().toLowerCase();
  const digestValue = digestHeader.split("=")[1]?.trim() ?? "";
  const whole = digestHeader.slice(eq + 1).trim().replace(/^:|:$/g, "");
  const actual = await sha256Bytes(input.body);
  if (eq < 0 || !/^sha-?256$/.test(algorithm) || (whole.toLowerCase() !== toHex(actual) && whole !== toBase64(actual))) {
    return fail("SIGNATURE_INVALID", "Content-Digest is not the SHA-256 of the body.");
  }
  const created = /(?:^|;)\s*created=(\d+)/.exec(signatureInput)?.[1];
  if (created) {
    const ts = checkTimestamp(created, input.now, config.toleranceSeconds);
    if (!ts.ok) return ts.result;
  }

  const { method, path, query } = input.request;
  const message = utf8(`${method.toLowerCase()} ${path} ${query} ${digestValue} application/json ${input.body.length}`);
  const presented = signature
    .split(",")
    .map((entry) => fromHex(entry.slice(entry.indexOf("=") + 1).trim()))
    .filter((b): b is Uint8Array => !!b && b.length === 32);
  if (presented.length === 0) return fail("SIGNATURE_INVALID", "Signature carries no HMAC-SHA256 value.");
  if (!(await anySecretMatches(input.secrets, presented, (secret) => hmacSha256(secret, message)))) {
    return fail("SIGNATURE_INVALID", "No Healthie signature matches any secret of this source.");
  }
  return { ok: true, eventId: null };
}
