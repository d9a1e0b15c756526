import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { admin, call } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { cms1500 } from "../helpers/fixtures";

let KEY = "";
const PROVIDER = "PROV-001";

beforeAll(async () => {
  const plan = await admin("PUT", "/admin/coverage-plans/BC-789-456", {
    payorId: "PAY001",
    planName: "Blue Cross PPO",
    activeFrom: "2020-01-01",
    activeTo: null,
    coinsurancePercent: 20,
    copay: 0,
    excludedCpt: ["15776"],
    excludedIcd: ["Z51.12"],
    autoApproveCeiling: 2500,
  });
  expect(plan.status).toBe(200);
  await admin("PUT", "/admin/coverage-plans/EXPIRED-1", { payorId: "PAY001", planName: "Old plan", activeFrom: "2019-01-01", activeTo: "2020-12-31", coinsurancePercent: 10, copay: 25, autoApproveCeiling: 1000 });
  await admin("PUT", "/admin/coverage-plans/COPAY-1", { payorId: "PAY002", planName: "Copay plan", coinsurancePercent: 15.5, copay: 30, autoApproveCeiling: 1000 });
  const key = await admin("POST", "/admin/provider-keys", { providerId: PROVIDER, label: "tests" });
  expect(key.status).toBe(201);
  KEY = key.body.key;
});

/** The guide's PayorClaimsAPI.submitClaim: POST /api/claims/ with X-API-Key and X-Provider-ID. */
const submitClaim = (claimData: unknown, headers: Record<string, string> = {}) =>
  call("POST", "/api/claims/", { json: claimData, headers: { "X-API-Key": KEY, "X-Provider-ID": PROVIDER, ...headers } });

describe("the guide's integration test cases, as written", () => {
  it("should auto-approve covered claim", async () => {
    const claimData = { patient_name: "Test Patient", insurance_id: "BC-789-456", diagnosis_code: "J20.9", procedure_code: "99213", amount: "150.00" };
    const result = (await submitClaim(claimData)).body;
    expect(result.success).toBe(true);
    expect(result.status).toBe("approved");
    expect(result.auto_approved).toBe(true);
  });

  it("should handle invalid insurance ID", async () => {
    const claimData = { patient_name: "Test Patient", insurance_id: "INVALID-123", diagnosis_code: "J20.9", amount: "150.00" };
    const res = await submitClaim(claimData);
    // the guide's client throws `result.error` on a non-2xx answer
    expect(res.status).toBe(404);
    expect(res.body.error).toContain("Insurance ID INVALID-123 not found");
    expect(res.body).toEqual({
      error: "Insurance ID INVALID-123 not found or not covered by this payor",
      error_code: "INSURANCE_NOT_FOUND",
      claim_id: null,
      suggestions: ["Verify insurance ID format", "Check if patient is enrolled with this payor", "Contact payor customer service"],
    });
  });

  it("should require manual review for excluded codes", async () => {
    const claimData = { patient_name: "Test Patient", insurance_id: "BC-789-456", diagnosis_code: "Z51.12", procedure_code: "15776", amount: "5000.00" };
    const result = (await submitClaim(claimData)).body;
    expect(result.status).toBe("under_review");
    expect(result.auto_approved).toBe(false);
    expect(result.claim).toMatchObject({
      claim_id: expect.stringMatching(/^CLM-\d{8}-[A-Z0-9]{6}$/),
      status: "under_review",
      coverage_validated: false,
      coverage_message: "Procedure code 15776 is excluded from coverage",
      auto_approved: false,
      review_reason: "Procedure not covered under patient's current plan",
      estimated_review_time: "24-48 hours",
      reviewer_contact: "claims@payor.com",
    });
  });
});

