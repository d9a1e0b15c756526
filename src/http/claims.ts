import { asc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { claimSearchBody, findClaimByIdentifier, findClaimId, readClaim } from "../claims/read";
import { database, type Db } from "../db/client";
import { payorSubmissions, paymentReconciliations } from "../db/schema";
import { fanOutSafely } from "../delivery/fan-out";
import { ApiError } from "../errors";
import { isJsonContentType, parseJsonBody, readBodyCapped } from "../ingest/read-body";
import { PayorError, validationError } from "../payor/errors";
import { claimSubmission } from "../payor/schema";
import { submitClaim } from "../payor/service";
import { auditTrail } from "./admin/audit";
import { authorize } from "./admin/auth";
import { idempotent } from "./idempotency";
import { readJson } from "./json-body";
import { withCaller, type Caller, type ProviderContext } from "./provider-auth";

const claimNotFound = (what: string) => new ApiError(404, "CLAIM_NOT_FOUND", `No claim matches ${what}.`);

/** One claims router: HCMS submission (providers), and the claim reads (operators and providers). */
export const claimsApi = new Hono<ProviderContext>({ strict: false });
claimsApi.use("*", withCaller);
// claim reads carry PHI: every one is audited, with the operator or provider as actor
claimsApi.use("*", auditTrail);

/**
 * Claim reads carry PHI: they always need credentials (open mode opens only submission), and an operator
 * needs the role the route table gives them (operator: viewers see no PHI).
 */
function reader(c: { get(key: "caller"): Caller | undefined; req: { method: string; url: string } }): Caller {
  const caller = c.get("caller");
  if (!caller || (caller.kind === "provider" && caller.open)) {
    throw new ApiError(401, "UNAUTHORIZED", "Give an operator bearer token, or X-API-Key and X-Provider-ID.");
  }
  if (caller.kind === "admin") authorize(caller.operator, c.req.method, new URL(c.req.url).pathname);
  return caller;
}

/**
 * A provider sees only the claims it submitted through the HCMS API; an operator sees all. What a
 * partner says about a claim's provider (Healthie's billing_provider_id, a payor's provider_id) never
 * grants access: only the submitter recorded with the HCMS submission does.
 */
async function visibleClaim(db: Db, caller: Caller, claimId: string | null): Promise<string | null> {
  if (!claimId || caller.kind === "admin") return claimId;
  const [row] = await db.select({ submitter: payorSubmissions.providerId }).from(payorSubmissions).where(eq(payorSubmissions.claimId, claimId));
  return row && row.submitter !== null && row.submitter === caller.providerId ? claimId : null;
}

/** `system|value` → its parts, or 400 IDENTIFIER_REQUIRED. */
function splitIdentifier(identifier: string | undefined): { system: string; value: string } {
  const bar = identifier?.lastIndexOf("|") ?? -1;
  if (!identifier || bar <= 0 || bar === identifier.length - 1) {
    throw new ApiError(400, "IDENTIFIER_REQUIRED", "Give the identifier as system|value.", [{ path: "identifier", message: "must be system|value" }]);
  }
  return { system: identifier.slice(0, bar), value: identifier.slice(bar + 1) };
}

async function claimByIdentifier(c: Parameters<typeof reader>[0] & { env: { DB: D1Database } }, identifier: string | undefined) {
  const caller = reader(c);
  const { system, value } = splitIdentifier(identifier);
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimByIdentifier(db, system, value));
  const claim = claimId ? await readClaim(db, claimId) : null;
  // the identifier (a bill id, PHI) is not echoed back in the message
  if (!claim) throw claimNotFound("that identifier");
  return { success: true, claim };
}

/** GET /api/claims?identifier=system|value */
claimsApi.get("/", async (c) => c.json(await claimByIdentifier(c, c.req.query("identifier"))));

/**
 * POST /api/claims/search {"identifier": "system|value"}: the same lookup with the identifier in the body,
 * so bill ids and patient references stay out of URLs (and the trace stores and logs that keep URLs).
 */
