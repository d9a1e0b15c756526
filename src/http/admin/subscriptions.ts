import { z } from "zod";
import { database } from "../../db/client";
import { DELIVERY_STATUSES } from "../../db/schema";
import { replaySubscriptionRange } from "../../delivery/replay";
import { newSubscriptionSecret, normalizeSubscriptionSecret } from "../../delivery/signing";
import {
  createSubscription,
  deleteSubscription,
  currentPublicKey,
  getSubscription,
  listSubscriptions,
  rotateSubscriptionSecret,
  subscriptionView,
  updateSubscription,
} from "../../delivery/subscriptions";
import { subscriberUrlProblem } from "../../delivery/url-policy";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { isKnownEventType } from "../../delivery/event-types";
import { subscriptionSecret } from "../../delivery/signing";
import { booleanQuery } from "../list-query";
import { bare, defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";

/** A type from the catalog (GET /admin/event-types), `*` or CLAIMS_REMIT_ALL; anything else is 422 UNKNOWN_EVENT_TYPE. */
const eventType = z.string().superRefine((name, ctx) => {
  if (!isKnownEventType(name)) {
    ctx.addIssue({ code: "custom", message: `${name} is not an event type the gateway sends (see GET /admin/event-types)`, params: { code: "UNKNOWN_EVENT_TYPE" } });
  }
});
const secret = subscriptionSecret;

/** Signature versions, payload form and rate limit (CONTRACT.md "Operators, subscriptions, standards"). */
const subscriptionOptions = {
  signing: z
    .array(z.enum(["v1", "v1a"]))
    .min(1)
    .max(2)
    .refine((v) => new Set(v).size === v.length, "must not repeat a version")
    .optional(),
  payload: z.enum(["full", "thin"]).optional(),
  rateLimit: z.number().int().min(1, "must be at least 1 delivery per second").max(1000).nullish(),
};

/** Our shape, or the HCMS registration shape {provider_id, webhook_url, secret_key, events, active}. */
const ownShape = z.strictObject({
  url: z.string(),
  events: z.array(eventType).min(1).max(50),
  secret: secret.optional(),
  description: z.string().max(500).nullish(),
  active: z.boolean().optional(),
  ordered: z.boolean().optional(),
  filter: z.strictObject({ providerId: z.string().nullish(), payerId: z.string().nullish() }).optional(),
  ...subscriptionOptions,
});
const hcmsShape = z
  .strictObject({
    provider_id: z.string().min(1),
    webhook_url: z.string(),
    secret_key: secret.optional(),
    events: z.array(eventType).min(1).max(50),
    active: z.boolean().optional(),
  })
  .transform((h) => ({
    url: h.webhook_url,
    events: h.events,
    secret: h.secret_key,
    description: `HCMS registration for ${h.provider_id}`,
    active: h.active,
    ordered: false,
    filter: { providerId: h.provider_id, payerId: null },
  }));
export const createSubscriptionBody = z
  .union([ownShape, hcmsShape], { error: "must be {url, events, …} or {provider_id, webhook_url, …}" })
  .meta({ example: { url: "https://billing.example.com/hooks/claimgate", events: ["claim.remit.received", "patient_payment.applied"], ordered: true, signing: ["v1", "v1a"], rateLimit: 20 } });

export const patchSubscriptionBody = z.strictObject({
  rateLimit: subscriptionOptions.rateLimit,
  url: z.string().optional(),
  events: z.array(eventType).min(1).max(50).optional(),
  description: z.string().max(500).nullish(),
  active: z.boolean().optional(),
  ordered: z.boolean().optional(),
  filter: z.strictObject({ providerId: z.string().nullish(), payerId: z.string().nullish() }).optional(),
});

export const rotateSecretBody = z.strictObject({
  secret: secret.optional(),
  graceSeconds: z.number().int().min(0).max(7 * 86_400).default(86_400),
});

export const replayRangeBody = z.strictObject({
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }),
  status: z.array(z.enum(DELIVERY_STATUSES)).min(1).optional(),
  cursor: z.string().nullish(),
});

function checkUrl(url: string, environment: string | undefined) {
  const problem = subscriberUrlProblem(url, environment === "development");
  if (problem) throw new ApiError(422, "PAYLOAD_INVALID", `The subscriber URL ${problem}.`, [{ path: "url", message: problem }]);
}

const notFound = (id: string) => new ApiError(404, "SUBSCRIPTION_NOT_FOUND", `No subscription ${id}.`);

const subscriptionSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    active: z.boolean(),
    disabledReason: z.string().nullable(),
    ordered: z.boolean(),
    signing: z.array(z.enum(["v1", "v1a"])),
    payload: z.enum(["full", "thin"]),
    rateLimit: z.number().int().nullable(),
    filter: z.object({ providerId: z.string().nullable(), payerId: z.string().nullable() }),
    failingSince: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    publicKey: z.string().optional().meta({ description: "The whpk_ Ed25519 public key subscribers verify v1a signatures with" }),
  })
  .meta({ id: "Subscription" });
const subscriptionId = z.object({ id: z.string().meta({ example: "sub_01JD7T3Q9M" }) });

export const adminSubscriptions = router();


/**
 * Registers a subscription from a validated body (the admin API and the console's form share it): the URL
 * policy, the secret (given or generated), the options. The answer shows the secret, the fetch token and
 * the public key this once.
 */
export async function registerSubscription(env: AppContext["Bindings"], body: z.output<typeof createSubscriptionBody>) {
  checkUrl(body.url, env.ENVIRONMENT);
  const signingSecret = body.secret ? normalizeSubscriptionSecret(body.secret) : newSubscriptionSecret();
  const db = database(env.DB);
  const row = await createSubscription(db, env.SECRETS_KEY, {
    url: body.url,
    events: body.events,
    secret: signingSecret,
    description: body.description ?? null,
    ...(body.active !== undefined ? { active: body.active } : {}),
    ...(body.ordered !== undefined ? { ordered: body.ordered } : {}),
    providerId: body.filter?.providerId ?? null,
    payerId: body.filter?.payerId ?? null,
    ...("signing" in body && body.signing ? { signing: body.signing } : {}),
    ...("payload" in body && body.payload ? { payload: body.payload } : {}),
    ...("rateLimit" in body && body.rateLimit ? { rateLimit: body.rateLimit } : {}),
  });
  const publicKey = await currentPublicKey(db, row.id);
  return { ...subscriptionView(row), secret: signingSecret, ...(publicKey ? { publicKey } : {}), ...(row.fetchToken ? { fetchToken: row.fetchToken } : {}) };
}


const createRoute = defineRoute({
  method: "post",
  path: "/",
  tag: "delivery",
  summary: "Register a subscriber (our shape or the HCMS registration shape)",
  description: "Event types come from the catalog (GET /admin/event-types); an unknown one is 422 UNKNOWN_EVENT_TYPE. The answer shows the secret, fetch token (thin payloads) and public key (v1a) this once.",
  auth: "admin",
  request: { body: { required: true, content: { "application/json": { schema: createSubscriptionBody } } } },
  responses: {
    201: json(subscriptionSchema.extend({ secret: z.string().meta({ example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }), fetchToken: z.string().optional() }), "The subscription with its secret, shown once"),
    ...OPERATOR_ERRORS,
    422: problem("PAYLOAD_INVALID, UNKNOWN_EVENT_TYPE"),
  },
});
serve(adminSubscriptions, createRoute, async (c) => c.json(await registerSubscription(c.env, c.req.valid("json")), 201));

const listRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "delivery",
  summary: "List subscriptions",
  auth: "admin",
  request: { query: z.object({ active: booleanQuery("Only active (true) or inactive (false) subscriptions") }) },
  responses: { 200: json(z.object({ data: z.array(subscriptionSchema) }), "Subscriptions"), ...OPERATOR_ERRORS, 400: problem("INVALID_FILTER") },
});
serve(adminSubscriptions, listRoute, async (c) => {
  const { active } = c.req.valid("query");
  const rows = await listSubscriptions(database(c.env.DB), active !== undefined ? { active } : {});
  return c.json({ data: rows.map(subscriptionView) });
});

const getRoute = defineRoute({
  method: "get",
  path: "/{id}",
  tag: "delivery",
  summary: "One subscription",
  auth: "admin",
  request: { params: subscriptionId },
  responses: { 200: json(subscriptionSchema, "The subscription"), ...OPERATOR_ERRORS, 404: problem("SUBSCRIPTION_NOT_FOUND") },
});
serve(adminSubscriptions, getRoute, async (c) => {
  const { id } = c.req.valid("param");
  const db = database(c.env.DB);
  const row = await getSubscription(db, id);
  if (!row) throw notFound(id);
  const publicKey = await currentPublicKey(db, row.id);
  return c.json({ ...subscriptionView(row), ...(publicKey ? { publicKey } : {}) });
});

