import { createMiddleware } from "hono/factory";
import { database } from "../../db/client";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { bearerToken, identify, roleAllows, type Operator } from "../../operators/identity";
import { requiredRole } from "../openapi";

const unauthorized = () =>
  new ApiError(401, "UNAUTHORIZED", "A valid operator bearer token is required.", undefined, { "WWW-Authenticate": 'Bearer realm="claimgate-admin"' });

/** 403 unless the operator's role allows this route (the rule comes from the route table). */
export function authorize(operator: Operator, method: string, path: string): void {
  const need = requiredRole(method, path);
  if (!roleAllows(operator.role, need)) throw new ApiError(403, "FORBIDDEN", `This needs the ${need} role; ${operator.id} has ${operator.role}.`);
}

/**
 * `Authorization: Bearer <token>`: ADMIN_TOKEN (the bootstrap admin) or an operator's token, then the
 * route's role. The operator is kept on the context for the audit trail.
 */
export const requireOperator = createMiddleware<AppContext>(async (c, next) => {
  const operator = await identify(database(c.env.DB), c.env.ADMIN_TOKEN, bearerToken(c.req.header("authorization")));
  if (!operator) throw unauthorized();
  authorize(operator, c.req.method, new URL(c.req.url).pathname);
  c.set("operator", operator);
  await next();
});
