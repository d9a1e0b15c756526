import { fromBase64, toBase64, utf8 } from "./encoding";

// Secrets at rest: AES-256-GCM under the SECRETS_KEY Worker secret (32 bytes, base64).
// Stored form: "v1:" + base64(iv[12] || ciphertext+tag). The version prefix leaves room for key rotation.
const PREFIX = "v1:";
const keys = new Map<string, Promise<CryptoKey>>();

export class SecretsKeyError extends Error {}

function loadKey(secretsKey: string | undefined): Promise<CryptoKey> {
  if (!secretsKey) throw new SecretsKeyError("SECRETS_KEY is not configured");
  let key = keys.get(secretsKey);
  if (!key) {
    const raw = fromBase64(secretsKey);
    if (!raw || raw.length !== 32) throw new SecretsKeyError("SECRETS_KEY must be 32 bytes, base64");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(secretsKey, key);
  }
  return key;
}

export async function sealSecret(secretsKey: string | undefined, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await loadKey(secretsKey), utf8(plaintext));
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return PREFIX + toBase64(out);
}

export async function openSecret(secretsKey: string | undefined, sealed: string): Promise<string> {
  if (!sealed.startsWith(PREFIX)) throw new SecretsKeyError("unknown secret format");
  const bytes = fromBase64(sealed.slice(PREFIX.length));
  if (!bytes || bytes.length < 13) throw new SecretsKeyError("corrupt secret");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12) },
    await loadKey(secretsKey),
    bytes.slice(12),
  );
  return new TextDecoder().decode(pt);
}