describe("POST /api/claims/", () => {
  it("answers the guide's success body with cents-exact figures", async () => {
    const res = await submitClaim({
      patient_name: "John Doe", insurance_id: "BC-789-456", diagnosis_code: "J20.9", procedure_code: "99213", amount: "1250.00",
      diagnosis_description: "Acute Bronchitis", date_of_service: "2024-10-03", priority: "medium", notes: "Patient reports cough",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      success: true,
      message: "Claim submitted successfully",
      claim: {
        claim_id: expect.stringMatching(/^CLM-/), patient_name: "John Doe", insurance_id: "BC-789-456", diagnosis_code: "J20.9", procedure_code: "99213",
        amount: 1250, status: "approved", coverage_validated: true, coverage_message: "Coverage validated successfully", auto_approved: true,
        submitted_date: expect.stringMatching(/Z$/), processed_date: expect.stringMatching(/Z$/), payor_id: "PAY001", expected_payment: 1000, patient_responsibility: 250,
      },
      status: "approved",
      auto_approved: true,
      processing_time_ms: expect.any(Number),
    });
  });

  it("copay then coinsurance, rounded to the cent; real ICD-10 codes the guide's regex would refuse", async () => {
    const res = await submitClaim({ patient_name: "A", insurance_id: "COPAY-1", diagnosis_code: "S72.001A", procedure_code: "3008F", amount: 100.01 });
    // 30.00 copay + 15.5 % of 70.01 = 10.85155 → 10.85
    expect(res.body.claim).toMatchObject({ status: "approved", patient_responsibility: 40.85, expected_payment: 59.16 });
    expect((await submitClaim({ patient_name: "A", insurance_id: "COPAY-1", diagnosis_code: "e66.811", amount: 10 })).body.status).toBe("approved");
  });

  it("over the ceiling → under_review; inactive coverage → rejected", async () => {
    expect((await submitClaim({ patient_name: "A", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "2500.01" })).body.claim.review_reason).toBe("Amount exceeds the plan's auto-approval limit");
    const rejected = await submitClaim({ patient_name: "A", insurance_id: "EXPIRED-1", diagnosis_code: "J20.9", amount: 50, date_of_service: "2024-05-01" });
    expect(rejected.status).toBe(201);
    expect(rejected.body).toMatchObject({ status: "rejected", auto_approved: false, claim: { status: "rejected", rejection_reason: "Patient coverage inactive on the date of service" } });
  });

  it("refuses each invalid field with the guide's error shape", async () => {
    const base = { patient_name: "A", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "10.00" };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...base, patient_name: undefined }, "MISSING_REQUIRED_FIELD", "patient_name"],
      [{ ...base, amount: undefined }, "MISSING_REQUIRED_FIELD", "amount"],
      [{ ...base, diagnosis_code: "J2" }, "INVALID_DIAGNOSIS_CODE", "diagnosis_code"],
      [{ ...base, procedure_code: "9921" }, "INVALID_PROCEDURE_CODE", "procedure_code"],
      [{ ...base, amount: "-5" }, "VALIDATION_ERROR", "amount"],
      [{ ...base, amount: 0 }, "VALIDATION_ERROR", "amount"],
      [{ ...base, amount: "10.001" }, "VALIDATION_ERROR", "amount"],
      [{ ...base, amount: true }, "VALIDATION_ERROR", "amount"],
      [{ ...base, date_of_service: "10/03/2024" }, "VALIDATION_ERROR", "date_of_service"],
      [{ ...base, priority: "asap" }, "VALIDATION_ERROR", "priority"],
      [{ ...base, patient_gender: "male" }, "VALIDATION_ERROR", "patient_gender"],
      [{ ...base, emergency: "no" }, "VALIDATION_ERROR", "emergency"],
      [{ ...base, unknown_field: 1 }, "VALIDATION_ERROR", ""],
    ];
    const before = await count("payor_submissions");
    for (const [body, code, path] of cases) {
      const res = await submitClaim(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ error: expect.any(String), error_code: code, claim_id: null, suggestions: expect.any(Array) });
      expect(res.body.details.map((d: any) => d.path)).toContain(path);
    }
    const malformed = await call("POST", "/api/claims/", { body: "{", headers: { "content-type": "application/json", "X-API-Key": KEY, "X-Provider-ID": PROVIDER } });
    expect(malformed.body).toMatchObject({ error_code: "MALFORMED_JSON", claim_id: null });
    expect(await count("payor_submissions")).toBe(before);
  });

  it("refuses a missing or wrong key, a key of another provider, and a mismatched provider_id", async () => {
    const body = { patient_name: "A", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "10.00" };
    for (const headers of [{ "X-API-Key": "", "X-Provider-ID": "" }, { "X-API-Key": "nope" }, { "X-Provider-ID": "PROV-002" }]) {
      const res = await call("POST", "/api/claims/", { json: body, headers: { "X-API-Key": KEY, "X-Provider-ID": PROVIDER, ...headers } });
      expect(res.status).toBe(401);
      expect(res.body.error_code).toBe("AUTHENTICATION_FAILED");
    }
    const mismatch = await submitClaim({ ...body, provider_id: "PROV-999" });
    expect(mismatch.status).toBe(400);
    expect((await admin("GET", "/api/claims/CLM-unknown/")).status).toBe(404);
  });

  it("an Idempotency-Key returns the first response", async () => {
    const body = { patient_name: "Idem", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "42.00" };
    const a = await submitClaim(body, { "Idempotency-Key": "key-1" });
    const b = await submitClaim(body, { "Idempotency-Key": "key-1" });
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(await count("payor_submissions", "patient_name = 'Idem'")).toBe(1);
    const c = await submitClaim(body, { "Idempotency-Key": "key-2" });
    expect(c.body.claim.claim_id).not.toBe(a.body.claim.claim_id);
  });

  it("keys are kept whole (two keys alike for 200 characters are two keys); over 255 is refused", async () => {
    const body = { patient_name: "Long Key", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "10.00" };
    const prefix = "k".repeat(200);
    const a = await submitClaim(body, { "Idempotency-Key": `${prefix}-a` });
    const b = await submitClaim(body, { "Idempotency-Key": `${prefix}-b` });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).toBeNull();
    expect(b.body.claim.claim_id).not.toBe(a.body.claim.claim_id);
    const tooLong = await submitClaim(body, { "Idempotency-Key": "x".repeat(256) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error_code).toBe("VALIDATION_ERROR");
  });

  it("the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; errors are not kept, so a corrected retry runs", async () => {
    const body = { patient_name: "Reuse", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "11.00" };
    expect((await submitClaim(body, { "Idempotency-Key": "reuse-1" })).status).toBe(201);
    const other = await submitClaim({ ...body, amount: "12.00" }, { "Idempotency-Key": "reuse-1" });
    expect(other.status).toBe(422);
    expect(other.body.error_code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await count("payor_submissions", "patient_name = 'Reuse'")).toBe(1);

    const bad = await submitClaim({ ...body, insurance_id: "INVALID-9" }, { "Idempotency-Key": "fix-1" });
    expect(bad.status).toBe(404);
    const fixed = await submitClaim({ ...body, patient_name: "Fixed" }, { "Idempotency-Key": "fix-1" });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
  });

  it("a reservation left by a crash expires after 60 s; a fresh one in progress is 409", async () => {
    const body = { patient_name: "Crashed", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "13.00" };
    const hash = async (b: unknown) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(b))))].map((x) => x.toString(16).padStart(2, "0")).join("");
    const old = new Date(Date.now() - 61_000).toISOString();
    await env.DB.prepare("INSERT INTO idempotency_keys (key, request_hash, created_at) VALUES (?, ?, ?)").bind(`provider:${PROVIDER}:crashed-1`, await hash(body), old).run();
    expect((await submitClaim(body, { "Idempotency-Key": "crashed-1" })).status).toBe(201);
    await env.DB.prepare("INSERT INTO idempotency_keys (key, request_hash, created_at) VALUES (?, ?, ?)").bind(`provider:${PROVIDER}:busy-1`, await hash(body), new Date().toISOString()).run();
    const busy = await submitClaim(body, { "Idempotency-Key": "busy-1" });
    expect(busy.status).toBe(409);
    expect(busy.body.error_code).toBe("IDEMPOTENCY_KEY_IN_USE");
  });
});

