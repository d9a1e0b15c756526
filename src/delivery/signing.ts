import { z } from "zod";
import { signEd25519 } from "../crypto/ed25519";
import { concatBytes, toBase64, utf8 } from "../crypto/encoding";
import { signStandardWebhook, standardWebhooksKey } from "../verify/standard-webhooks";

/** A fresh Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export const newSubscriptionSecret = () => `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;

/**
 * A subscription secret as given: `whsec_` + base64 of 24 to 64 bytes (the Standard Webhooks range), or a
 * plain HCMS `secret_key` of at least 16 characters (its bytes become the key). Anything else would fail
 * every delivery, so it is refused (422) when given.
 */
export const subscriptionSecret = z
  .string()
  .max(512)
  .superRefine((s, ctx) => {
    if (s.startsWith("whsec_")) {
      const key = standardWebhooksKey(s);
      if (!key || key.length < 24 || key.length > 64) ctx.addIssue({ code: "custom", message: "must be whsec_ followed by the base64 of 24 to 64 bytes" });
    } else if (s.length < 16) {
      ctx.addIssue({ code: "custom", message: "must be at least 16 characters (or whsec_ and base64)" });
    }
  });

/**
 * Secrets are kept in the Standard Webhooks form. A plain secret (the HCMS registration's `secret_key`)
 * becomes whsec_ + base64 of its bytes, which signs exactly as an HMAC keyed by the plain string does.
 */
export function normalizeSubscriptionSecret(secret: string): string {
  return secret.startsWith("whsec_") ? secret : `whsec_${toBase64(new TextEncoder().encode(secret))}`;
}

export type SigningVersion = "v1" | "v1a";

/**
 * The Standard Webhooks headers: one `v1,<base64>` signature per active HMAC secret and one
 * `v1a,<base64>` per active Ed25519 key (the versions the subscription asked for), space-separated, so a
 * receiver verifying either version, with either key during a rotation, finds one that matches.
 */
export async function signedHeaders(
  keys: { hmac: string[]; ed25519: string[] },
  versions: readonly SigningVersion[],
  id: string,
  timestamp: number,
  body: Uint8Array,
): Promise<Record<string, string>> {
  const message = concatBytes(utf8(`${id}.${timestamp}.`), body);
  const signatures = [
    ...(versions.includes("v1") ? await Promise.all(keys.hmac.map((s) => signStandardWebhook(s, id, timestamp, body))) : []),
    ...(versions.includes("v1a") ? await Promise.all(keys.ed25519.map(async (k) => `v1a,${toBase64(await signEd25519(k, message))}`)) : []),
  ];
  if (signatures.length === 0) throw new Error(`no active key for ${versions.join("+")}`);
  return {
    "content-type": "application/json",
    "user-agent": "claimgate-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.join(" "),
  };
}
