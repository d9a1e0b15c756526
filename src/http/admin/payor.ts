import { z } from "zod";
import { database } from "../../db/client";
import { fanOutSafely } from "../../delivery/fan-out";
import { exceedsAmount, exactCents, MAX_MONEY } from "../../domain/money";
import { ApiError } from "../../errors";
import { PayorError } from "../../payor/errors";
import { createProviderKey, deletePlan, listPlans, revokeProviderKey, upsertPlan } from "../../payor/repository";
import { reviewDecision } from "../../payor/schema";
import { reviewClaim } from "../../payor/service";
import { centsToAmount } from "../../domain/money";
import type { CoveragePlan } from "../../domain/adjudication";
import { bare, defineRoute, json, OPERATOR_ERRORS, payorProblem, problem, router, serve } from "../route";

const dollars = z
  .number()
  .min(0)
  .refine((v) => !exceedsAmount(v, MAX_MONEY), "must not exceed 100,000,000.00")
  .refine((v) => exceedsAmount(v, MAX_MONEY) || exactCents(v) !== null, "must have at most 2 decimal places");
const code = z.string().trim().toUpperCase();

/** Plans in API units (percent and dollars); stored as basis points and cents. */
export const planBody = z.strictObject({
  payorId: z.string().trim().min(1),
  planName: z.string().trim().min(1),
  activeFrom: z.iso.date().nullish(),
  activeTo: z.iso.date().nullish(),
  coinsurancePercent: z.number().min(0).max(100).refine((v) => Number.isInteger(Math.round(v * 100)) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, "must have at most 2 decimal places"),
  copay: dollars.default(0),
  excludedCpt: z.array(code).default([]),
  excludedIcd: z.array(code).default([]),
  coveredCpt: z.array(code).nullish(),
  autoApproveCeiling: dollars,
}).meta({ example: { payorId: "aetna", planName: "Aetna PPO 2026", coinsurancePercent: 20, copay: 25, excludedCpt: [], excludedIcd: [], autoApproveCeiling: 500 } });

const planView = (p: CoveragePlan) => ({
  insuranceId: p.insuranceId,
  payorId: p.payorId,
  planName: p.planName,
  activeFrom: p.activeFrom,
  activeTo: p.activeTo,
  coinsurancePercent: p.coinsuranceBps / 100,
  copay: centsToAmount(p.copayCents),
  excludedCpt: p.excludedCpt,
  excludedIcd: p.excludedIcd,
  coveredCpt: p.coveredCpt,
  autoApproveCeiling: centsToAmount(p.autoApproveCeilingCents),
});

const planSchema = z
  .object({
    insuranceId: z.string(),
    payorId: z.string(),
    planName: z.string(),
    activeFrom: z.string().nullable(),
    activeTo: z.string().nullable(),
    coinsurancePercent: z.number(),
    copay: z.number(),
    excludedCpt: z.array(z.string()),
    excludedIcd: z.array(z.string()),
    coveredCpt: z.array(z.string()).nullable(),
    autoApproveCeiling: z.number(),
  })
  .meta({ id: "CoveragePlan" });
const insuranceId = z.object({ insuranceId: z.string().meta({ example: "INS-12345" }) });

export const adminPayor = router();

const listPlansRoute = defineRoute({
  method: "get",
  path: "/coverage-plans",
  tag: "payor",
  summary: "List coverage plans",
  auth: "admin",
  responses: { 200: json(z.object({ data: z.array(planSchema) }), "Plans"), ...OPERATOR_ERRORS },
});
serve(adminPayor, listPlansRoute, async (c) => c.json({ data: (await listPlans(database(c.env.DB))).map(planView) }));

const putPlanRoute = defineRoute({
  method: "put",
  path: "/coverage-plans/{insuranceId}",
  tag: "payor",
  summary: "Create or replace a coverage plan (percent and dollars; kept as basis points and cents)",
  auth: "admin",
  request: { params: insuranceId, body: { required: true, content: { "application/json": { schema: planBody } } } },
  responses: { 200: json(planSchema, "The plan"), ...OPERATOR_ERRORS, 422: problem("PAYLOAD_INVALID") },
});
serve(adminPayor, putPlanRoute, async (c) => {
  const b = c.req.valid("json");
  const plan: CoveragePlan = {
    insuranceId: c.req.valid("param").insuranceId,
    payorId: b.payorId,
    planName: b.planName,
    activeFrom: b.activeFrom ?? null,
    activeTo: b.activeTo ?? null,
    coinsuranceBps: Math.round(b.coinsurancePercent * 100),
    copayCents: exactCents(b.copay)!,
    excludedCpt: b.excludedCpt,
    excludedIcd: b.excludedIcd,
    coveredCpt: b.coveredCpt ?? null,
    autoApproveCeilingCents: exactCents(b.autoApproveCeiling)!,
  };
  await upsertPlan(database(c.env.DB), plan);
  return c.json(planView(plan));
});

