import { z } from "zod";
import { claimSubmission, reviewDecision } from "../payor/schema";
import { patientPaymentBody, reversalBody } from "../partners/cair-patient-payment/schema";
import { adapterFor, SOURCE_KINDS } from "../partners/registry";
import { planBody } from "./admin/payor";
import { addSecretBody, createSourceBody, patchSourceBody } from "./admin/sources";
import { createOperatorBody } from "./admin/operators";
import { createSubscriptionBody, patchSubscriptionBody, replayRangeBody, rotateSecretBody } from "./admin/subscriptions";
import { claimSearchBody } from "../claims/read";
import { allocateBody, creditSearchBody } from "../payments/credits";
import { eventTypeCatalog } from "../delivery/event-types";
import { compileRules } from "../operators/access";
import type { Role } from "../operators/identity";

type Auth = "none" | "admin" | "partner" | "provider" | "admin-or-provider" | "subscriber";

interface RouteDoc {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  tag: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  /** status → error codes (or a description) */
  responses: Record<number, string>;
  /**
   * The operator role the route needs (admin, console and operator claim reads). Unset: GET is `viewer`
   * (metadata), anything else `admin`. Payload and PHI reads, replays and reprocessing are `operator`.
   */
  role?: Role;
}

const COMMON_PARTNER = { 401: "SIGNATURE_INVALID, TIMESTAMP_OUT_OF_TOLERANCE", 404: "SOURCE_NOT_FOUND", 400: "MALFORMED_JSON", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "PAYLOAD_INVALID", 503: "STORAGE_UNAVAILABLE (Retry-After)" };
const ADMIN = { 401: "UNAUTHORIZED" };

