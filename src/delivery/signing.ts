import { z } from "zod";
import { toBase64 } from "../crypto/encoding";
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

/** The Standard Webhooks headers: one `v1,<base64>` signature per active secret, space-separated. */
export async function signedHeaders(secrets: string[], id: string, timestamp: number, body: Uint8Array): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => signStandardWebhook(s, id, timestamp, body)));
  return {
    "content-type": "application/json",
    "user-agent": "claimgate-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.join(" "),
  };
}
