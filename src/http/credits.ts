import { Hono } from "hono";
import { z } from "zod";
import { database } from "../db/client";
import { fanOutSafely } from "../delivery/fan-out";
import { centsToAmount } from "../domain/money";
import type { AppContext } from "../env";
import { allocateCredit, listCredits } from "../payments/credits";
import { requireAdmin } from "./admin/auth";
import { readJson } from "./json-body";

export const patientsApi = new Hono<AppContext>({ strict: false });
patientsApi.use("*", requireAdmin);

patientsApi.get("/:patientId/credits", async (c) => {
  return c.json({ data: await listCredits(database(c.env.DB), c.req.param("patientId")) });
});

export const creditsApi = new Hono<AppContext>({ strict: false });
creditsApi.use("*", requireAdmin);

export const allocateBody = z.strictObject({ billId: z.string().trim().min(1) });

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