describe("HCMS_OPEN_MODE and provider isolation", () => {
  const open = { ...env, HCMS_OPEN_MODE: "true" } as typeof env;
  const viaOpen = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://claimgate.test${path}`, { method, headers: { "content-type": "application/json", ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) }),
      open,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, body: (await res.json()) as any };
  };

  it("open mode opens submission only: reads always need credentials, and its keys are a namespace of their own", async () => {
    const body = { patient_name: "Open", insurance_id: "BC-789-456", diagnosis_code: "J20.9", amount: "14.00" };
    const submitted = await viaOpen("POST", "/api/claims/", body, { "X-Provider-ID": PROVIDER, "Idempotency-Key": "shared-key" });
    expect(submitted.status).toBe(201);
    const id = submitted.body.claim.claim_id;
    expect((await viaOpen("GET", `/api/claims/${id}/`, undefined, { "X-Provider-ID": PROVIDER })).status).toBe(401);
    expect((await viaOpen("GET", `/api/claims?identifier=x|y`, undefined, { "X-Provider-ID": PROVIDER })).status).toBe(401);
    // the same key from the keyed provider is another namespace: a claim of its own, not the open one's
    const keyed = await submitClaim({ ...body, patient_name: "Keyed" }, { "Idempotency-Key": "shared-key" });
    expect(keyed.status).toBe(201);
    expect(keyed.body.claim.claim_id).not.toBe(id);
  });

  it("a partner's provider field never grants a provider access to a claim it did not submit", async () => {
    await admin("POST", "/admin/sources", { id: "iso-healthie", kind: "healthie.cms1500", verification: { scheme: "api_secret" }, secrets: ["iso-healthie-secret"] });
    const form = { ...cms1500((f) => ((f.id = "iso-form-1"), (f.billing_provider_id = PROVIDER))) };
    const res = await call("POST", "/webhooks/iso-healthie", { json: form, headers: { "X-API-KEY": "iso-healthie-secret" } });
    expect(res.status).toBe(202);
    await eventually(async () => (await count("events", "id = ? AND status = 'processed'", res.body.eventId)) === 1);
    const [claim] = await rows<any>("SELECT c.id, c.provider_id FROM claims c JOIN claim_identifiers i ON i.claim_id = c.id WHERE i.value = 'iso-form-1'");
    expect(claim.provider_id).toBe(PROVIDER);
    expect((await call("GET", `/api/claims/${claim.id}`, { headers: { "X-API-Key": KEY, "X-Provider-ID": PROVIDER } })).status).toBe(404);
    expect((await admin("GET", `/api/claims/${claim.id}`)).status).toBe(200);
  });
});

