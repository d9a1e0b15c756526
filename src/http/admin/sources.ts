import { z } from "zod";
import { booleanQuery } from "../list-query";
import { database } from "../../db/client";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { SOURCE_KINDS } from "../../partners/registry";
import { invalidateSource } from "../../sources/cache";
import { generateSecret } from "../../sources/generate-secret";
import {
  addSourceSecret,
  countSourceSecrets,
  createSource,
  getSource,
  listSources,
  removeSourceSecret,
  updateSource,
} from "../../sources/repository";
import { ed25519PublicKey } from "../../crypto/ed25519";
import { standardWebhooksKey } from "../../verify/standard-webhooks";
import { verificationConfig, type VerificationConfig } from "../../verify/config";
import { bare, defineRoute, json, problem, router, serve, OPERATOR_ERRORS } from "../route";

/** Days a processed event's archived body is kept (then deleted from R2; the event's metadata stays). */
const retentionDays = z.number().int().min(1).max(36_500).nullish().meta({ description: "Days an archived (processed) event's body is kept in R2; null or absent keeps it" });

const secretValue = z.string().min(8, "must be at least 8 characters").max(512);

/** A Standard Webhooks source's secret: a whsec_ HMAC key (v1) or a whpk_ Ed25519 public key (v1a). */
const usableStandardWebhooksSecret = (s: string) => (s.startsWith("whpk_") ? ed25519PublicKey(s) !== null : standardWebhooksKey(s) !== null);

function checkSecretsFit(verification: VerificationConfig, secrets: string[], ctx: z.RefinementCtx, path: PropertyKey[]) {
  if (verification.scheme !== "standard_webhooks") return;
  secrets.forEach((s, i) => {
    if (!usableStandardWebhooksSecret(s)) ctx.addIssue({ code: "custom", path: [...path, i], message: "must be whsec_ followed by base64, or whpk_ and a base64 Ed25519 public key" });
  });
}

export const createSourceBody = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1-64 lowercase letters, digits, '.', '_' or '-'"),
    kind: z.enum(SOURCE_KINDS),
    description: z.string().max(500).nullish(),
    verification: verificationConfig,
    secrets: z.array(secretValue).max(10).optional(),
    enabled: z.boolean().optional(),
    retentionDays,
  })
  .superRefine((body, ctx) => {
    if (body.verification.scheme === "stripe" && !body.secrets?.length) {
      ctx.addIssue({ code: "custom", path: ["secrets"], message: "Stripe issues the endpoint secret: give it here" });
    }
    checkSecretsFit(body.verification, body.secrets ?? [], ctx, ["secrets"]);
  });

export const patchSourceBody = z.strictObject({
  description: z.string().max(500).nullish(),
  verification: verificationConfig.optional(),
  enabled: z.boolean().optional(),
  retentionDays,
});

export const addSecretBody = z.strictObject({ secret: secretValue.optional() });

const notFound = (id: string) => new ApiError(404, "SOURCE_NOT_FOUND", `No source with id "${id}".`);

