import type { z } from "zod";
import { concatBytes, fromBase64, utf8 } from "../crypto/encoding";
import { hmacSha256 } from "../crypto/hmac";
import type { standardWebhooksConfig } from "./config";
import { anySecretMatches, checkTimestamp, fail, type VerifyInput, type VerifyResult } from "./types";

/**
 * The signing key of a Standard Webhooks secret: base64 after the optional `whsec_` prefix; null when it
 * is not base64 or decodes to nothing (`whsec_` and spaces), so such a secret is refused when given and
 * skipped, never used, when found stored.
 */
export function standardWebhooksKey(secret: string): Uint8Array | null {
  const key = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  return key && key.length > 0 ? key : null;
}

/** Signs `${id}.${timestamp}.${body}` per https://www.standardwebhooks.com (the `v1,<base64>` form). */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Uint8Array,
): Promise<string> {
  const key = standardWebhooksKey(secret);
  if (!key) throw new Error("secret is not base64");
  const mac = await hmacSha256(key, concatBytes(utf8(`${id}.${timestamp}.`), body));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

/**
 * Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (space-separated
 * `v1,<base64>` entries). The webhook-id is the partner's event id.
 */
export async function verifyStandardWebhooks(
  config: z.output<typeof standardWebhooksConfig>,
  input: VerifyInput,
): Promise<VerifyResult> {
  const id = input.headers.get("webhook-id");
  const header = input.headers.get("webhook-signature");
  if (!id || !header) return fail("SIGNATURE_INVALID", "Missing webhook-id or webhook-signature header.");
  const ts = checkTimestamp(input.headers.get("webhook-timestamp"), input.now, config.toleranceSeconds);
  if (!ts.ok) return ts.result;

  const presented: Uint8Array[] = [];
  for (const entry of header.split(" ")) {
    const [version, sig] = entry.split(",", 2);
    if (version !== "v1" || !sig) continue;
    const bytes = fromBase64(sig);
    if (bytes && bytes.length === 32) presented.push(bytes);
  }
  if (presented.length === 0) return fail("SIGNATURE_INVALID", "webhook-signature carries no v1 signature.");

  const message = concatBytes(utf8(`${id}.${ts.timestamp}.`), input.body);
  const macFor = async (secret: string) => {
    const key = standardWebhooksKey(secret);
    return key ? hmacSha256(key, message) : null;
  };
  if (!(await anySecretMatches(input.secrets, presented, macFor))) return fail("SIGNATURE_INVALID", "No webhook-signature matches any secret of this source.");
  return { ok: true, eventId: id };
}
