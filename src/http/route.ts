import { createRoute, OpenAPIHono, type RouteConfig, type RouteHandler, type RouteHook } from "@hono/zod-openapi";
import type { Env, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { AppContext } from "../env";
import { ApiError, payloadInvalid, zodDetails } from "../errors";
import { parseJsonBodyText, readJsonBody } from "../ingest/read-body";
import { roleAllows, type Role } from "../operators/identity";

/**
 * Routes are declared once (issue 18): each is a `defineRoute` whose zod schemas validate the request
 * (path, query, JSON body) and, through @hono/zod-openapi, document it in /openapi.json and /docs, with
 * its responses, who may call it and, for operators, the role it needs. There is no other route table.
 */

/** Who calls a route. `admin` is an operator's bearer token (or the console session for console pages). */
export type Auth = "none" | "admin" | "partner" | "provider" | "admin-or-provider" | "subscriber";

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  none: [],
  admin: [{ adminBearer: [] }],
  partner: [{ partnerSignature: [] }],
  provider: [{ providerKey: [], providerId: [] }],
  "admin-or-provider": [{ adminBearer: [] }, { providerKey: [], providerId: [] }],
  subscriber: [{ fetchToken: [] }],
};

/** The contract's error body, `{"error": {code, message, details?}}`. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: "Error", example: { error: { code: "PAYLOAD_INVALID", message: "The request body is invalid at url: must be https.", details: [{ path: "url", message: "must be https" }] } } });

/** The HCMS guide's error body, `{error, error_code, claim_id, suggestions}`, on the payor API's routes. */
export const PayorErrorBody = z
  .object({ error: z.string(), error_code: z.string(), claim_id: z.string().nullable(), suggestions: z.array(z.string()), details: z.array(z.object({ path: z.string(), message: z.string() })).optional() })
  .meta({ id: "PayorError", example: { error: "Invalid claim: diagnosis_code must be an ICD-10-CM code such as J20.9 or E66.811", error_code: "INVALID_DIAGNOSIS_CODE", claim_id: null, suggestions: ["diagnosis_code: must be an ICD-10-CM code such as J20.9 or E66.811"] } });
export const payorProblem = (codes: string) => ({ description: codes, content: { "application/json": { schema: PayorErrorBody } } }) as const;

/** A JSON answer with its schema. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { "application/json": { schema } } }) as const;
/** An error answer: the codes it can carry, in the contract's error shape. */
export const problem = (codes: string) => ({ description: codes, content: { "application/json": { schema: ErrorBody } } }) as const;
/** A server-rendered console page. */
export const html = (description: string) => ({ description, content: { "text/html": { schema: z.string().meta({ example: "<!doctype html>…" }) } } }) as const;
/** An answer without a body (204) or a redirect (303). */
export const bare = (description: string) => ({ description }) as const;
/** What any operator route can answer before it runs: no or a bad token, or a role too low. */
export const OPERATOR_ERRORS = { 401: problem("UNAUTHORIZED"), 403: problem("FORBIDDEN (the operator's role)") } as const;

/** A JSON body documented from a zod schema the handler itself applies (after verification, or in a partner's own error shape). */
export const documentedBody = (schema: z.ZodType, description: string) => ({
  description,
  required: true,
  content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown> } },
});

/** The role an operator route needs: as declared, else GET reads metadata (`viewer`) and anything else is `admin`. */
export const roleOf = (method: string, declared: Role | undefined): Role => declared ?? (method === "get" ? "viewer" : "admin");

/**
 * 403 unless the operator's role allows the route. The operator was identified before (401 there): by the
 * bearer token for the admin API, by the session for the console, or not at all for a provider's call to a
 * route that also serves providers (`optional`).
 */
const roleGate = (role: Role, optional: boolean, refuse?: Refusal): MiddlewareHandler<AppContext> =>
  createMiddleware<AppContext>(async (c, next) => {
    const operator = c.get("operator");
    if (!operator) {
      if (optional) return next();
      throw new ApiError(401, "UNAUTHORIZED", "A valid operator bearer token is required.", undefined, { "WWW-Authenticate": 'Bearer realm="claimgate-admin"' });
    }
    if (!roleAllows(operator.role, role)) {
      const message = `This needs the ${role} role; ${operator.id} has ${operator.role}.`;
      if (refuse) return refuse(403, "FORBIDDEN", message, [`Use an operator token with the ${role} role`]);
      throw new ApiError(403, "FORBIDDEN", message);
    }
    await next();
  });

