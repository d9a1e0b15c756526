import { z } from "zod";
import { database } from "../db/client";
import { fanOutSafely } from "../delivery/fan-out";
import { centsToAmount } from "../domain/money";
import { allocateBody, allocateCredit, creditSearchBody, listCredits } from "../payments/credits";
import { operatorRouter } from "./admin/auth";
import { defineRoute, json, OPERATOR_ERRORS, problem, serve } from "./route";

const credit = z
  .object({
    id: z.string(),
    patientId: z.string(),
    sourcePaymentId: z.string(),
    amount: z.number(),
    remaining: z.number(),
    status: z.string(),
    createdAt: z.string(),
    allocations: z.array(z.object({ id: z.string(), claimId: z.string(), claimLifecycleId: z.string(), amount: z.number(), createdAt: z.string(), reversedAt: z.string().nullable() })),
  })
  .meta({ id: "PatientCredit" });
const credits = json(z.object({ data: z.array(credit) }), "The patient's credits, oldest first");

export const patientsApi = operatorRouter();

const byPathRoute = defineRoute({
  method: "get",
  path: "/{patientId}/credits",
  tag: "payments",
  summary: "A patient's credits (prefer the POST search, which keeps the patient reference out of URLs)",
  auth: "admin",
  role: "operator",
  request: { params: z.object({ patientId: z.string().meta({ description: "Our patient id or a partner's", example: "pat_01JD7T" }) }) },
  responses: { 200: credits, ...OPERATOR_ERRORS },
});
serve(patientsApi, byPathRoute, async (c) => c.json({ data: await listCredits(database(c.env.DB), c.req.valid("param").patientId) }));

const searchRoute = defineRoute({
  method: "post",
  path: "/credits/search",
  tag: "payments",
  summary: "A patient's credits, the patient id in the body (out of URLs)",
  auth: "admin",
  role: "operator",
  request: { body: { required: true, content: { "application/json": { schema: creditSearchBody.meta({ example: { patientId: "pat-7731" } }) } } } },
  responses: { 200: credits, ...OPERATOR_ERRORS, 422: problem("PAYLOAD_INVALID") },
});
serve(patientsApi, searchRoute, async (c) => c.json({ data: await listCredits(database(c.env.DB), c.req.valid("json").patientId) }));

export const creditsApi = operatorRouter();

const allocateRoute = defineRoute({
  method: "post",
  path: "/{creditId}/allocate",
  tag: "payments",
  summary: "Apply an unallocated credit to another claim of the same patient",
  auth: "admin",
  role: "operator",
  request: { params: z.object({ creditId: z.string().meta({ example: "cr_01JD7T" }) }), body: { required: true, content: { "application/json": { schema: allocateBody.meta({ example: { billId: "BILL-1002" } }) } } } },
  responses: {
    200: json(
      z.object({ success: z.literal(true), message: z.string(), data: z.object({ creditId: z.string(), claimId: z.string(), claimLifecycleId: z.string(), amountAllocated: z.number(), creditRemaining: z.number() }) }),
      "Allocated",
    ),
    ...OPERATOR_ERRORS,
    404: problem("CREDIT_NOT_FOUND, CLAIM_NOT_FOUND"),
    409: problem("PATIENT_MISMATCH, NO_BALANCE_DUE, CREDIT_EXHAUSTED, NO_CLAIM_RESPONSE"),
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(creditsApi, allocateRoute, async (c) => {
  const db = database(c.env.DB);
  const outcome = await allocateCredit(c.env, db, c.req.valid("param").creditId, c.req.valid("json").billId);
  c.executionCtx.waitUntil(fanOutSafely(c.env, db));
  return c.json({
    success: true,
    message: "Credit allocated successfully",
    data: {
      creditId: outcome.creditId,
      claimId: outcome.claimId,
      claimLifecycleId: outcome.claimLifecycleId,
      amountAllocated: centsToAmount(outcome.allocatedCents),
      creditRemaining: centsToAmount(outcome.creditRemainingCents),
    },
  });
});
