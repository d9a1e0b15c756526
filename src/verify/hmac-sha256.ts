import type { z } from "zod";
import { concatBytes, fromBase64, fromHex, utf8 } from "../crypto/encoding";
import { hmacSha256 } from "../crypto/hmac";
import type { hmacSha256Config } from "./config";
import { anySecretMatches, checkTimestamp, fail, type VerifyInput, type VerifyResult } from "./types";

type Config = z.output<typeof hmacSha256Config>;

/**
 * Generic HMAC-SHA256 over the raw body (Cair's HMAC-256 and similar partners). The header carries the
 * signature in hex or base64, optionally behind a prefix such as `sha256=`; several comma-separated
 * signatures are accepted (a partner rotating its own secret). With a timestamp header the signed message
 * is `${timestamp}.${body}`, and the timestamp must lie within the tolerance.
 */
export async function verifyHmacSha256(config: Config, input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get(config.header);
  if (!header) return fail("SIGNATURE_INVALID", `Missing ${config.header} header.`);

  let message = input.body;
  if (config.timestampHeader) {
    const ts = checkTimestamp(input.headers.get(config.timestampHeader), input.now, config.toleranceSeconds);
    if (!ts.ok) return ts.result;
    message = concatBytes(utf8(`${ts.timestamp}.`), input.body);
  }

  const presented = parseSignatures(header, config);
  if (presented.length === 0) return fail("SIGNATURE_INVALID", `Malformed ${config.header} header.`);

  if (!(await anySecretMatches(input.secrets, presented, (secret) => hmacSha256(secret, message)))) return fail("SIGNATURE_INVALID", "No signature matches any secret of this source.");
  return { ok: true, eventId: config.idHeader ? input.headers.get(config.idHeader) : null };
}

function parseSignatures(header: string, config: Config): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let part of header.split(",")) {
    part = part.trim();
    if (config.prefix) {
      if (!part.startsWith(config.prefix)) continue;
      part = part.slice(config.prefix.length);
    }
    const bytes = config.encoding === "hex" ? fromHex(part) : fromBase64(part);
    if (bytes && bytes.length === 32) out.push(bytes);
  }
  return out;
}
