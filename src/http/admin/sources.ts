import { Hono } from "hono";
import { z } from "zod";
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
import { readJson } from "../json-body";

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
});

export const addSecretBody = z.strictObject({ secret: secretValue.optional() });

const notFound = (id: string) => new ApiError(404, "SOURCE_NOT_FOUND", `No source with id "${id}".`);

export const adminSources = new Hono<AppContext>();

adminSources.post("/", async (c) => {
  const body = await readJson(c, createSourceBody);
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

adminSources.get("/", async (c) => {
  const kind = c.req.query("kind");
  const enabled = c.req.query("enabled");
  const data = await listSources(database(c.env.DB), {
    ...(kind ? { kind } : {}),
    ...(enabled === "true" || enabled === "false" ? { enabled: enabled === "true" } : {}),
  });
  return c.json({ data });
});

adminSources.get("/:id", async (c) => {
  const view = await getSource(database(c.env.DB), c.req.param("id"));
  if (!view) throw notFound(c.req.param("id"));
  return c.json(view);
});

adminSources.patch("/:id", async (c) => {
  const id = c.req.param("id");
  const patch = await readJson(c, patchSourceBody);
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

adminSources.post("/:id/secrets", async (c) => {
  const body = await readJson(c, addSecretBody);
  return c.json(await addSecret(c.env, c.req.param("id"), body.secret), 201);
});

adminSources.delete("/:id/secrets/:n", async (c) => {
  await removeSecret(c.env, c.req.param("id"), Number(c.req.param("n")));
  return c.body(null, 204);
});