claimsApi.post("/search", async (c) => {
  reader(c); // who may ask comes before what they ask
  const { identifier } = await readJson(c, claimSearchBody);
  return c.json(await claimByIdentifier(c, identifier));
});

/** GET /api/claims/:claimId/payment-reconciliation: the claim's FHIR PaymentReconciliations, as a Bundle. */
claimsApi.get("/:claimId/payment-reconciliation", async (c) => {
  const caller = reader(c);
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimId(db, c.req.param("claimId")));
  if (!claimId) throw claimNotFound(`id ${c.req.param("claimId")}`);
  const rows = await db
    .select({ resource: paymentReconciliations.resource })
    .from(paymentReconciliations)
    .where(eq(paymentReconciliations.claimId, claimId))
    .orderBy(asc(paymentReconciliations.paymentId));
  return c.json({ resourceType: "Bundle", type: "searchset", total: rows.length, entry: rows.map((r) => ({ resource: JSON.parse(r.resource) as unknown })) });
});

/** GET /api/claims/:claimId (our id or an HCMS CLM-… id; trailing slash optional) */
claimsApi.get("/:claimId", async (c) => {
  const caller = reader(c);
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimId(db, c.req.param("claimId")));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`id ${c.req.param("claimId")}`);
  return c.json({ success: true, claim });
});

/** Idempotency-Key for submissions, in each caller's own namespace (open mode has its own). */
const submissionIdempotency = idempotent<ProviderContext>({
  scope: (c) => {
    const caller = c.get("caller");
    if (!caller) return null;
    if (caller.kind === "admin") return `operator:${caller.operator.id}`;
    return caller.open ? `open:${caller.providerId ?? "-"}` : `provider:${caller.providerId}`;
  },
  error: (status, code, message, suggestions) =>
    new Response(JSON.stringify(new PayorError(status, code, message, suggestions).toBody()), { status, headers: { "content-type": "application/json" } }),
});

/** POST /api/claims/: the HCMS guide's claim submission. Errors keep the guide's own shape. */
claimsApi.post("/", submissionIdempotency, async (c) => {
  const started = Date.now();
  const db = database(c.env.DB);
  try {
    const caller = c.get("caller");
    if (!caller) {
      throw new PayorError(401, "AUTHENTICATION_FAILED", "Missing or invalid X-API-Key / X-Provider-ID", [
        "Send X-API-Key and X-Provider-ID headers",
        "Ask the payor for a provider API key",
      ]);
    }
    if (caller.kind === "admin") authorize(caller.operator, c.req.method, new URL(c.req.url).pathname);
    const providerId = caller.kind === "provider" ? caller.providerId : null;
    if (!isJsonContentType(c.req.header("content-type") ?? null)) {
      throw new PayorError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the claim as application/json", ["Set Content-Type: application/json"]);
    }
    const json = parseJsonBody(await readBodyCapped(c.req.raw));
    const parsed = claimSubmission.safeParse(json);
    if (!parsed.success) throw validationError(parsed.error, json);
    if (providerId && parsed.data.provider_id && parsed.data.provider_id !== providerId) {
      throw new PayorError(400, "VALIDATION_ERROR", "provider_id does not match X-Provider-ID", ["Send the provider_id of the API key, or leave it out"]);
    }
    const { body } = await submitClaim(db, providerId, parsed.data, started);
    c.executionCtx.waitUntil(fanOutSafely(c.env, db));
    return new Response(JSON.stringify(body), { status: 201, headers: { "content-type": "application/json" } });
  } catch (e) {
    const err = e instanceof PayorError ? e : e instanceof ApiError ? new PayorError(e.status, e.code, e.message, [], e.details) : null;
    if (!err) throw e;
    return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: { "content-type": "application/json", ...(err.status === 503 ? { "retry-after": "5" } : {}) } });
  }
});
