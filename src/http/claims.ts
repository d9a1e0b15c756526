import { eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { claimSearchBody, findClaimByIdentifier, findClaimId, parseIdentifier, readClaim } from "../claims/read";
import { database, type Db } from "../db/client";
import { payorSubmissions } from "../db/schema";
import { fanOutSafely } from "../delivery/fan-out";
import { lifecycleHooks } from "../payments/service";
import { ApiError } from "../errors";
import { isJsonContentType, parseJsonBody, readBodyCapped } from "../ingest/read-body";
import { claimReconciliations, listClaims } from "../operators/reads";
import { PayorError, validationError } from "../payor/errors";
import { claimSubmission } from "../payor/schema";
import { submitClaim } from "../payor/service";
import { auditTrail } from "./admin/audit";
import { idempotent } from "./idempotency";
import { withCaller, type Caller, type ProviderContext } from "./provider-auth";
import { defineRoute, documentedBody, json, OPERATOR_ERRORS, payorProblem, problem, router, serve, type Refusal } from "./route";

const claimNotFound = (what: string) => new ApiError(404, "CLAIM_NOT_FOUND", `No claim matches ${what}.`);

/** One claims router: HCMS submission (providers), and the claim reads (operators and providers). */
export const claimsApi = router<ProviderContext>();
claimsApi.use("*", withCaller);
// claim reads carry PHI: every one is audited, with the operator or provider as actor
claimsApi.use("*", auditTrail);

const money = z.number().nullable();
/** The HCMS claim shape plus `lifecycle` (what the gateway knows of the bill across its versions). */
const claimSchema = z
  .object({
    claim_id: z.string().meta({ description: "The HCMS CLM- id, or ours when the claim did not come through the HCMS API" }),
    id: z.string(),
    status: z.string(),
    amount: money,
    diagnosis_code: z.string().nullable(),
    procedure_code: z.string().nullable(),
    payor_id: z.string().nullable(),
    provider_id: z.string().nullable(),
    date_of_service: z.string().nullable(),
    expected_payment: money,
    patient_responsibility: money,
    submitted_date: z.string().nullable(),
    processed_date: z.string().nullable(),
    lifecycle: z.object({
      id: z.string(),
      billId: z.string().nullable(),
      placeholder: z.boolean(),
      claims: z.array(z.object({ id: z.string(), status: z.string() })),
      identifiers: z.array(z.object({ system: z.string(), value: z.string() })),
      lines: z.array(z.object({ sequence: z.number(), code: z.string(), codeSystem: z.string().nullable(), modifiers: z.array(z.string()), units: z.number(), charge: money, diagnosisPointers: z.array(z.number()), serviceDate: z.string().nullable() })),
      diagnoses: z.array(z.object({ sequence: z.number(), code: z.string(), codeSystem: z.string().nullable() })),
      claimResponse: z.object({ id: z.string(), decision: z.string().nullable(), patientResponsibility: money, payment: money, kind: z.string(), provisional: z.boolean() }).loose().nullable(),
      money: z.object({ patientResponsibility: money, provisional: z.boolean(), applied: money, currentClaimId: z.string().nullable() }),
      scrub: z.object({ optimizerRunId: z.string(), rulesApplied: z.number(), rulesFlagged: z.number(), edits: z.number(), receivedAt: z.string() }).nullable(),
      statusHistory: z.array(z.object({ from: z.string().nullable(), to: z.string(), source: z.string(), message: z.string().nullable(), at: z.string(), applied: z.boolean() })),
      payments: z.object({
        patientPaid: money,
        entries: z.array(z.object({ id: z.string(), paymentTraceId: z.string().nullable(), amount: money, amountSetOnClaim: money, excessAmount: money, paymentDate: z.string().nullable(), paymentMethod: z.string().nullable(), source: z.string().nullable(), status: z.string() })),
      }),
      credits: z.array(z.object({ id: z.string(), amount: money, remaining: money, status: z.string(), sourcePaymentId: z.string().nullable() })),
    }),
  })
  .loose()
  .meta({ id: "Claim" });
const claimAnswer = json(z.object({ success: z.literal(true), claim: claimSchema }), "The claim");
const claimIdParam = z.object({ claimId: z.string().meta({ description: "Our id (clm_…) or the HCMS CLM- id", example: "CLM-2026-000042" }) });

/**
 * Claim reads carry PHI: they always need credentials (open mode opens only submission); an operator's
 * role was checked by the route (viewers see no PHI).
 */
function reader(c: { get(key: "caller"): Caller | undefined }): Caller {
  const caller = c.get("caller");
  if (!caller || (caller.kind === "provider" && caller.open)) {
    throw new ApiError(401, "UNAUTHORIZED", "Give an operator bearer token, or X-API-Key and X-Provider-ID.");
  }
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
  const parts = parseIdentifier(identifier);
  if (!parts) throw new ApiError(400, "IDENTIFIER_REQUIRED", "Give the identifier as system|value.", [{ path: "identifier", message: "must be system|value" }]);
  return parts;
}

async function claimByIdentifier(c: Parameters<typeof reader>[0] & { env: { DB: D1Database } }, identifier: string | undefined) {
  const caller = reader(c);
  const { system, value } = splitIdentifier(identifier);
  const db = database(c.env.DB);
  const claimId = await visibleClaim(db, caller, await findClaimByIdentifier(db, system, value));
  const claim = claimId ? await readClaim(db, claimId) : null;
  // the identifier (a bill id, PHI) is not echoed back in the message
  if (!claim) throw claimNotFound("that identifier");
  return { success: true as const, claim };
}

/** `reader` as route middleware, so a caller without credentials is refused before its body is read. */
const requireReader = createMiddleware<ProviderContext>(async (c, next) => {
  reader(c);
  await next();
});

const CLAIM_READ_ERRORS = { ...OPERATOR_ERRORS, 404: problem("CLAIM_NOT_FOUND") } as const;

const byIdentifierRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "claims",
  summary: "Find a claim by ?identifier=system|value (HCMS compatibility; prefer POST /api/claims/search, which keeps identifiers out of URLs)",
  auth: "admin-or-provider",
  role: "operator",
  request: { query: z.object({ identifier: z.string().optional().meta({ example: "https://cair.health/fhir/claim-id|BILL-1001" }) }) },
  responses: { 200: claimAnswer, ...CLAIM_READ_ERRORS, 400: problem("IDENTIFIER_REQUIRED") },
});
serve(claimsApi, byIdentifierRoute, async (c) => c.json(await claimByIdentifier(c, c.req.valid("query").identifier)));

