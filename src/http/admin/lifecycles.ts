import { z } from "zod";
import { database } from "../../db/client";
import { flushLifecycleNow } from "../../payments/service";
import { defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";

/** Claim lifecycles' Durable Objects, as operators act on them. */
export const adminLifecycles = router();

const flushRoute = defineRoute({
  method: "post",
  path: "/{id}/flush",
  tag: "admin",
  summary: "Send a lifecycle's pending money changes to D1 now, after fixing what D1 refused (idempotent, audited)",
  description:
    "A lifecycle's object writes D1 through its outbox; when D1 refuses a flush, the object retries with back-off (2 s doubling to a minute) and the console's claim page shows what D1 said. Once the cause is fixed, this sends the outbox at once. `refused` is still a 200: it reports what D1 said and how many changes wait.",
  auth: "admin",
  role: "operator",
  request: { params: z.object({ id: z.string().meta({ example: "lc_01JD7T3Q9M2XK4" }) }) },
  responses: {
    200: json(
      z
        .object({
          lifecycleId: z.string(),
          outcome: z.enum(["flushed", "refused"]),
          entries: z.number().int().optional().meta({ description: "flushed: how many pending changes D1 took" }),
          error: z.string().optional().meta({ description: "refused: what D1 said (never the bound values)" }),
          pending: z.number().int().meta({ description: "changes still waiting for D1" }),
        })
        .meta({ example: { lifecycleId: "lc_01JD7T3Q9M2XK4", outcome: "flushed", entries: 2, pending: 0 } }),
      "What D1 did with the outbox",
    ),
    ...OPERATOR_ERRORS,
    404: problem("LIFECYCLE_NOT_FOUND"),
  },
});
serve(adminLifecycles, flushRoute, async (c) => {
  const lifecycleId = c.req.valid("param").id;
  const result = await flushLifecycleNow(c.env, database(c.env.DB), lifecycleId);
  return c.json({ lifecycleId, ...result });
});
