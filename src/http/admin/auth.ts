import { createMiddleware } from "hono/factory";
import { database } from "../../db/client";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { bearerToken, identify } from "../../operators/identity";
import { router } from "../route";
import { auditTrail } from "./audit";

/**
 * `Authorization: Bearer <token>`: ADMIN_TOKEN (the bootstrap admin) or an operator's token; 401 otherwise.
 * The operator is kept on the context for the route's role (declared with the route) and the audit trail.
 */
export const requireOperator = createMiddleware<AppContext>(async (c, next) => {
  const operator = await identify(database(c.env.DB), c.env.ADMIN_TOKEN, bearerToken(c.req.header("authorization")));
  if (!operator) {
    throw new ApiError(401, "UNAUTHORIZED", "A valid operator bearer token is required.", undefined, { "WWW-Authenticate": 'Bearer realm="claimgate-admin"' });
  }
  c.set("operator", operator);
  await next();
});

/** A router of operator routes: the bearer token identifies the operator, and the audit trail records. */
export function operatorRouter() {
  const app = router();
  app.use("*", requireOperator);
  app.use("*", auditTrail);
  return app;
}