/** Every route of the Worker, documented from the zod schemas the routes themselves validate with. */
export const ROUTES: RouteDoc[] = [
  { method: "get", path: "/", tag: "ops", summary: "What this gateway is, with links to the console, docs and health", auth: "none", responses: { 200: "HTML" } },
  { method: "get", path: "/health", tag: "ops", summary: "Liveness, no auth", auth: "none", responses: { 200: "ok" } },
  { method: "get", path: "/openapi.json", tag: "ops", summary: "This document", auth: "none", responses: { 200: "OpenAPI 3.1" } },
  { method: "get", path: "/docs", tag: "ops", summary: "Rendered API reference", auth: "none", responses: { 200: "HTML" } },
  { method: "get", path: "/console/login", tag: "console", summary: "Console login form", auth: "none", responses: { 200: "HTML" } },
  { method: "post", path: "/console/login", tag: "console", summary: "Log in with the admin token (sets the session cookie)", auth: "none", responses: { 303: "to /console or back to the form" } },
  { method: "post", path: "/console/logout", tag: "console", summary: "Log out (CSRF token)", auth: "admin", role: "viewer", responses: { 303: "to the login form", 403: "bad CSRF token" } },
  { method: "get", path: "/console", tag: "console", summary: "Overview: sources, subscriptions with health, latest events", auth: "admin", responses: { 200: "HTML", 303: "to login" } },
  { method: "get", path: "/console/events", tag: "console", summary: "Event stream with filters", auth: "admin", responses: { 200: "HTML", 303: "to login" } },
  { method: "get", path: "/console/events/{id}", tag: "console", summary: "One event: validation errors, what it produced (events, payments), deliveries, payload; Reprocess for invalid and failed events", auth: "admin", role: "operator", responses: { 200: "HTML", 303: "to login" } },
  { method: "post", path: "/console/events/{id}/reprocess", tag: "console", summary: "Reprocess an invalid or failed event (CSRF token)", auth: "admin", role: "operator", responses: { 303: "to the event, with the result", 403: "bad CSRF token" } },
  { method: "get", path: "/console/deliveries", tag: "console", summary: "Deliveries; ?status=dead lists dead letters with Replay", auth: "admin", responses: { 200: "HTML", 303: "to login" } },
  { method: "get", path: "/console/deliveries/{id}", tag: "console", summary: "A delivery's attempts timeline", auth: "admin", role: "operator", responses: { 200: "HTML", 303: "to login" } },
  { method: "post", path: "/console/deliveries/{id}/replay", tag: "console", summary: "Replay a delivery (CSRF token)", auth: "admin", role: "operator", responses: { 303: "to the delivery", 403: "bad CSRF token" } },
  { method: "get", path: "/console/subscriptions/new", tag: "console", summary: "A subscription form; event types picked from the catalog", auth: "admin", role: "admin", responses: { 200: "HTML", 303: "to login", 403: "role" } },
  { method: "post", path: "/console/subscriptions", tag: "console", summary: "Create a subscription (CSRF token); the secret, fetch token and public key shown once", auth: "admin", role: "admin", responses: { 201: "HTML with the secret", 422: "HTML naming the problem", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/subscriptions/{id}/enable", tag: "console", summary: "Enable a subscription (CSRF token)", auth: "admin", role: "admin", responses: { 303: "to the overview", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/subscriptions/{id}/disable", tag: "console", summary: "Disable a subscription (CSRF token)", auth: "admin", role: "admin", responses: { 303: "to the overview", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/subscriptions/{id}/rotate", tag: "console", summary: "Rotate a subscription's secret (CSRF token); the new one shown once, the old one signs for 24 h", auth: "admin", role: "admin", responses: { 200: "HTML with the new secret", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/sources/{id}/enable", tag: "console", summary: "Enable a source (CSRF token)", auth: "admin", role: "admin", responses: { 303: "to the overview", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/sources/{id}/disable", tag: "console", summary: "Disable a source (CSRF token)", auth: "admin", role: "admin", responses: { 303: "to the overview", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/sources/{id}/secrets", tag: "console", summary: "Add a generated secret to a source (CSRF token), shown once", auth: "admin", role: "admin", responses: { 200: "HTML with the secret", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/sources/{id}/secrets/{n}/delete", tag: "console", summary: "Remove a source secret, never the last (CSRF token)", auth: "admin", role: "admin", responses: { 303: "to the overview", 409: "LAST_SECRET", 403: "bad CSRF token or role" } },
  { method: "post", path: "/console/claims/search", tag: "console", summary: "Find a claim by identifier (form body, CSRF token) and open its page by our opaque id", auth: "admin", role: "operator", responses: { 303: "to /console/claims/{id}", 403: "bad CSRF token or role" } },
  { method: "get", path: "/console/claims/{id}/payment-reconciliation", tag: "console", summary: "A claim's FHIR PaymentReconciliation resources, readable in the console", auth: "admin", role: "operator", responses: { 200: "HTML", 303: "to login", 403: "role" } },
  { method: "get", path: "/console/claims/{id}", tag: "console", summary: "A claim's lifecycle timeline, remit, payments and credits", auth: "admin", role: "operator", responses: { 200: "HTML", 303: "to login" } },
  { method: "post", path: "/webhooks/{sourceId}", tag: "partners", summary: "Receive a partner webhook (kind per source; see x-partner-payloads)", auth: "partner", responses: { 202: "received", 200: "duplicate", ...COMMON_PARTNER } },
  { method: "post", path: "/api/webhooks/patient-payment", tag: "payments", summary: "Apply a Cair patient payment (source patient-payments)", auth: "partner", body: patientPaymentBody, responses: { 200: "applied", ...COMMON_PARTNER, 404: "SOURCE_NOT_FOUND, CLAIM_NOT_FOUND", 409: "NO_CLAIM_RESPONSE" } },
  { method: "post", path: "/api/webhooks/patient-payment/reversal", tag: "payments", summary: "Reverse a payment by trace id (credits first)", auth: "partner", body: reversalBody, responses: { 200: "reversed", ...COMMON_PARTNER, 404: "SOURCE_NOT_FOUND, PAYMENT_NOT_FOUND" } },
  { method: "get", path: "/api/claims", tag: "claims", summary: "Find a claim by ?identifier=system|value", auth: "admin-or-provider", role: "operator", responses: { 200: "HCMS claim + lifecycle", 400: "IDENTIFIER_REQUIRED", 401: "UNAUTHORIZED", 404: "CLAIM_NOT_FOUND" } },
  { method: "post", path: "/api/claims", tag: "claims", summary: "Submit a claim (HCMS guide; errors in the guide's shape; Idempotency-Key)", auth: "provider", body: claimSubmission, responses: { 201: "approved | under_review | rejected", 400: "VALIDATION_ERROR, MISSING_REQUIRED_FIELD, INVALID_DIAGNOSIS_CODE, INVALID_PROCEDURE_CODE, MALFORMED_JSON", 401: "AUTHENTICATION_FAILED", 404: "INSURANCE_NOT_FOUND", 409: "IDEMPOTENCY_KEY_IN_USE", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE" } },
  { method: "post", path: "/api/claims/search", tag: "claims", summary: "Find a claim by {identifier: system|value} in the body (keeps bill ids and patient references out of URLs)", auth: "admin-or-provider", body: claimSearchBody, role: "operator", responses: { 200: "{success, claim}", 400: "IDENTIFIER_REQUIRED", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "CLAIM_NOT_FOUND", 422: "PAYLOAD_INVALID" } },
  { method: "get", path: "/api/claims/{claimId}", tag: "claims", summary: "A claim by our id or HCMS CLM- id (trailing slash optional)", auth: "admin-or-provider", role: "operator", responses: { 200: "HCMS claim + lifecycle", 401: "UNAUTHORIZED", 404: "CLAIM_NOT_FOUND" } },
  { method: "get", path: "/api/claims/{claimId}/payment-reconciliation", tag: "payments", summary: "The claim's FHIR PaymentReconciliations (Bundle)", auth: "admin-or-provider", role: "operator", responses: { 200: "Bundle", 401: "UNAUTHORIZED", 404: "CLAIM_NOT_FOUND" } },
  { method: "get", path: "/api/patients/{patientId}/credits", tag: "payments", summary: "A patient's credits", auth: "admin", role: "operator", responses: { 200: "credits", ...ADMIN } },
  { method: "post", path: "/api/patients/credits/search", tag: "payments", summary: "A patient's credits, the patient id in the body (out of URLs)", auth: "admin", body: creditSearchBody, role: "operator", responses: { 200: "credits", ...ADMIN, 403: "FORBIDDEN", 422: "PAYLOAD_INVALID" } },
  { method: "post", path: "/api/credits/{creditId}/allocate", tag: "payments", summary: "Apply an unallocated credit to another claim of the same patient", auth: "admin", body: allocateBody, role: "operator", responses: { 200: "allocated", ...ADMIN, 404: "CREDIT_NOT_FOUND, CLAIM_NOT_FOUND", 409: "PATIENT_MISMATCH, NO_BALANCE_DUE, CREDIT_EXHAUSTED, NO_CLAIM_RESPONSE" } },
  { method: "post", path: "/admin/sources", tag: "admin", summary: "Create a source", auth: "admin", body: createSourceBody, responses: { 201: "source (secrets never echoed)", ...ADMIN, 409: "SOURCE_EXISTS", 422: "PAYLOAD_INVALID" } },
  { method: "get", path: "/admin/sources", tag: "admin", summary: "List sources (?kind=&enabled=)", auth: "admin", responses: { 200: "sources", ...ADMIN } },
  { method: "get", path: "/admin/sources/{id}", tag: "admin", summary: "One source", auth: "admin", responses: { 200: "source", ...ADMIN, 404: "SOURCE_NOT_FOUND" } },
  { method: "patch", path: "/admin/sources/{id}", tag: "admin", summary: "Update description, verification, enabled", auth: "admin", body: patchSourceBody, responses: { 200: "source", ...ADMIN, 404: "SOURCE_NOT_FOUND", 422: "PAYLOAD_INVALID" } },
  { method: "post", path: "/admin/sources/{id}/secrets", tag: "admin", summary: "Add a secret (rotation)", auth: "admin", body: addSecretBody, responses: { 201: "secret number", ...ADMIN, 404: "SOURCE_NOT_FOUND" } },
  { method: "delete", path: "/admin/sources/{id}/secrets/{n}", tag: "admin", summary: "Remove a secret", auth: "admin", responses: { 204: "removed", ...ADMIN, 404: "SOURCE_NOT_FOUND, SECRET_NOT_FOUND", 409: "LAST_SECRET" } },
  { method: "post", path: "/admin/subscriptions", tag: "delivery", summary: "Register a subscriber (our shape or the HCMS registration shape)", auth: "admin", body: createSubscriptionBody, responses: { 201: "subscription with its secret, shown once", ...ADMIN, 422: "PAYLOAD_INVALID" } },
  { method: "get", path: "/admin/subscriptions", tag: "delivery", summary: "List subscriptions (?active=)", auth: "admin", responses: { 200: "subscriptions", ...ADMIN } },
  { method: "get", path: "/admin/subscriptions/{id}", tag: "delivery", summary: "One subscription with health", auth: "admin", responses: { 200: "subscription", ...ADMIN, 404: "SUBSCRIPTION_NOT_FOUND" } },
  { method: "patch", path: "/admin/subscriptions/{id}", tag: "delivery", summary: "Update url, events, filters, ordered, active", auth: "admin", body: patchSubscriptionBody, responses: { 200: "subscription", ...ADMIN, 404: "SUBSCRIPTION_NOT_FOUND", 422: "PAYLOAD_INVALID" } },
  { method: "delete", path: "/admin/subscriptions/{id}", tag: "delivery", summary: "Delete a subscription", auth: "admin", responses: { 204: "deleted", ...ADMIN, 404: "SUBSCRIPTION_NOT_FOUND" } },
  { method: "post", path: "/admin/subscriptions/{id}/rotate-secret", tag: "delivery", summary: "Rotate the signing secret (old one signs during the grace period)", auth: "admin", body: rotateSecretBody, responses: { 200: "new secret, shown once", ...ADMIN, 404: "SUBSCRIPTION_NOT_FOUND" } },
  { method: "post", path: "/admin/subscriptions/{id}/replay", tag: "delivery", summary: "Replay deliveries created in a time range (resumable)", auth: "admin", body: replayRangeBody, role: "operator", responses: { 200: "replayed count and nextCursor", ...ADMIN, 404: "SUBSCRIPTION_NOT_FOUND", 422: "PAYLOAD_INVALID" } },
  { method: "get", path: "/api/deliveries/{deliveryId}/payload", tag: "delivery", summary: "The full body of a thin delivery, for its own subscription's fetch token (audited; 404 after PAYLOAD_RETENTION_DAYS)", auth: "subscriber", responses: { 200: "{type, timestamp, data}", 401: "UNAUTHORIZED", 404: "DELIVERY_NOT_FOUND, PAYLOAD_EXPIRED" } },
  { method: "get", path: "/admin/deliveries", tag: "delivery", summary: "List deliveries (?subscription=&status=&since=&until=&limit=)", auth: "admin", responses: { 200: "deliveries", ...ADMIN, 400: "INVALID_FILTER" } },
  { method: "get", path: "/admin/deliveries/{id}/attempts", tag: "delivery", summary: "A delivery's attempts", auth: "admin", role: "operator", responses: { 200: "attempts", ...ADMIN, 404: "DELIVERY_NOT_FOUND" } },
  { method: "post", path: "/admin/deliveries/{id}/replay", tag: "delivery", summary: "Replay one finished (delivered, dead, cancelled) delivery", auth: "admin", role: "operator", responses: { 202: "re-enqueued", ...ADMIN, 404: "DELIVERY_NOT_FOUND", 409: "DELIVERY_PENDING" } },
  { method: "get", path: "/admin/events", tag: "admin", summary: "List raw partner events (?source=&kind=&status=&claim=&since=&until=&limit=&before=)", auth: "admin", responses: { 200: "events (no payloads)", ...ADMIN, 400: "INVALID_FILTER" } },
  { method: "get", path: "/admin/events/{id}", tag: "admin", summary: "One event with payload, validation errors, produced events, payments and deliveries (audited)", auth: "admin", role: "operator", responses: { 200: "event", ...ADMIN, 404: "EVENT_NOT_FOUND" } },
  { method: "post", path: "/admin/events/{id}/reprocess", tag: "admin", summary: "Validate an invalid or failed event again with today's schema and, if valid, project it once (idempotent, audited)", auth: "admin", role: "operator", responses: { 200: "{eventId, status, reprocessed, lastError}", ...ADMIN, 404: "EVENT_NOT_FOUND", 422: "PAYLOAD_INVALID / MALFORMED_JSON: still invalid (details)" } },
  { method: "post", path: "/admin/operators", tag: "admin", summary: "Create an operator {name, role}; the token is shown once, stored hashed", auth: "admin", body: createOperatorBody, role: "admin", responses: { 201: "operator with its token", ...ADMIN, 403: "FORBIDDEN", 422: "PAYLOAD_INVALID" } },
  { method: "get", path: "/admin/operators", tag: "admin", summary: "List operators (never their tokens)", auth: "admin", role: "admin", responses: { 200: "operators", ...ADMIN, 403: "FORBIDDEN" } },
  { method: "delete", path: "/admin/operators/{id}", tag: "admin", summary: "Revoke an operator at once (their token and console sessions stop working)", auth: "admin", role: "admin", responses: { 204: "revoked", ...ADMIN, 403: "FORBIDDEN", 404: "OPERATOR_NOT_FOUND" } },
  { method: "get", path: "/admin/event-types", tag: "delivery", summary: "The event types subscribers can receive: name, description, example data, JSON Schema", auth: "admin", responses: { 200: "event types", ...ADMIN } },
  { method: "get", path: "/admin/audit", tag: "admin", summary: "The append-only audit trail (?limit=&before=)", auth: "admin", role: "admin", responses: { 200: "entries", ...ADMIN } },
  { method: "get", path: "/admin/coverage-plans", tag: "payor", summary: "List coverage plans", auth: "admin", responses: { 200: "plans", ...ADMIN } },
  { method: "put", path: "/admin/coverage-plans/{insuranceId}", tag: "payor", summary: "Create or replace a coverage plan", auth: "admin", body: planBody, responses: { 200: "plan", ...ADMIN, 422: "PAYLOAD_INVALID" } },
  { method: "delete", path: "/admin/coverage-plans/{insuranceId}", tag: "payor", summary: "Delete a coverage plan", auth: "admin", responses: { 204: "deleted", ...ADMIN, 404: "PLAN_NOT_FOUND" } },
  { method: "post", path: "/admin/provider-keys", tag: "payor", summary: "Create a provider API key (shown once, stored hashed)", auth: "admin", body: z.object({ providerId: z.string(), label: z.string().nullish() }), responses: { 201: "key", ...ADMIN } },
  { method: "delete", path: "/admin/provider-keys/{id}", tag: "payor", summary: "Revoke a provider API key", auth: "admin", responses: { 204: "revoked", ...ADMIN, 404: "KEY_NOT_FOUND" } },
  { method: "post", path: "/admin/claims/{id}/review", tag: "payor", summary: "Finish a manual review", auth: "admin", body: reviewDecision, role: "operator", responses: { 200: "decided", ...ADMIN, 404: "CLAIM_NOT_FOUND", 409: "CLAIM_NOT_UNDER_REVIEW" } },
];

/** The role each operator route needs: from the entries above, the one table of routes. */
export const requiredRole = compileRules(
  ROUTES.filter((r) => r.auth === "admin" || r.auth === "admin-or-provider").map((r) => ({ method: r.method, path: r.path, role: r.role ?? (r.method === "get" ? "viewer" : "admin") })),
);

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  none: [],
  admin: [{ adminBearer: [] }],
  partner: [{ partnerSignature: [] }],
  provider: [{ providerKey: [], providerId: [] }],
  "admin-or-provider": [{ adminBearer: [] }, { providerKey: [], providerId: [] }],
  subscriber: [{ fetchToken: [] }],
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } } },
    },
  },
};

