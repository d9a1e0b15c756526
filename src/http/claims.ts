import { and, asc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { findClaimByIdentifier, findClaimId, readClaim } from "../claims/read";
import { database, nowIso, type Db } from "../db/client";
import { claims, idempotencyKeys, paymentReconciliations } from "../db/schema";
import { fanOutSafely } from "../delivery/fan-out";
import { ApiError } from "../errors";
import { isJsonContentType, parseJsonBody, readBodyCapped } from "../ingest/read-body";
import { PayorError, validationError } from "../payor/errors";
import { claimSubmission } from "../payor/schema";
import { submitClaim } from "../payor/service";
import { withCaller, type Caller, type ProviderContext } from "./provider-auth";

const claimNotFound = (what: string) => new ApiError(404, "CLAIM_NOT_FOUND", `No claim matches ${what}.`);

/** One claims router: HCMS submission (providers), and the claim reads (operators and providers). */
export const claimsApi = new Hono<ProviderContext>({ strict: false });
claimsApi.use("*", withCaller);

function reader(caller: Caller | undefined): Caller {
  if (!caller) {
    throw new ApiError(401, "UNAUTHORIZED", "Give the admin bearer token, or X-API-Key and X-Provider-ID.");
  }
  return caller;
}

/** A provider sees only its own claims; an operator sees all. */
async function visibleClaim(db: Db, caller: Caller, claimId: string | null): Promise<string | null> {
  if (!claimId || caller.kind === "admin") return claimId;
  const [row] = await db.select({ providerId: claims.providerId }).from(claims).where(eq(claims.id, claimId));
  return row && row.providerId === caller.providerId ? claimId : null;
}

/** GET /api/claims?identifier=system|value */
claimsApi.get("/", async (c) => {
  const caller = reader(c.get("caller"));
  const identifier = c.req.query("identifier");
  const bar = identifier?.lastIndexOf("|") ?? -1;
  if (!identifier || bar <= 0 || bar === identifier.length - 1) {
    throw new ApiError(400, "IDENTIFIER_REQUIRED", "Give ?identifier=system|value.", [{ path: "identifier", message: "must be system|value" }]);
  }
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimByIdentifier(db, identifier.slice(0, bar), identifier.slice(bar + 1)));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`identifier ${identifier}`);
  return c.json({ success: true, claim });
});

/** GET /api/claims/:claimId/payment-reconciliation: the claim's FHIR PaymentReconciliations, as a Bundle. */
claimsApi.get("/:claimId/payment-reconciliation", async (c) => {
  const caller = reader(c.get("caller"));
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
  const caller = reader(c.get("caller"));
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimId(db, c.req.param("claimId")));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`id ${c.req.param("claimId")}`);
  return c.json({ success: true, claim });
});

/**
 * POST /api/claims/: the HCMS guide's claim submission. Errors keep the guide's own shape. With an
 * Idempotency-Key header, a repeated key (per provider) returns the first response.
 */
claimsApi.post("/", async (c) => {
  const started = Date.now();
  const db = database(c.env.DB);
  let reservation: string | null = null;
  try {
    const caller = c.get("caller");
    if (!caller) {
      throw new PayorError(401, "AUTHENTICATION_FAILED", "Missing or invalid X-API-Key / X-Provider-ID", [
        "Send X-API-Key and X-Provider-ID headers",
        "Ask the payor for a provider API key",
      ]);
    }
    const providerId = caller.kind === "provider" ? caller.providerId : null;
    const key = c.req.header("idempotency-key");
    if (key) {
      reservation = `${providerId ?? "admin"}:${key.slice(0, 200)}`;
      const first = await reserveIdempotencyKey(db, reservation);
      if (first) {
        reservation = null;
        return new Response(first.body, { status: first.status, headers: { "content-type": "application/json", "idempotent-replayed": "true" } });
      }
    }
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
    const text = JSON.stringify(body);
    if (reservation) await storeIdempotentResponse(db, reservation, 201, text);
    return new Response(text, { status: 201, headers: { "content-type": "application/json" } });
  } catch (e) {
    const err = e instanceof PayorError ? e : e instanceof ApiError ? new PayorError(e.status, e.code, e.message, [], e.details) : null;
    if (!err) {
      if (reservation) await releaseIdempotencyKey(db, reservation);
      throw e;
    }
    const text = JSON.stringify(err.toBody());
    if (reservation) {
      if (err.status >= 500) await releaseIdempotencyKey(db, reservation);
      else await storeIdempotentResponse(db, reservation, err.status, text);
    }
    return new Response(text, { status: err.status, headers: { "content-type": "application/json", ...(err.status === 503 ? { "retry-after": "5" } : {}) } });
  }
});

/** Reserves a key; returns the stored response when the key was used before. */
async function reserveIdempotencyKey(db: Db, key: string): Promise<{ status: number; body: string } | null> {
  const inserted = await db.insert(idempotencyKeys).values({ key, createdAt: nowIso() }).onConflictDoNothing().returning({ key: idempotencyKeys.key });
  if (inserted.length === 1) return null;
  const [row] = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
  if (row?.status && row.response) return { status: row.status, body: row.response };
  throw new PayorError(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed", ["Retry in a moment"]);
}

const storeIdempotentResponse = (db: Db, key: string, status: number, response: string) =>
  db.update(idempotencyKeys).set({ status, response }).where(eq(idempotencyKeys.key, key));

const releaseIdempotencyKey = (db: Db, key: string) =>
  db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.key, key))).catch(() => {});

