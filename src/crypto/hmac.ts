import { utf8 } from "./encoding";

const keyCache = new Map<string, Promise<CryptoKey>>();

function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** HMAC-SHA256 of `message` under `key` (a UTF-8 secret string or raw key bytes). */
export async function hmacSha256(key: string | Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  let cryptoKey: Promise<CryptoKey>;
  if (typeof key === "string") {
    cryptoKey = keyCache.get(key) ?? importHmacKey(utf8(key));
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(key, cryptoKey);
  } else {
    cryptoKey = importHmacKey(key);
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", await cryptoKey, message));
}

/** SHA-256 of the bytes. */
export async function sha256Bytes(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}