let cached: unknown;

/** OpenAPI 3.1, generated from ROUTES and the partner adapters' schemas. */
export function openApiDocument() {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      tags: [r.tag],
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[{}]/g, "").replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
      ...(params.length ? { parameters: params } : {}),
      security: SECURITY[r.auth],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } } : {}),
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, description]) => [
          status,
          { description, ...(Number(status) >= 400 ? { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } } : {}) },
        ]),
      ),
    };
  }
  cached = {
    openapi: "3.1.0",
    info: { title: "claimgate", version: "0.1.0", description: "Edge webhook gateway for healthcare revenue-cycle integrations. Money in responses is decimal USD; times are ISO 8601 UTC." },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        adminBearer: { type: "http", scheme: "bearer", description: "An operator's token (cgop_…) or the bootstrap ADMIN_TOKEN" },
        fetchToken: { type: "http", scheme: "bearer", description: "A thin subscription's fetch token (cgft_…)" },
        partnerSignature: { type: "apiKey", in: "header", name: "X-Signature", description: "Per source: api_secret header, HMAC-SHA256 header, Stripe-Signature, Standard Webhooks (v1 or v1a) or Healthie's signed payload headers" },
        providerKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        providerId: { type: "apiKey", in: "header", name: "X-Provider-ID" },
      },
    },
    "x-partner-payloads": Object.fromEntries(SOURCE_KINDS.map((kind) => [kind, jsonSchema(adapterFor(kind)!.schema)])),
    "x-event-types": eventTypeCatalog(),
  };
  return cached;
}
