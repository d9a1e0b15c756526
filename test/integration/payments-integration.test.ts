import Stripe from "stripe";
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { remitFor, scrubPayload } from "../helpers/fixtures";

const SECRET = "payments-test-secret";
const STRIPE_SECRET = "whsec_stripe_test_secret_123";
const PR = "https://x12.org/codes/claim-adjustment-group-codes";

beforeAll(async () => {
  await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] });
  await createSource({ id: "remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  await createSource({ id: "scrub", kind: "cair.claim_scrubber", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  await createSource({ id: "stripe", kind: "stripe.payment", verification: { scheme: "stripe" }, secrets: [STRIPE_SECRET] });
});

async function deliver(source: string, payload: unknown) {
  const res = await postWebhook(source, JSON.stringify(payload), { "X-API-KEY": SECRET });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await eventually(async () => (await count("events", "id = ? AND status = 'processed'", res.body.eventId)) === 1);
}

/** A claim (scrub) for `billId` and a remit whose PR lines make the patient owe `owes` dollars. */
async function claimOwing(billId: string, owes: number | null, opts: { claimId?: string; patient?: string } = {}) {
  const claimId = opts.claimId ?? `fhir-${billId}`;
  const patient = `Patient/${opts.patient ?? `pt-${billId}`}`;
  await deliver("scrub", scrubPayload({ claimId, billId, runId: `run-${claimId}`, edit: (c) => (c.patient.reference = patient) }));
  if (owes !== null) {
    await deliver(
      "remit",
      remitFor({
        crId: `cr-${claimId}`,
        claimId,
        edit: (cr) => {
          cr.patient.reference = patient;
          cr.item[0].adjudication.push({ category: { coding: [{ system: PR, code: "PR" }] }, reason: { coding: [{ code: "2" }] }, amount: { value: owes, currency: "USD" } });
        },
      }),
    );
  }
}

