import { Hono } from "hono";
import { z } from "zod";
import { database } from "../../db/client";
import { OPERATOR_ROLES } from "../../db/schema";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { createOperator, listOperators, revokeOperator } from "../../operators/identity";
import { readJson } from "../json-body";

export const createOperatorBody = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(200),
  role: z.enum(OPERATOR_ROLES),
});

/** Operators: one identity per person (admin only; the route table says so). */
export const adminOperators = new Hono<AppContext>();

adminOperators.post("/", async (c) => {
  const body = await readJson(c, createOperatorBody);
  const created = await createOperator(database(c.env.DB), body, c.get("operator")!.id);
  // The token is shown this once.
  return c.json(created, 201);
});

adminOperators.get("/", async (c) => c.json({ data: await listOperators(database(c.env.DB)) }));

adminOperators.delete("/:id", async (c) => {
  if (!(await revokeOperator(database(c.env.DB), c.req.param("id")))) throw new ApiError(404, "OPERATOR_NOT_FOUND", `No active operator ${c.req.param("id")}.`);
  return c.body(null, 204);
});