const deletePlanRoute = defineRoute({
  method: "delete",
  path: "/coverage-plans/{insuranceId}",
  tag: "payor",
  summary: "Delete a coverage plan",
  auth: "admin",
  request: { params: insuranceId },
  responses: { 204: bare("Deleted"), ...OPERATOR_ERRORS, 404: problem("PLAN_NOT_FOUND") },
});
serve(adminPayor, deletePlanRoute, async (c) => {
  const { insuranceId: id } = c.req.valid("param");
  const rows = await deletePlan(database(c.env.DB), id);
  if (rows.length === 0) throw new ApiError(404, "PLAN_NOT_FOUND", `No coverage plan ${id}.`);
  return c.body(null, 204);
});

const providerKeyBody = z.strictObject({ providerId: z.string().trim().min(1).max(64), label: z.string().max(200).nullish() }).meta({ example: { providerId: "prov_clinic_42", label: "clinic 42 billing system" } });

const createKeyRoute = defineRoute({
  method: "post",
  path: "/provider-keys",
  tag: "payor",
  summary: "Create a provider API key (shown once, stored hashed)",
  auth: "admin",
  request: { body: { required: true, content: { "application/json": { schema: providerKeyBody } } } },
  responses: {
    201: json(z.object({ id: z.string(), providerId: z.string(), key: z.string(), label: z.string().nullable() }).meta({ example: { id: "pk_01JD7T", providerId: "prov_clinic_42", key: "hcms_…", label: null } }), "The key (shown once)"),
    ...OPERATOR_ERRORS,
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(adminPayor, createKeyRoute, async (c) => {
  const b = c.req.valid("json");
  // the key is shown this once; only its hash is kept
  return c.json(await createProviderKey(database(c.env.DB), b.providerId, b.label ?? null), 201);
});

const revokeKeyRoute = defineRoute({
  method: "delete",
  path: "/provider-keys/{id}",
  tag: "payor",
  summary: "Revoke a provider API key",
  auth: "admin",
  request: { params: z.object({ id: z.string().meta({ example: "pk_01JD7T" }) }) },
  responses: { 204: bare("Revoked"), ...OPERATOR_ERRORS, 404: problem("KEY_NOT_FOUND") },
});
serve(adminPayor, revokeKeyRoute, async (c) => {
  const { id } = c.req.valid("param");
  const rows = await revokeProviderKey(database(c.env.DB), id);
  if (rows.length === 0) throw new ApiError(404, "KEY_NOT_FOUND", `No provider key ${id}.`);
  return c.body(null, 204);
});

const reviewRoute = defineRoute({
  method: "post",
  path: "/claims/{id}/review",
  tag: "payor",
  summary: "Finish a manual review (HCMS error shape)",
  auth: "admin",
  role: "operator",
  request: { params: z.object({ id: z.string().meta({ description: "Our claim id or the HCMS CLM- id", example: "CLM-2026-000042" }) }), body: { required: true, content: { "application/json": { schema: reviewDecision } } } },
  responses: {
    200: json(z.object({ success: z.literal(true), message: z.string(), claim_id: z.string(), status: z.enum(["approved", "rejected"]) }).meta({ example: { success: true, message: "Claim approved", claim_id: "CLM-2026-000042", status: "approved" } }), "Decided"),
    ...OPERATOR_ERRORS,
    404: payorProblem("CLAIM_NOT_FOUND"),
    409: payorProblem("CLAIM_NOT_UNDER_REVIEW"),
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(adminPayor, reviewRoute, async (c) => {
  const b = c.req.valid("json");
  const db = database(c.env.DB);
  try {
    const result = await reviewClaim(db, c.req.valid("param").id, b.decision, b.message, "manual_review");
    c.executionCtx.waitUntil(fanOutSafely(c.env, db));
    return c.json(result);
  } catch (e) {
    if (e instanceof PayorError) return c.json(e.toBody(), e.status as 404 | 409);
    throw e;
  }
});
