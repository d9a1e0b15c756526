import { toBase64 } from "../crypto/encoding";
import type { VerificationScheme } from "../verify/config";

/** A fresh random secret in the form the scheme expects (Standard Webhooks wants whsec_ + base64). */
export function generateSecret(scheme: VerificationScheme): string {
  const bytes = toBase64(crypto.getRandomValues(new Uint8Array(32)));
  return scheme === "standard_webhooks" ? `whsec_${bytes}` : `cgsk_${bytes.replace(/[+/=]/g, "")}`;
}
