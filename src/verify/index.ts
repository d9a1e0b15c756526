import { verifyApiSecret } from "./api-secret";
import type { VerificationConfig } from "./config";
import { verifyHealthie } from "./healthie";
import { verifyHmacSha256 } from "./hmac-sha256";
import { verifyStandardWebhooks } from "./standard-webhooks";
import { verifyStripe } from "./stripe";
import type { VerifyInput, VerifyResult } from "./types";

export type { VerificationConfig } from "./config";
export type { VerifyInput, VerifyResult } from "./types";

/** Verifies a request against its source's scheme. Pure: headers, raw bytes, secrets and a clock. */
export async function verifyRequest(config: VerificationConfig, input: VerifyInput): Promise<VerifyResult> {
  if (input.secrets.length === 0) {
    return { ok: false, code: "SIGNATURE_INVALID", message: "This source has no active secret." };
  }
  switch (config.scheme) {
    case "api_secret":
      return verifyApiSecret(config, input);
    case "hmac_sha256":
      return verifyHmacSha256(config, input);
    case "stripe":
      return verifyStripe(config, input);
    case "standard_webhooks":
      return verifyStandardWebhooks(config, input);
    case "healthie":
      return verifyHealthie(config, input);
  }
}

/** Headers that carry secrets or signatures for this scheme; they are never stored with the event. */
export function credentialHeaders(config: VerificationConfig): string[] {
  const always = ["authorization", "cookie", "proxy-authorization"];
  switch (config.scheme) {
    case "api_secret":
      return [...always, config.header];
    case "hmac_sha256":
      return [...always, config.header];
    case "stripe":
      return [...always, "stripe-signature"];
    case "standard_webhooks":
      return [...always, "webhook-signature"];
    case "healthie":
      return [...always, "signature"];
  }
}
