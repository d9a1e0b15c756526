import { fromBase64, toBase64 } from "./encoding";

// Standard Webhooks v1a: Ed25519 signatures over `${id}.${timestamp}.${body}`. Keys travel as
// `whsk_` + base64 of the PKCS#8 private key (kept encrypted at rest) and `whpk_` + base64 of the raw
// 32-byte public key (the form the Standard Webhooks libraries take).

export async function generateEd25519(): Promise<{ privateKey: string; publicKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  return { privateKey: `whsk_${toBase64(pkcs8)}`, publicKey: `whpk_${toBase64(raw)}` };
}

export async function signEd25519(privateKey: string, message: Uint8Array): Promise<Uint8Array> {
  const der = fromBase64(privateKey.replace(/^whsk_/, ""));
  if (!der) throw new Error("not a whsk_ private key");
  const key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
}

/** The raw public key of a `whpk_` string, or null when it is not 32 bytes of base64. */
export function ed25519PublicKey(publicKey: string): Uint8Array | null {
  const raw = publicKey.startsWith("whpk_") ? fromBase64(publicKey.slice(5)) : null;
  return raw && raw.length === 32 ? raw : null;
}

export async function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}
