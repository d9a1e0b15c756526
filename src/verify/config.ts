import { z } from "zod";

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name")
  .transform((h) => h.toLowerCase());
const tolerance = z.number().int().min(1).max(86_400).default(300);
const optionalHeader = headerName.nullish().transform((h) => h ?? null);

export const apiSecretConfig = z.object({
  scheme: z.literal("api_secret"),
  header: headerName.default("x-api-key"),
  /** Header carrying the partner's event id, used for deduplication when present. */
  idHeader: optionalHeader,
});

export const hmacSha256Config = z.object({
  scheme: z.literal("hmac_sha256"),
  header: headerName,
  encoding: z.enum(["hex", "base64"]).default("hex"),
  prefix: z.string().max(32).nullish().transform((p) => p ?? null),
  /** When set, the signed message is `${timestamp}.${body}` and the timestamp must be fresh. */
  timestampHeader: optionalHeader,
  toleranceSeconds: tolerance,
  idHeader: optionalHeader,
});

export const stripeConfig = z.object({
  scheme: z.literal("stripe"),
  toleranceSeconds: tolerance,
});

export const standardWebhooksConfig = z.object({
  scheme: z.literal("standard_webhooks"),
  toleranceSeconds: tolerance,
});

/** Healthie's signed payloads (Content-Digest, Signature-Input, Signature): see src/verify/healthie.ts. */
export const healthieConfig = z.object({
  scheme: z.literal("healthie"),
  toleranceSeconds: tolerance,
});

export const verificationConfig = z.discriminatedUnion("scheme", [
  healthieConfig,
  apiSecretConfig,
  hmacSha256Config,
  stripeConfig,
  standardWebhooksConfig,
]);

export type VerificationConfig = z.output<typeof verificationConfig>;
export type VerificationScheme = VerificationConfig["scheme"];