const pay = (body: Record<string, unknown>) => postWebhook("patient-payments", JSON.stringify(body), { "X-API-KEY": SECRET });
// the partner's path is /api/webhooks/patient-payment, not /webhooks/:id
const payment = (body: unknown, headers: Record<string, string> = { "X-API-KEY": SECRET }) =>
  call("POST", "/api/webhooks/patient-payment", { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

const paidCents = async (billId: string) =>
  rows<any>("SELECT c.patient_paid_cents AS paid FROM claims c JOIN claim_lifecycles l ON l.id = c.claim_lifecycle_id WHERE l.bill_id = ?", billId);

describe("the Cair patient-payment contract", () => {
  it("refuses the generic webhook route for the payments source", async () => {
    const res = await pay({ billId: "x", paymentAmount: 1 });
    expect(res.status).toBe(404);
  });

  it("under, then over the responsibility: applied, then excess as an unallocated credit", async () => {
    await claimOwing("BILL-1", 150.75);
    const first = await payment({ billId: "BILL-1", paymentAmount: 100, paymentDate: "2025-01-05", paymentMethod: "card", paymentTraceId: "pi_1" });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      success: true,
      message: "Payment processed successfully",
      data: { claimId: expect.stringMatching(/^clm_/), claimLifecycleId: expect.stringMatching(/^lc_/), amountSetOnClaim: 100 },
    });
    expect(await paidCents("BILL-1")).toEqual([{ paid: 10000 }]);

    const second = await payment({ billId: "BILL-1", paymentAmount: 70.75, paymentTraceId: "pi_2" });
    expect(second.body.data).toMatchObject({ amountSetOnClaim: 50.75, excessAmount: 20 });
    expect(await paidCents("BILL-1")).toEqual([{ paid: 15075 }]);
    const [credit] = await rows<any>("SELECT * FROM patient_credits WHERE source_payment_id = (SELECT id FROM patient_payment_details WHERE trace_id = 'pi_2')");
    expect(credit).toMatchObject({ amount_cents: 2000, remaining_cents: 2000, status: "unallocated" });
    const claim = (await admin("GET", `/api/claims/${second.body.data.claimId}`)).body.claim;
    expect(claim.lifecycle.payments).toMatchObject({ patientPaid: 150.75, entries: [{ paymentTraceId: "pi_1", amountSetOnClaim: 100 }, { paymentTraceId: "pi_2", amountSetOnClaim: 50.75, excessAmount: 20 }] });
    expect(claim.lifecycle.credits).toEqual([expect.objectContaining({ amount: 20, remaining: 20, status: "unallocated" })]);
    const [details] = await rows<any>("SELECT * FROM patient_payment_details WHERE trace_id = 'pi_2'");
    expect(details).toMatchObject({ amount_cents: 7075, applied_cents: 5075, excess_cents: 2000, bill_id: "BILL-1", status: "applied" });
    const types = (await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ? ORDER BY type", details.id)).map((r) => r.type);
    expect(types).toEqual(["patient_credit.created", "patient_payment.applied"]);
  });

  it("exactly the responsibility: no excess", async () => {
    await claimOwing("BILL-EXACT", 50);
    const res = await payment({ billId: "BILL-EXACT", paymentAmount: 50, paymentTraceId: "pi_exact" });
    expect(res.body.data).toEqual({ claimId: expect.any(String), claimLifecycleId: expect.any(String), amountSetOnClaim: 50 });
  });

  it("one payment over: responsibility applied, the rest credited", async () => {
    await claimOwing("BILL-OVER", 150.75);
    const res = await payment({ billId: "BILL-OVER", paymentAmount: 200, paymentTraceId: "pi_over" });
    expect(res.body.data).toMatchObject({ amountSetOnClaim: 150.75, excessAmount: 49.25 });
  });

  it("updates patient_paid on every claim of the lifecycle", async () => {
    await claimOwing("BILL-MULTI", 80, { claimId: "multi-original", patient: "pm" });
    await claimOwing("BILL-MULTI", null, { claimId: "multi-corrected", patient: "pm" });
    expect(await count("claims c JOIN claim_lifecycles l ON l.id = c.claim_lifecycle_id", "l.bill_id = 'BILL-MULTI'")).toBe(2);
    await payment({ billId: "BILL-MULTI", paymentAmount: 30, paymentTraceId: "pi_multi" });
    expect(await paidCents("BILL-MULTI")).toEqual([{ paid: 3000 }, { paid: 3000 }]);
  });

  it("a repeated trace id returns the first answer and applies nothing again; so does a repeat without one", async () => {
    await claimOwing("BILL-IDEM", 100);
    const a = await payment({ billId: "BILL-IDEM", paymentAmount: 60, paymentTraceId: "pi_idem" });
    const b = await payment({ billId: "BILL-IDEM", paymentAmount: 60, paymentTraceId: "pi_idem" });
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    const noTrace = { billId: "BILL-IDEM", paymentAmount: 10, paymentDate: "2025-02-01", paymentMethod: "cash" };
    const c1 = await payment(noTrace);
    const c2 = await payment(noTrace);
    expect(c2.body).toEqual(c1.body);
    expect(await count("patient_payment_details", "bill_id = 'BILL-IDEM'")).toBe(2);
    expect(await paidCents("BILL-IDEM")).toEqual([{ paid: 7000 }]);
  });

  it("serves the FHIR PaymentReconciliation, the patient linked as issuer", async () => {
    // the same trace id, bill and amount: the first answer again
    const claimId = (await payment({ billId: "BILL-1", paymentAmount: 100, paymentTraceId: "pi_1" })).body.data.claimId;
    const res = await admin("GET", `/api/claims/${claimId}/payment-reconciliation`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe("Bundle");
    const first = res.body.entry[0].resource;
    expect(first).toMatchObject({
      resourceType: "PaymentReconciliation",
      status: "active",
      paymentDate: "2025-01-05",
      paymentAmount: { value: 100, currency: "USD" },
      extension: [{ url: "https://fhir.cairhealth.com/StructureDefinition/patient-payment-issuer", valueReference: { reference: "Patient/pt-BILL-1" } }],
      detail: [{ type: { coding: [{ code: "payment" }] }, request: { reference: "Claim/fhir-BILL-1" }, amount: { value: 100 } }],
    });
    expect(first.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    // the second payment went over: its excess is a detail of its own, and the details add up to the payment
    const second = res.body.entry[1].resource;
    expect(second.paymentAmount.value).toBe(70.75);
    expect(second.detail.map((d: any) => [d.type.coding[0].code, d.amount.value])).toEqual([["payment", 50.75], ["advance", 20]]);
  });

  it("a trace id names one payment: another bill or another amount is 409 TRACE_ID_CONFLICT, nothing stored", async () => {
    await claimOwing("BILL-TRACE-2", 40);
    const before = await count("patient_payment_details");
    const otherBill = await payment({ billId: "BILL-TRACE-2", paymentAmount: 100, paymentTraceId: "pi_1" });
    expect(otherBill.status).toBe(409);
    expect(otherBill.body.error.code).toBe("TRACE_ID_CONFLICT");
    const otherAmount = await payment({ billId: "BILL-1", paymentAmount: 99.99, paymentTraceId: "pi_1" });
    expect(otherAmount.status).toBe(409);
    expect(otherAmount.body.error.code).toBe("TRACE_ID_CONFLICT");
    expect(await count("patient_payment_details")).toBe(before);
    expect(await paidCents("BILL-TRACE-2")).toEqual([{ paid: 0 }]);
  });
});

describe("concurrency: one Durable Object per lifecycle", () => {
  it("200 concurrent payments whose sum exceeds the responsibility: applied exactly, excess credited exactly, each once", async () => {
    await claimOwing("BILL-RACE", 1234.56);
    const amounts = Array.from({ length: 200 }, (_, i) => 10 + (i % 7) + (i % 3) / 100); // 10.00–16.02
    const results = await Promise.all(amounts.map((a, i) => payment({ billId: "BILL-RACE", paymentAmount: a, paymentTraceId: `race-${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const totalCents = amounts.reduce((n, a) => n + Math.round(a * 100), 0);
    const [sum] = await rows<any>("SELECT count(*) AS n, sum(applied_cents) AS applied, sum(excess_cents) AS excess, count(DISTINCT trace_key) AS traces FROM patient_payment_details WHERE bill_id = 'BILL-RACE'");
    expect(sum).toEqual({ n: 200, applied: 123456, excess: totalCents - 123456, traces: 200 });
    const [credits] = await rows<any>("SELECT sum(amount_cents) AS c FROM patient_credits WHERE source_payment_id IN (SELECT id FROM patient_payment_details WHERE bill_id = 'BILL-RACE')");
    expect(credits.c).toBe(totalCents - 123456);
    expect(await paidCents("BILL-RACE")).toEqual([{ paid: 123456 }]);
    // Which payments' money is applied is a function of the set, never of arrival: payment date, then
    // trace id order fills the responsibility; every answer told no more than the payment itself.
    const shares = await rows<any>("SELECT trace_key, amount_cents, applied_cents FROM patient_payment_details WHERE bill_id = 'BILL-RACE' ORDER BY trace_key");
    let room = 123456;
    for (const s of shares) {
      const take = Math.min(room, s.amount_cents);
      expect(s.applied_cents, s.trace_key).toBe(take);
      room -= take;
    }
    expect(results.every((r, i) => r.body.data.amountSetOnClaim <= amounts[i]!)).toBe(true);
  });

  it("concurrent duplicates of one trace id apply once and all get the same answer", async () => {
    await claimOwing("BILL-DUPS", 500);
    const results = await Promise.all(Array.from({ length: 25 }, () => payment({ billId: "BILL-DUPS", paymentAmount: 40, paymentTraceId: "pi_dup" })));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(await count("patient_payment_details", "trace_id = 'pi_dup'")).toBe(1);
    expect(await paidCents("BILL-DUPS")).toEqual([{ paid: 4000 }]);
  });
});

describe("credits and reversal", () => {
  it("allocates a credit to another claim of the same patient, partially, and refuses another patient's claim", async () => {
    await claimOwing("BILL-CA", 10, { patient: "pc" });
    await claimOwing("BILL-CB", 15, { patient: "pc" });
    await claimOwing("BILL-CC", 15, { patient: "someone-else" });
    await payment({ billId: "BILL-CA", paymentAmount: 40, paymentTraceId: "pi_credit" }); // 30 excess
    const [{ id: patientId }] = await rows<any>("SELECT id FROM patients WHERE external_id = 'pc'");
    const list = await admin("GET", `/api/patients/${patientId}/credits`);
    expect(list.body.data).toEqual([expect.objectContaining({ amount: 30, remaining: 30, status: "unallocated" })]);
    const creditId = list.body.data[0].id;

    const mismatch = await admin("POST", `/api/credits/${creditId}/allocate`, { billId: "BILL-CC" });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe("PATIENT_MISMATCH");

    const alloc = await admin("POST", `/api/credits/${creditId}/allocate`, { billId: "BILL-CB" });
    expect(alloc.status).toBe(200);
    expect(alloc.body.data).toMatchObject({ creditId, amountAllocated: 15, creditRemaining: 15 });
    expect(await paidCents("BILL-CB")).toEqual([{ paid: 1500 }]);
    const again = await admin("POST", `/api/credits/${creditId}/allocate`, { billId: "BILL-CB" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("NO_BALANCE_DUE");
    const after = await admin("GET", "/api/patients/pc/credits");
    expect(after.body.data[0]).toMatchObject({ remaining: 15, status: "partially_allocated", allocations: [expect.objectContaining({ amount: 15 })] });
    expect((await admin("POST", "/api/credits/crd_nope/allocate", { billId: "BILL-CB" })).status).toBe(404);
  });

  it("lists a patient's credits when there are more than one statement may bind (D1's 100 parameters)", async () => {
    // a patient who overpaid 150 times (found by bench/payments at 4,000 payments: the list was a 500)
    const patientId = "pat_many_credits";
    const at = (i: number) => `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.${String(i).padStart(3, "0")}Z`;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO patients (id, system, external_id, created_at) VALUES (?, 'test', 'many-credits', ?)").bind(patientId, at(0)),
      ...Array.from({ length: 150 }, (_, i) =>
        env.DB.prepare("INSERT INTO patient_credits (id, patient_id, source_payment_id, amount_cents, remaining_cents, status, created_at, updated_at) VALUES (?, ?, ?, 100, ?, ?, ?, ?)").bind(
          `crd_many_${String(i).padStart(3, "0")}`, patientId, `pay_many_${i}`, i === 7 ? 40 : 100, i === 7 ? "partially_allocated" : "unallocated", at(i), at(i)),
      ),
      env.DB.prepare("INSERT INTO credit_allocations (id, credit_id, claim_id, claim_lifecycle_id, amount_cents, created_at) VALUES ('cal_many', 'crd_many_007', 'clm_x', 'lc_x', 60, ?)").bind(at(200)),
    ]);
    const list = await admin("GET", "/api/patients/many-credits/credits");
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.data).toHaveLength(150);
    expect(list.body.data.find((c: any) => c.id === "crd_many_007")).toMatchObject({ remaining: 0.4, allocations: [expect.objectContaining({ id: "cal_many", amount: 0.6 })] });
    expect(list.body.data.filter((c: any) => c.allocations.length > 0)).toHaveLength(1);
  });

  it("reverses a payment: credit voided first, claim paid amount restored, idempotent", async () => {
    await claimOwing("BILL-REV", 25);
    await payment({ billId: "BILL-REV", paymentAmount: 40, paymentTraceId: "pi_rev" });
    const rev = () => call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "pi_rev" }, headers: { "X-API-KEY": SECRET } });
    const first = await rev();
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ amountRemovedFromClaim: 25, creditVoided: 15, creditAlreadyAllocated: 0 });
    expect((await rev()).body).toEqual(first.body);
    expect(await paidCents("BILL-REV")).toEqual([{ paid: 0 }]);
    expect((await rows<any>("SELECT status FROM patient_payment_details WHERE trace_id = 'pi_rev'"))[0].status).toBe("reversed");
    expect((await rows<any>("SELECT status, remaining_cents FROM patient_credits WHERE source_payment_id = (SELECT id FROM patient_payment_details WHERE trace_id = 'pi_rev')"))[0]).toEqual({ status: "void", remaining_cents: 0 });
    // the responsibility is open again
    expect((await payment({ billId: "BILL-REV", paymentAmount: 25, paymentTraceId: "pi_rev2" })).body.data.amountSetOnClaim).toBe(25);
    const unknown = await call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "nope" }, headers: { "X-API-KEY": SECRET } });
    expect(unknown.status).toBe(404);
    const unsigned = await call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "pi_rev" }, headers: { "X-API-KEY": "wrong" } });
    expect(unsigned.status).toBe(401);
  });
});

describe("bad input on the patient-payment route", () => {
  beforeAll(async () => {
    await claimOwing("BILL-BAD", 10);
  });
  const refused = async (body: unknown, status: number, code: string, path?: string, headers?: Record<string, string>) => {
    const before = await count("patient_payment_details");
    const res = await payment(body, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (path) expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
    expect(await count("patient_payment_details")).toBe(before);
  };

  it("amounts: ≤ 0, not a number, > 2 decimals, absurdly large", async () => {
    await refused({ billId: "BILL-BAD", paymentAmount: 0 }, 422, "PAYLOAD_INVALID", "paymentAmount");
    await refused({ billId: "BILL-BAD", paymentAmount: -5 }, 422, "PAYLOAD_INVALID", "paymentAmount");
    await refused({ billId: "BILL-BAD", paymentAmount: "10" }, 422, "PAYLOAD_INVALID", "paymentAmount");
    await refused({ billId: "BILL-BAD", paymentAmount: 10.001 }, 422, "PAYLOAD_INVALID", "paymentAmount");
    await refused({ billId: "BILL-BAD", paymentAmount: 100_000_000.01 }, 422, "PAYLOAD_INVALID", "paymentAmount");
    await refused({ billId: "BILL-BAD", paymentAmount: 1e300 }, 422, "PAYLOAD_INVALID", "paymentAmount");
  });
  it("missing billId, bad date", async () => {
    await refused({ paymentAmount: 5 }, 422, "PAYLOAD_INVALID", "billId");
    await refused({ billId: "BILL-BAD", paymentAmount: 5, paymentDate: "05/01/2025" }, 422, "PAYLOAD_INVALID", "paymentDate");
  });
  it("unknown bill → 404 CLAIM_NOT_FOUND; no remit yet → 409 NO_CLAIM_RESPONSE", async () => {
    await refused({ billId: "NO-SUCH-BILL", paymentAmount: 5 }, 404, "CLAIM_NOT_FOUND");
    await claimOwing("BILL-NOREMIT", null);
    await refused({ billId: "BILL-NOREMIT", paymentAmount: 5 }, 409, "NO_CLAIM_RESPONSE");
  });
  it("wrong secret 401, malformed JSON 400, wrong content type 415", async () => {
    await refused({ billId: "BILL-BAD", paymentAmount: 5 }, 401, "SIGNATURE_INVALID", undefined, { "X-API-KEY": "nope" });
    await refused('{"billId": ', 400, "MALFORMED_JSON");
    const res = await call("POST", "/api/webhooks/patient-payment", { body: "billId=1", headers: { "content-type": "application/x-www-form-urlencoded", "X-API-KEY": SECRET } });
    expect(res.status).toBe(415);
  });
});

describe("stripe.payment", () => {
  const stripe = new Stripe("sk_test_dummy");
  const event = (id: string, type: string, object: Record<string, unknown>) =>
    JSON.stringify({ id, object: "event", type, created: 1_760_000_000, data: { object } });
  const send = async (body: string, secret = STRIPE_SECRET) =>
    postWebhook("stripe", body, { "Stripe-Signature": await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret }) });

  it("applies payment_intent.succeeded through the same path; a redelivered event is a duplicate", async () => {
    await claimOwing("BILL-STRIPE", 60);
    const body = event("evt_1", "payment_intent.succeeded", {
      id: "pi_stripe_1",
      object: "payment_intent",
      amount_received: 8000,
      currency: "usd",
      payment_method_types: ["card"],
      metadata: { billId: "BILL-STRIPE" },
    });
    const res = await send(body);
    expect(res.status).toBe(202);
    await eventually(async () => (await count("events", "id = ? AND status = 'processed'", res.body.eventId)) === 1);
    const [p] = await rows<any>("SELECT * FROM patient_payment_details WHERE trace_id = 'pi_stripe_1'");
    expect(p).toMatchObject({ amount_cents: 8000, applied_cents: 6000, excess_cents: 2000, source: "stripe", payment_method: "card" });
    const dup = await send(body);
    expect(dup.status).toBe(200);
    expect(dup.body.duplicate).toBe(true);
    // the same payment intent reported through the Cair route is the same payment
    const cair = await payment({ billId: "BILL-STRIPE", paymentAmount: 80, paymentTraceId: "pi_stripe_1" });
    expect(cair.body.data).toMatchObject({ amountSetOnClaim: 60, excessAmount: 20 });
    expect(await count("patient_payment_details", "trace_id = 'pi_stripe_1'")).toBe(1);
  });

  it("a payment intent whose id is another payment's is marked failed with TRACE_ID_CONFLICT, visibly, never retried", async () => {
    await claimOwing("BILL-STRIPE-A", 30);
    await claimOwing("BILL-STRIPE-B", 30);
    expect((await payment({ billId: "BILL-STRIPE-A", paymentAmount: 25, paymentTraceId: "pi_shared" })).status).toBe(200);
    const res = await send(
      event("evt_conflict", "payment_intent.succeeded", { id: "pi_shared", object: "payment_intent", amount_received: 2500, currency: "usd", metadata: { billId: "BILL-STRIPE-B" } }),
    );
    expect(res.status).toBe(202);
    await eventually(async () => (await count("events", "id = ? AND status = 'failed'", res.body.eventId)) === 1);
    const shown = await admin("GET", `/admin/events/${res.body.eventId}`);
    expect(JSON.stringify(shown.body)).toContain("TRACE_ID_CONFLICT");
    expect(await paidCents("BILL-STRIPE-B")).toEqual([{ paid: 0 }]);
    expect(await count("patient_payment_details", "trace_id = 'pi_shared'")).toBe(1);
  });

  it("a Stripe date the payment could not be recorded on is refused at ingress, not accepted then unprocessable", async () => {
    const body = JSON.stringify({ id: "evt_far", object: "event", type: "payment_intent.succeeded", created: 99_999_999_999, data: { object: { id: "pi_far", object: "payment_intent", amount_received: 100, currency: "usd", metadata: { billId: "BILL-STRIPE" } } } });
    const res = await send(body);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: any) => d.path)).toContain("created");
    const huge = await send(event("evt_huge", "payment_intent.succeeded", { id: "pi_huge", object: "payment_intent", amount_received: 10_000_000_001, currency: "usd", metadata: { billId: "BILL-STRIPE" } }));
    expect(huge.status).toBe(422);
    expect(huge.body.error.details[0].path).toBe("data.object.amount_received");
  });

  it("a payment intent in another currency is 422 CURRENCY_NOT_SUPPORTED", async () => {
    const res = await send(event("evt_eur", "payment_intent.succeeded", { id: "pi_eur", object: "payment_intent", amount_received: 100, currency: "eur", metadata: { billId: "BILL-STRIPE" } }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("CURRENCY_NOT_SUPPORTED");
    expect(res.body.error.details[0].path).toBe("data.object.currency");
  });

  it("accepts other event types without applying anything; refuses a bad signature and a missing billId", async () => {
    const other = await send(event("evt_2", "charge.refunded", { id: "ch_1" }));
    expect(other.status).toBe(202);
    const bad = await send(event("evt_3", "payment_intent.succeeded", { id: "pi_x" }), "whsec_wrong");
    expect(bad.status).toBe(401);
    const missing = await send(event("evt_4", "payment_intent.succeeded", { id: "pi_y", object: "payment_intent", amount_received: 100, currency: "usd", metadata: {} }));
    expect(missing.status).toBe(422);
    expect(missing.body.error.details[0].path).toBe("data.object.metadata.billId");
  });
});
