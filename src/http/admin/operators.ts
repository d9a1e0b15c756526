import { z } from "zod";
import { database } from "../../db/client";
import { OPERATOR_ROLES } from "../../db/schema";
import { ApiError } from "../../errors";
import { createOperator, listOperators, revokeOperator } from "../../operators/identity";
import { bare, defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";

export const createOperatorBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(200),
    role: z.enum(OPERATOR_ROLES),
  })
  .meta({ example: { name: "Dana (billing ops)", role: "operator" } });

const operatorView = z
  .object({ id: z.string(), name: z.string(), role: z.enum(OPERATOR_ROLES), createdAt: z.string(), createdBy: z.string().nullable(), revokedAt: z.string().nullable() })
  .meta({ id: "Operator", example: { id: "op_01JD7T3Q9M", name: "Dana (billing ops)", role: "operator", createdAt: "2026-11-23T10:00:00.000Z", createdBy: "bootstrap-admin", revokedAt: null } });

/** Operators: one identity per person (admin only). */
export const adminOperators = router();

const createRoute = defineRoute({
  method: "post",
  path: "/",
  tag: "admin",
  summary: "Create an operator; the token is shown once, stored hashed",
  auth: "admin",
  role: "admin",
  request: { body: { required: true, content: { "application/json": { schema: createOperatorBody } } } },
  responses: { 201: json(operatorView.extend({ token: z.string().meta({ example: "cgop_3f9a…" }) }), "The operator with its token (shown once)"), ...OPERATOR_ERRORS, 422: problem("PAYLOAD_INVALID") },
});
serve(adminOperators, createRoute, async (c) => {
  const created = await createOperator(database(c.env.DB), c.req.valid("json"), c.get("operator")!.id);
  // The token is shown this once.
  return c.json(created, 201);
});

const listRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "admin",
  summary: "List operators (never their tokens)",
  auth: "admin",
  role: "admin",
  responses: { 200: json(z.object({ data: z.array(operatorView) }), "Operators"), ...OPERATOR_ERRORS },
});
serve(adminOperators, listRoute, async (c) => c.json({ data: await listOperators(database(c.env.DB)) }));

const revokeRoute = defineRoute({
  method: "delete",
  path: "/{id}",
  tag: "admin",
  summary: "Revoke an operator at once (their token and console sessions stop working)",
  auth: "admin",
  role: "admin",
  request: { params: z.object({ id: z.string().meta({ example: "op_01JD7T3Q9M" }) }) },
  responses: { 204: bare("Revoked"), ...OPERATOR_ERRORS, 404: problem("OPERATOR_NOT_FOUND") },
});
serve(adminOperators, revokeRoute, async (c) => {
  const { id } = c.req.valid("param");
  if (!(await revokeOperator(database(c.env.DB), id))) throw new ApiError(404, "OPERATOR_NOT_FOUND", `No active operator ${id}.`);
  return c.body(null, 204);
});
