import type { z } from "zod";
import { ed25519PublicKey, verifyEd25519 } from "../crypto/ed25519";
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
 * `v1,<base64 HMAC>` entries checked against whsec_ secrets, and `v1a,<base64 Ed25519>` entries checked
 * against whpk_ public keys). The webhook-id is the partner's event id.
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
  const presentedV1a: Uint8Array[] = [];
  for (const entry of header.split(" ")) {
    const [version, sig] = entry.split(",", 2);
    const bytes = sig ? fromBase64(sig) : null;
    if (version === "v1" && bytes?.length === 32) presented.push(bytes);
    if (version === "v1a" && bytes?.length === 64) presentedV1a.push(bytes);
  }
  if (presented.length + presentedV1a.length === 0) return fail("SIGNATURE_INVALID", "webhook-signature carries no v1 or v1a signature.");

  const message = concatBytes(utf8(`${id}.${ts.timestamp}.`), input.body);
  const macFor = async (secret: string) => {
    const key = secret.startsWith("whpk_") ? null : standardWebhooksKey(secret);
    return key ? hmacSha256(key, message) : null;
  };
  // v1a: Ed25519 signatures checked against the source's whpk_ public keys (every pair, like v1)
  let v1aMatch = false;
  for (const secret of input.secrets) {
    const publicKey = secret.startsWith("whpk_") ? ed25519PublicKey(secret) : null;
    if (!publicKey) continue;
    for (const sig of presentedV1a) v1aMatch = (await verifyEd25519(publicKey, message, sig)) || v1aMatch;
  }
  if (!v1aMatch && !(await anySecretMatches(input.secrets, presented, macFor))) return fail("SIGNATURE_INVALID", "No webhook-signature matches any secret of this source.");
  return { ok: true, eventId: id };
}
