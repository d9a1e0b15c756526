// Independent signers for tests: plain WebCrypto, not the gateway's verify/ code, so a bug there cannot
// hide behind the same bug here.
const enc = new TextEncoder();

async function hmac(key: Uint8Array, msg: string | Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, typeof msg === "string" ? enc.encode(msg) : msg));
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function hmacHex(secret: string, msg: string): Promise<string> {
  return hex(await hmac(enc.encode(secret), msg));
}

export async function hmacBase64(secret: string, msg: string): Promise<string> {
  return b64(await hmac(enc.encode(secret), msg));
}

export async function stripeHeader(secret: string, body: string, t = nowSeconds()): Promise<string> {
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

export async function standardWebhooksHeaders(
  secret: string,
  body: string,
  id = `msg_${crypto.randomUUID()}`,
  t = nowSeconds(),
): Promise<Record<string, string>> {
  const key = unb64(secret.replace(/^whsec_/, ""));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(t),
    "webhook-signature": `v1,${b64(await hmac(key, `${id}.${t}.${body}`))}`,
  };
}
