import { timingSafeEqual } from "../crypto/compare";
import { utf8 } from "../crypto/encoding";
import type { z } from "zod";
import type { apiSecretConfig } from "./config";
import { fail, type VerifyInput, type VerifyResult } from "./types";

/** The partner sends the shared secret itself in a configured header (Cair's API_SECRET). */
export function verifyApiSecret(config: z.output<typeof apiSecretConfig>, input: VerifyInput): VerifyResult {
  const presented = input.headers.get(config.header);
  if (!presented) return fail("SIGNATURE_INVALID", `Missing ${config.header} header.`);
  const presentedBytes = utf8(presented);
  let match = false;
  for (const secret of input.secrets) match = timingSafeEqual(presentedBytes, utf8(secret)) || match;
  if (!match) return fail("SIGNATURE_INVALID", `The ${config.header} header does not match any secret of this source.`);
  return { ok: true, eventId: config.idHeader ? input.headers.get(config.idHeader) : null };
}