/** A route's own error shape (the HCMS guide's), for the refusals made before its handler runs. */
export type Refusal = (status: number, code: string, message: string, suggestions: string[]) => Response;

/**
 * Reads a JSON body once, as bytes, with the contract's answers (415 UNSUPPORTED_MEDIA_TYPE, 413
 * PAYLOAD_TOO_LARGE, 400 MALFORMED_JSON for bad UTF-8 or JSON) before the route's schema sees it; the
 * text is left in hono's body cache, where the validator reads it.
 */
const jsonBody = createMiddleware<AppContext>(async (c, next) => {
  const { text } = parseJsonBodyText(await readJsonBody(c.req.raw));
  (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
  await next();
});

type Declared = Omit<RouteConfig, "tags" | "security" | "middleware" | "summary"> & {
  tag: string;
  summary: string;
  auth: Auth;
  role?: Role;
  middleware?: MiddlewareHandler[];
  /** Answers the role refusal in the route's own error shape (default: the contract's `{error: {code, message}}`). */
  refuse?: Refusal;
};

const isZod = (s: unknown): s is z.ZodType => s instanceof z.ZodType;

/** One route: its schemas validate and document; its role (operators) is enforced from the same declaration. */
export function defineRoute<const R extends Declared>(r: R) {
  const { tag, auth, role: declaredRole, middleware = [], refuse, ...rest } = r;
  const role = auth === "admin" || auth === "admin-or-provider" ? roleOf(r.method, declaredRole) : undefined;
  const media = r.request?.body?.content?.["application/json"];
  const body = media && "schema" in media ? media.schema : undefined;
  return createRoute({
    ...rest,
    tags: [tag],
    security: SECURITY[auth],
    "x-auth": auth,
    ...(role ? { "x-role": role } : {}),
    // who may call comes before what they send: the role, then the route's own checks, then the body
    middleware: [...(role ? [roleGate(role, auth === "admin-or-provider", refuse)] : []), ...middleware, ...(isZod(body) ? [jsonBody] : [])],
  } as Omit<R, "tag" | "auth" | "role" | "middleware" | "refuse"> & { tags: string[]; security: Record<string, string[]>[]; middleware: MiddlewareHandler[] });
}

/**
 * A failed validation, in the contract's shape: a body is 422 PAYLOAD_INVALID (or the issue's own code),
 * a query 400 INVALID_FILTER, a path parameter 404 NOT_FOUND; each names the field.
 */
export function validationFailed(target: string, error: z.ZodError): ApiError {
  if (target === "json" || target === "form") return payloadInvalid(error, "request body");
  const details = zodDetails(error);
  const first = details[0];
  const message = `${first?.path || target} ${first?.message ?? "is invalid"}`;
  if (target === "param") return new ApiError(404, "NOT_FOUND", `No such resource: ${message}.`, details);
  return new ApiError(400, "INVALID_FILTER", `The query is invalid: ${message}.`, details);
}

const defaultHook = (result: { success: boolean; target: string; error?: unknown }) => {
  if (!result.success) throw validationFailed(result.target, result.error as z.ZodError);
};

/** A router whose routes are declared with `defineRoute` and served with `serve`. */
export const router = <E extends Env = AppContext>() => new OpenAPIHono<E>({ strict: false, defaultHook: defaultHook as never });

type Ctx<R extends RouteConfig, E extends Env> = Parameters<RouteHandler<R, E>>[0];

/**
 * Registers a declared route's handler. Handlers answer with any Response (HTML pages, redirects, the HCMS
 * guide's own shapes): the declared response schemas document them, and tests check answers against them.
 */
export function serve<E extends Env, R extends RouteConfig>(app: OpenAPIHono<E>, route: R, handler: (c: Ctx<R, E>) => Response | Promise<Response>, hook?: RouteHook<R, E>) {
  app.openapi(route, handler as never, hook as never);
}