const sourceView = z
  .object({
    id: z.string(),
    kind: z.enum(SOURCE_KINDS),
    description: z.string().nullable(),
    verification: verificationConfig,
    enabled: z.boolean(),
    retentionDays: z.number().int().nullable(),
    secrets: z.array(z.object({ n: z.number().int(), createdAt: z.string() })).meta({ description: "Secret numbers and creation times; secrets are never shown again" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({
    id: "Source",
    example: {
      id: "cair-remits",
      kind: "cair.claim_response",
      description: "Cair ClaimResponse bundles",
      verification: { scheme: "hmac_sha256", header: "x-cair-signature", encoding: "hex" },
      enabled: true,
      retentionDays: 365,
      secrets: [{ n: 1, createdAt: "2026-11-23T10:00:00.000Z" }],
      createdAt: "2026-11-23T10:00:00.000Z",
      updatedAt: "2026-11-23T10:00:00.000Z",
    },
  });
const sourceId = z.object({ id: z.string().meta({ description: "The source id", example: "cair-remits" }) });

export const adminSources = router();

const createSourceRoute = defineRoute({
  method: "post",
  path: "/",
  tag: "admin",
  summary: "Create a source",
  description: "Secrets given are never echoed; with none, the gateway generates one for the scheme and shows it this once (`generatedSecret`).",
  auth: "admin",
  request: { body: { required: true, content: { "application/json": { schema: createSourceBody } } } },
  responses: { 201: json(sourceView.extend({ generatedSecret: z.string().optional() }), "The source (secrets never echoed)"), ...OPERATOR_ERRORS, 409: problem("SOURCE_EXISTS"), 422: problem("PAYLOAD_INVALID") },
});
serve(adminSources, createSourceRoute, async (c) => {
  const body = c.req.valid("json");
  const generated = body.secrets?.length ? null : generateSecret(body.verification.scheme);
  const secrets = body.secrets?.length ? body.secrets : [generated!];
  const db = database(c.env.DB);
  const created = await createSource(db, c.env.SECRETS_KEY, { ...body, secrets });
  if (!created) throw new ApiError(409, "SOURCE_EXISTS", `A source with id "${body.id}" already exists.`);
  invalidateSource(body.id);
  const view = await getSource(db, body.id);
  // A secret the gateway generated is shown this once; secrets the operator gave are never echoed.
  return c.json({ ...view, ...(generated ? { generatedSecret: generated } : {}) }, 201);
});

const listSourcesRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "admin",
  summary: "List sources",
  auth: "admin",
  request: { query: z.object({ kind: z.enum(SOURCE_KINDS).optional(), enabled: booleanQuery("Only enabled (true) or disabled (false) sources") }) },
  responses: { 200: json(z.object({ data: z.array(sourceView) }), "Sources"), ...OPERATOR_ERRORS, 400: problem("INVALID_FILTER") },
});
serve(adminSources, listSourcesRoute, async (c) => {
  const { kind, enabled } = c.req.valid("query");
  return c.json({ data: await listSources(database(c.env.DB), { ...(kind ? { kind } : {}), ...(enabled !== undefined ? { enabled } : {}) }) });
});

const getSourceRoute = defineRoute({
  method: "get",
  path: "/{id}",
  tag: "admin",
  summary: "One source",
  auth: "admin",
  request: { params: sourceId },
  responses: { 200: json(sourceView, "The source"), ...OPERATOR_ERRORS, 404: problem("SOURCE_NOT_FOUND") },
});
serve(adminSources, getSourceRoute, async (c) => {
  const { id } = c.req.valid("param");
  const view = await getSource(database(c.env.DB), id);
  if (!view) throw notFound(id);
  return c.json(view);
});

const patchSourceRoute = defineRoute({
  method: "patch",
  path: "/{id}",
  tag: "admin",
  summary: "Update description, verification, enabled",
  auth: "admin",
  request: { params: sourceId, body: { required: true, content: { "application/json": { schema: patchSourceBody } } } },
  responses: { 200: json(sourceView, "The source"), ...OPERATOR_ERRORS, 404: problem("SOURCE_NOT_FOUND"), 422: problem("PAYLOAD_INVALID") },
});
serve(adminSources, patchSourceRoute, async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  const db = database(c.env.DB);
  if (!(await updateSource(db, id, patch))) throw notFound(id);
  invalidateSource(id);
  return c.json(await getSource(db, id));
});

/** Adds a secret (generated when none is given: returned this once); the scheme's rules apply. */
export async function addSecret(env: AppContext["Bindings"], id: string, given: string | undefined): Promise<{ sourceId: string; n: number; secret?: string }> {
  const db = database(env.DB);
  const source = await getSource(db, id);
  if (!source) throw notFound(id);
  const secret = given ?? generateSecret(source.verification.scheme);
  if (source.verification.scheme === "standard_webhooks" && !usableStandardWebhooksSecret(secret)) {
    throw new ApiError(422, "PAYLOAD_INVALID", "The secret must be whsec_ followed by base64, or a whpk_ Ed25519 public key.", [
      { path: "secret", message: "must be whsec_ followed by base64, or whpk_ and a base64 Ed25519 public key" },
    ]);
  }
  const n = await addSourceSecret(db, env.SECRETS_KEY, id, secret);
  invalidateSource(id);
  return { sourceId: id, n, ...(given ? {} : { secret }) };
}

/** Removes secret `n`; never the last one (a source would stop verifying anything). */
export async function removeSecret(env: AppContext["Bindings"], id: string, n: number): Promise<void> {
  const db = database(env.DB);
  if (!(await getSource(db, id))) throw notFound(id);
  if (!Number.isInteger(n)) throw new ApiError(404, "SECRET_NOT_FOUND", `No secret ${n} on "${id}".`);
  if ((await countSourceSecrets(db, id)) <= 1) throw new ApiError(409, "LAST_SECRET", "Add the new secret before removing the last one.");
  if (!(await removeSourceSecret(db, id, n))) throw new ApiError(404, "SECRET_NOT_FOUND", `No secret ${n} on "${id}".`);
  invalidateSource(id);
}

const addSecretRoute = defineRoute({
  method: "post",
  path: "/{id}/secrets",
  tag: "admin",
  summary: "Add a secret (rotation); generated and shown once when none is given",
  auth: "admin",
  request: { params: sourceId, body: { required: true, content: { "application/json": { schema: addSecretBody } } } },
  responses: {
    201: json(z.object({ sourceId: z.string(), n: z.number().int(), secret: z.string().optional() }).meta({ example: { sourceId: "cair-remits", n: 2, secret: "generated-shown-once" } }), "The secret's number (and the secret, when generated)"),
    ...OPERATOR_ERRORS,
    404: problem("SOURCE_NOT_FOUND"),
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(adminSources, addSecretRoute, async (c) => c.json(await addSecret(c.env, c.req.valid("param").id, c.req.valid("json").secret), 201));

const removeSecretRoute = defineRoute({
  method: "delete",
  path: "/{id}/secrets/{n}",
  tag: "admin",
  summary: "Remove a secret (never the last)",
  auth: "admin",
  request: { params: sourceId.extend({ n: z.string().meta({ description: "The secret's number", example: "1" }) }) },
  responses: { 204: bare("Removed"), ...OPERATOR_ERRORS, 404: problem("SOURCE_NOT_FOUND, SECRET_NOT_FOUND"), 409: problem("LAST_SECRET") },
});
serve(adminSources, removeSecretRoute, async (c) => {
  const { id, n } = c.req.valid("param");
  await removeSecret(c.env, id, Number(n));
  return c.body(null, 204);
});