const searchRoute = defineRoute({
  method: "post",
  path: "/search",
  tag: "claims",
  summary: "Find a claim by {identifier: system|value} in the body (bill ids and patient references stay out of URLs)",
  auth: "admin-or-provider",
  role: "operator",
  request: { body: { required: true, content: { "application/json": { schema: claimSearchBody.meta({ example: { identifier: "https://cair.health/fhir/claim-id|BILL-1001" } }) } } } },
  responses: { 200: claimAnswer, ...CLAIM_READ_ERRORS, 400: problem("IDENTIFIER_REQUIRED"), 422: problem("PAYLOAD_INVALID") },
  // who may ask comes before what they ask
  middleware: [requireReader],
});
serve(claimsApi, searchRoute, async (c) => c.json(await claimByIdentifier(c, c.req.valid("json").identifier)));

export const claimListBody = z
  .strictObject({
    patient: z.string().trim().min(1).max(200).optional().meta({ description: "A patient reference: Patient/<id>, a partner's patient id, or ours" }),
    status: z.string().max(40).optional(),
    before: z.string().max(200).optional().meta({ description: "Cursor: the previous page's nextBefore" }),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .meta({ example: { patient: "Patient/pat-7731", limit: 50 } });

const listRoute = defineRoute({
  method: "post",
  path: "/list",
  tag: "claims",
  summary: "Claims, newest first, optionally of one patient (the patient reference in the body, out of URLs); paginated",
  auth: "admin",
  role: "operator",
  request: { body: { required: true, content: { "application/json": { schema: claimListBody } } } },
  responses: {
    200: json(
      z.object({
        data: z.array(z.object({ id: z.string(), lifecycleId: z.string(), billId: z.string().nullable(), status: z.string(), payerId: z.string().nullable(), totalCharge: z.number(), patientResponsibility: money, patientPaid: z.number(), serviceDate: z.string().nullable(), createdAt: z.string() })),
        nextBefore: z.string().nullable(),
      }),
      "A page of claims",
    ),
    ...OPERATOR_ERRORS,
    422: problem("PAYLOAD_INVALID"),
  },
});
serve(claimsApi, listRoute, async (c) => c.json(await listClaims(database(c.env.DB), c.req.valid("json"))));

const reconciliationRoute = defineRoute({
  method: "get",
  path: "/{claimId}/payment-reconciliation",
  tag: "payments",
  summary: "The claim's FHIR R4B PaymentReconciliations, as a searchset Bundle",
  auth: "admin-or-provider",
  role: "operator",
  request: { params: claimIdParam },
  responses: {
    200: json(z.object({ resourceType: z.literal("Bundle"), type: z.literal("searchset"), total: z.number().int(), entry: z.array(z.object({ resource: z.record(z.string(), z.unknown()) })) }), "Bundle"),
    ...CLAIM_READ_ERRORS,
  },
});
serve(claimsApi, reconciliationRoute, async (c) => {
  const caller = reader(c);
  const db = database(c.env.DB);
  const { claimId: given } = c.req.valid("param");
  const claimId = await visibleClaim(db, caller, await findClaimId(db, given));
  if (!claimId) throw claimNotFound(`id ${given}`);
  const resources = await claimReconciliations(db, claimId);
  return c.json({ resourceType: "Bundle", type: "searchset", total: resources.length, entry: resources.map((resource) => ({ resource })) });
});

const oneRoute = defineRoute({
  method: "get",
  path: "/{claimId}",
  tag: "claims",
  summary: "A claim by our id or its HCMS CLM- id (trailing slash optional)",
  auth: "admin-or-provider",
  role: "operator",
  request: { params: claimIdParam },
  responses: { 200: claimAnswer, ...CLAIM_READ_ERRORS },
});
serve(claimsApi, oneRoute, async (c) => {
  const caller = reader(c);
  const db = database(c.env.DB);
  const { claimId: given } = c.req.valid("param");
  const claimId = await visibleClaim(db, caller, await findClaimId(db, given));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`id ${given}`);
  return c.json({ success: true, claim });
});

/** A refusal before the submission handler runs (role, idempotency), in the HCMS guide's error shape. */
const payorRefusal: Refusal = (status, code, message, suggestions) =>
  new Response(JSON.stringify(new PayorError(status, code, message, suggestions).toBody()), { status, headers: { "content-type": "application/json" } });

/** Idempotency-Key for submissions, in each caller's own namespace (open mode has its own). */
const submissionIdempotency = idempotent<ProviderContext>({
  scope: (c) => {
    const caller = c.get("caller");
    if (!caller) return null;
    if (caller.kind === "admin") return `operator:${caller.operator.id}`;
    return caller.open ? `open:${caller.providerId ?? "-"}` : `provider:${caller.providerId}`;
  },
  error: payorRefusal,
});

const submitRoute = defineRoute({
  method: "post",
  path: "/",
  tag: "claims",
  summary: "Submit a claim (HCMS guide: errors in the guide's shape; Idempotency-Key)",
  description:
    "The body is validated by the route with the schema shown, and refusals keep the HCMS guide's error shape ({error, error_code, claim_id, suggestions}). An operator token needs the admin role.",
  auth: "admin-or-provider",
  request: { body: documentedBody(claimSubmission, "The HCMS claim") },
  responses: {
    201: json(z.object({ success: z.literal(true), claim_id: z.string(), status: z.enum(["approved", "under_review", "rejected"]) }).loose().meta({ example: { success: true, claim_id: "CLM-2026-000042", status: "approved", message: "Claim auto-approved" } }), "approved | under_review | rejected"),
    400: payorProblem("VALIDATION_ERROR, MISSING_REQUIRED_FIELD, INVALID_DIAGNOSIS_CODE, INVALID_PROCEDURE_CODE, MALFORMED_JSON"),
    401: payorProblem("AUTHENTICATION_FAILED"),
    403: payorProblem("FORBIDDEN (an operator without the admin role)"),
    404: payorProblem("INSURANCE_NOT_FOUND"),
    409: payorProblem("IDEMPOTENCY_KEY_IN_USE"),
    413: payorProblem("PAYLOAD_TOO_LARGE"),
    415: payorProblem("UNSUPPORTED_MEDIA_TYPE"),
    422: payorProblem("IDEMPOTENCY_KEY_REUSED"),
  },
  middleware: [submissionIdempotency],
  refuse: payorRefusal,
});
serve(claimsApi, submitRoute, async (c) => {
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
    const { body } = await submitClaim(db, lifecycleHooks(c.env), providerId, parsed.data, started);
    c.executionCtx.waitUntil(fanOutSafely(c.env, db));
    return new Response(JSON.stringify(body), { status: 201, headers: { "content-type": "application/json" } });
  } catch (e) {
    const err = e instanceof PayorError ? e : e instanceof ApiError ? new PayorError(e.status, e.code, e.message, [], e.details) : null;
    if (!err) throw e;
    return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: { "content-type": "application/json", ...(err.status === 503 ? { "retry-after": "5" } : {}) } });
  }
});
