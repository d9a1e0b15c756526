import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "../../crypto/compare";
import { utf8 } from "../../crypto/encoding";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. No token configured → nobody gets in. */
export const requireAdmin = createMiddleware<AppContext>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!expected || !match || !timingSafeEqual(utf8(match[1]!.trim()), utf8(expected))) {
    throw new ApiError(401, "UNAUTHORIZED", "A valid admin bearer token is required.", undefined, {
      "WWW-Authenticate": 'Bearer realm="claimgate-admin"',
    });
  }
  await next();
});