describe("status, review and events", () => {
  it("GET /api/claims/:id/ returns the claim to its provider; manual review finishes it; every change emits claim_status_update", async () => {
    const submitted = (await submitClaim({ patient_name: "Review Me", insurance_id: "BC-789-456", diagnosis_code: "J20.9", procedure_code: "15776", amount: "300.00" })).body;
    const id = submitted.claim.claim_id;
    const status = await call("GET", `/api/claims/${id}/`, { headers: { "X-API-Key": KEY, "X-Provider-ID": PROVIDER } });
    expect(status.status).toBe(200);
    expect(status.body.claim).toMatchObject({ claim_id: id, status: "under_review", amount: 300, procedure_code: "15776", provider_id: PROVIDER });
    expect(status.body.claim.lifecycle.statusHistory.map((h: any) => h.to)).toEqual(["submitted", "under_review"]);

    const other = await admin("POST", "/admin/provider-keys", { providerId: "PROV-OTHER" });
    expect((await call("GET", `/api/claims/${id}/`, { headers: { "X-API-Key": other.body.key, "X-Provider-ID": "PROV-OTHER" } })).status).toBe(404);
    expect((await call("GET", `/api/claims/${id}/`)).status).toBe(401);

    const review = await admin("POST", `/admin/claims/${id}/review`, { decision: "approved", message: "Medically necessary" });
    expect(review.body).toEqual({ success: true, message: "Claim approved", claim_id: id, status: "approved" });
    const again = await admin("POST", `/admin/claims/${id}/review`, { decision: "rejected", message: "x" });
    expect(again.status).toBe(409);
    expect(again.body.error_code).toBe("CLAIM_NOT_UNDER_REVIEW");

    const after = (await admin("GET", `/api/claims/${id}`)).body.claim;
    expect(after).toMatchObject({ status: "approved", expected_payment: 240, patient_responsibility: 60 });

    const events = await rows<any>("SELECT payload FROM domain_events WHERE type = 'claim_status_update' AND payload LIKE ? ORDER BY occurred_at, id", `%${id}%`);
    const payloads = events.map((e) => JSON.parse(e.payload));
    expect(payloads.map((p) => [p.previous_status, p.new_status])).toEqual([[null, "submitted"], ["submitted", "under_review"], ["under_review", "approved"]]);
    expect(payloads[2]).toMatchObject({
      event_type: "claim_status_update", claim_id: id, message: "Medically necessary", processed_by: "manual_review", patient_name: "Review Me",
      insurance_id: "BC-789-456", provider_id: PROVIDER, amount: 300,
      payment_details: { approved_amount: 240, patient_responsibility: 60, expected_payment_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), payment_method: "ACH" },
    });
  });
});

describe("coverage plans", () => {
  it("a PUT of a plan that exists replaces it: every field takes the new value, and adjudication follows", async () => {
    const put = (body: Record<string, unknown>) => admin("PUT", "/admin/coverage-plans/REPLACED-1", { payorId: "PAY009", planName: "First", coinsurancePercent: 10, copay: 5, autoApproveCeiling: 1000, ...body });
    expect((await put({ excludedCpt: ["99213"] })).status).toBe(200);
    const replaced = await put({ planName: "Second", coinsurancePercent: 30, copay: 0, autoApproveCeiling: 50, excludedCpt: [] });
    expect(replaced.status).toBe(200);
    const [plan] = (await admin("GET", "/admin/coverage-plans")).body.data.filter((p: { insuranceId: string }) => p.insuranceId === "REPLACED-1");
    expect(plan).toMatchObject({ payorId: "PAY009", planName: "Second", coinsurancePercent: 30, copay: 0, autoApproveCeiling: 50, excludedCpt: [] });
    // 99213 is no longer excluded, and $150 is over the new $50 ceiling: manual review, not a denial
    const result = (await submitClaim({ patient_name: "Test Patient", insurance_id: "REPLACED-1", diagnosis_code: "J20.9", procedure_code: "99213", amount: "150.00" })).body;
    expect(result).toMatchObject({ success: true, auto_approved: false });
  });
});