const patchRoute = defineRoute({
  method: "patch",
  path: "/{id}",
  tag: "delivery",
  summary: "Update url, events, filters, ordered, rate limit, active",
  auth: "admin",
  request: { params: subscriptionId, body: { required: true, content: { "application/json": { schema: patchSubscriptionBody } } } },
  responses: { 200: json(subscriptionSchema, "The subscription"), ...OPERATOR_ERRORS, 404: problem("SUBSCRIPTION_NOT_FOUND"), 422: problem("PAYLOAD_INVALID, UNKNOWN_EVENT_TYPE") },
});
serve(adminSubscriptions, patchRoute, async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  if (patch.url) checkUrl(patch.url, c.env.ENVIRONMENT);
  const row = await updateSubscription(database(c.env.DB), id, {
    ...(patch.url !== undefined ? { url: patch.url } : {}),
    ...(patch.events !== undefined ? { events: JSON.stringify(patch.events) } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.ordered !== undefined ? { ordered: patch.ordered } : {}),
    ...(patch.rateLimit !== undefined ? { rateLimit: patch.rateLimit } : {}),
    ...(patch.active !== undefined ? { active: patch.active, ...(patch.active ? { disabledReason: null, failingSince: null } : { disabledReason: "disabled by an operator" }) } : {}),
    ...(patch.filter ? { providerId: patch.filter.providerId ?? null, payerId: patch.filter.payerId ?? null } : {}),
  });
  if (!row) throw notFound(id);
  return c.json(subscriptionView(row));
});

const deleteRoute = defineRoute({
  method: "delete",
  path: "/{id}",
  tag: "delivery",
  summary: "Delete a subscription (its pending deliveries are cancelled)",
  auth: "admin",
  request: { params: subscriptionId },
  responses: { 204: bare("Deleted"), ...OPERATOR_ERRORS, 404: problem("SUBSCRIPTION_NOT_FOUND") },
});
serve(adminSubscriptions, deleteRoute, async (c) => {
  const db = database(c.env.DB);
  const { id } = c.req.valid("param");
  if (!(await getSubscription(db, id))) throw notFound(id);
  await deleteSubscription(db, id);
  return c.body(null, 204);
});

const rotateRoute = defineRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tag: "delivery",
  summary: "Rotate the signing secret (the old one keeps signing during the grace period)",
  auth: "admin",
  request: { params: subscriptionId, body: { required: true, content: { "application/json": { schema: rotateSecretBody } } } },
  responses: {
    200: json(z.object({ id: z.string(), secret: z.string(), previousSecretsExpireAt: z.string(), publicKey: z.string().optional() }).meta({ example: { id: "sub_01JD7T3Q9M", secret: "whsec_…", previousSecretsExpireAt: "2026-11-24T10:00:00.000Z" } }), "The new secret, shown once"),
    ...OPERATOR_ERRORS,
    404: problem("SUBSCRIPTION_NOT_FOUND"),
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(adminSubscriptions, rotateRoute, async (c) => {
  const body = c.req.valid("json");
  const db = database(c.env.DB);
  const { id } = c.req.valid("param");
  if (!(await getSubscription(db, id))) throw notFound(id);
  const next = body.secret ? normalizeSubscriptionSecret(body.secret) : newSubscriptionSecret();
  const rotated = await rotateSubscriptionSecret(db, c.env.SECRETS_KEY, id, next, body.graceSeconds);
  return c.json({ id, secret: next, ...rotated });
});

const replayRoute = defineRoute({
  method: "post",
  path: "/{id}/replay",
  tag: "delivery",
  summary: "Replay deliveries created in a time range (resumable with nextCursor)",
  auth: "admin",
  role: "operator",
  request: { params: subscriptionId, body: { required: true, content: { "application/json": { schema: replayRangeBody } } } },
  responses: {
    200: json(z.object({ subscriptionId: z.string(), replayed: z.number().int(), nextCursor: z.string().nullable() }).meta({ example: { subscriptionId: "sub_01JD7T3Q9M", replayed: 42, nextCursor: null } }), "How many were replayed, and where to continue"),
    ...OPERATOR_ERRORS,
    404: problem("SUBSCRIPTION_NOT_FOUND"),
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(adminSubscriptions, replayRoute, async (c) => {
  const body = c.req.valid("json");
  const db = database(c.env.DB);
  const { id } = c.req.valid("param");
  if (!(await getSubscription(db, id))) throw notFound(id);
  const since = new Date(body.since).toISOString();
  const until = new Date(body.until).toISOString();
  if (since > until) throw new ApiError(422, "PAYLOAD_INVALID", "since must not be after until.", [{ path: "since", message: "must not be after until" }]);
  const result = await replaySubscriptionRange(c.env, db, id, { since, until, statuses: body.status ?? ["dead", "cancelled"], cursor: body.cursor ?? null });
  return c.json({ subscriptionId: id, ...result });
});
