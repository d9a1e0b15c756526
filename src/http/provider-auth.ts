import { createMiddleware } from "hono/factory";
import { database } from "../db/client";
import type { AppContext, Env } from "../env";
import { bearerToken, identify, type Operator } from "../operators/identity";
import { checkProviderKey } from "../payor/repository";

/** `open`: a provider let in by HCMS_OPEN_MODE without a key (may submit, never read). */
export type Caller = { kind: "admin"; operator: Operator } | { kind: "provider"; providerId: string | null; open?: true };
export type ProviderContext = AppContext & { Variables: AppContext["Variables"] & { caller: Caller } };

/** The guide's "open" mode (no key) is for local development only and never applies in production. */
export const openMode = (env: Env) => env.HCMS_OPEN_MODE === "true" && env.ENVIRONMENT !== "production";


/**
 * Who is calling the payor API: an operator (admin bearer token) or a provider (`X-API-Key` +
 * `X-Provider-ID`, the key checked by its hash). Null when neither holds.
 */
async function identifyCaller(c: { env: Env; req: { header(name: string): string | undefined } }): Promise<Caller | null> {
  const bearer = bearerToken(c.req.header("authorization"));
  if (bearer) {
    // an operator (or the bootstrap admin); the route's role is checked where the route reads
    const operator = await identify(database(c.env.DB), c.env.ADMIN_TOKEN, bearer);
    return operator ? { kind: "admin", operator } : null;
  }
  const key = c.req.header("x-api-key");
  const providerId = c.req.header("x-provider-id");
  if (key && providerId && (await checkProviderKey(database(c.env.DB), providerId, key))) return { kind: "provider", providerId };
  if (openMode(c.env) && !key) return { kind: "provider", providerId: providerId ?? null, open: true };
  return null;
}

export const withCaller = createMiddleware<ProviderContext>(async (c, next) => {
  const caller = await identifyCaller(c);
  if (caller) {
    c.set("caller", caller);
    if (caller.kind === "admin") c.set("operator", caller.operator);
    else c.set("auditActor", `provider:${caller.providerId ?? "-"}`);
  }
  await next();
});
