import { Hono } from "hono";
import { z } from "zod";
import { database } from "../../db/client";
import { fanOutSafely } from "../../delivery/fan-out";
import { exceedsAmount, exactCents, MAX_MONEY } from "../../domain/money";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { PayorError } from "../../payor/errors";
import { createProviderKey, deletePlan, listPlans, revokeProviderKey, upsertPlan } from "../../payor/repository";
import { reviewDecision } from "../../payor/schema";
import { reviewClaim } from "../../payor/service";
import { centsToAmount } from "../../domain/money";
import type { CoveragePlan } from "../../domain/adjudication";
import { readJson } from "../json-body";

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
});

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

export const adminPayor = new Hono<AppContext>();

adminPayor.get("/coverage-plans", async (c) => c.json({ data: (await listPlans(database(c.env.DB))).map(planView) }));

adminPayor.put("/coverage-plans/:insuranceId", async (c) => {
  const b = await readJson(c, planBody);
  const plan: CoveragePlan = {
    insuranceId: c.req.param("insuranceId"),
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

adminPayor.delete("/coverage-plans/:insuranceId", async (c) => {
  const rows = await deletePlan(database(c.env.DB), c.req.param("insuranceId"));
  if (rows.length === 0) throw new ApiError(404, "PLAN_NOT_FOUND", `No coverage plan ${c.req.param("insuranceId")}.`);
  return c.body(null, 204);
});

adminPayor.post("/provider-keys", async (c) => {
  const b = await readJson(c, z.strictObject({ providerId: z.string().trim().min(1).max(64), label: z.string().max(200).nullish() }));
  // the key is shown this once; only its hash is kept
  return c.json(await createProviderKey(database(c.env.DB), b.providerId, b.label ?? null), 201);
});

adminPayor.delete("/provider-keys/:id", async (c) => {
  const rows = await revokeProviderKey(database(c.env.DB), c.req.param("id"));
  if (rows.length === 0) throw new ApiError(404, "KEY_NOT_FOUND", `No provider key ${c.req.param("id")}.`);
  return c.body(null, 204);
});

/** POST /admin/claims/:id/review {decision, message}: finishes a manual review. */
adminPayor.post("/claims/:id/review", async (c) => {
  const b = await readJson(c, reviewDecision);
  const db = database(c.env.DB);
  try {
    const result = await reviewClaim(db, c.req.param("id"), b.decision, b.message, "manual_review");
    c.executionCtx.waitUntil(fanOutSafely(c.env, db));
    return c.json(result);
  } catch (e) {
    if (e instanceof PayorError) return c.json(e.toBody(), e.status as 404 | 409);
    throw e;
  }
});
