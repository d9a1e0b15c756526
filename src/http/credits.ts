import { Hono } from "hono";
import { database } from "../db/client";
import { fanOutSafely } from "../delivery/fan-out";
import { centsToAmount } from "../domain/money";
import type { AppContext } from "../env";
import { allocateBody, allocateCredit, creditSearchBody, listCredits } from "../payments/credits";
import { auditTrail } from "./admin/audit";
import { requireOperator } from "./admin/auth";
import { readJson } from "./json-body";

export const patientsApi = new Hono<AppContext>({ strict: false });
patientsApi.use("*", requireOperator);
patientsApi.use("*", auditTrail);

patientsApi.get("/:patientId/credits", async (c) => {
  return c.json({ data: await listCredits(database(c.env.DB), c.req.param("patientId")) });
});

/** POST /api/patients/credits/search {"patientId"}: the same list with the patient reference out of the URL. */
patientsApi.post("/credits/search", async (c) => {
  const { patientId } = await readJson(c, creditSearchBody);
  return c.json({ data: await listCredits(database(c.env.DB), patientId) });
});

export const creditsApi = new Hono<AppContext>({ strict: false });
creditsApi.use("*", requireOperator);
creditsApi.use("*", auditTrail);


creditsApi.post("/:creditId/allocate", async (c) => {
  const { billId } = await readJson(c, allocateBody);
  const db = database(c.env.DB);
  const outcome = await allocateCredit(c.env, db, c.req.param("creditId"), billId);
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
