import { beforeAll, describe, expect, it } from "vitest";
import validatePaymentReconciliation from "fhir-r4b-payment-reconciliation";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { count, rows } from "../helpers/db";
import { remitBundle } from "../helpers/fixtures";
import { PAYMENT_SECRET, pay, project, remit, scrub, snapshot, type RemitSpec } from "../helpers/lifecycle";

beforeAll(async () => {
  await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [PAYMENT_SECRET] });
  await createSource({ id: "remit-http", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [PAYMENT_SECRET] });
});

/** Every ordering of a list (n! of them). */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

type Step = { kind: "remit"; spec: RemitSpec } | { kind: "pay"; amount: number; trace: string; date?: string };

/** Runs steps in the order given; a payment refused for want of a remit is retried at the end, as a partner would. */
async function run(billId: string, steps: Step[]) {
  const retry: Step[] = [];
  for (const step of steps) {
    if (step.kind === "remit") await project("cair.claim_response", remit(step.spec));
    else {
      const res = await pay({ billId, paymentAmount: step.amount, paymentTraceId: step.trace, ...(step.date ? { paymentDate: step.date } : {}) });
      if (res.status === 409 && res.body.error.code === "NO_CLAIM_RESPONSE") retry.push(step);
      else expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }
  for (const step of retry) {
    if (step.kind !== "pay") continue;
    const res = await pay({ billId, paymentAmount: step.amount, paymentTraceId: step.trace, ...(step.date ? { paymentDate: step.date } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

describe("the contract's example, in every order", () => {
  // remit PR 50 → pay 50 → corrected remit PR 30 → reversal of the first remit (PR −50)
  it("same claim: responsibility 30, applied 30, credit 20, one patient_credit.created — all 24 orders", async () => {
    const orders = permutations([0, 1, 2, 3]);
    for (const [n, order] of orders.entries()) {
      const bill = `EX-${n}`;
      const claimId = `ex-claim-${n}`;
      const patient = `ex-pt-${n}`;
      await project("cair.claim_scrubber", scrub({ claimId, billId: bill, patient, created: "2024-10-30" }));
      const steps: Step[] = [
        { kind: "remit", spec: { id: `ex-a-${n}`, identifier: `ICN-A-${n}`, claimId, patient, prCents: 5000 } },
        { kind: "pay", amount: 50, trace: `ex-pay-${n}` },
        { kind: "remit", spec: { id: `ex-b-${n}`, identifier: `ICN-B-${n}`, claimId, patient, prCents: 3000, lastUpdated: "2024-11-05T10:00:00Z" } },
        { kind: "remit", spec: { id: `ex-r-${n}`, identifier: `ICN-A-${n}`, claimId, patient, prCents: -5000, lastUpdated: "2024-11-05T09:00:00Z" } },
      ];
      await run(bill, order.map((i) => steps[i]!));
      const s = await snapshot(bill);
      expect({ order, ...s }).toEqual({
        order,
        responsibility: 3000,
        provisional: false,
        applied: 3000,
        paidOnClaims: [3000],
        payments: { [`ex-pay-${n}`]: { applied: 3000, credit: 2000, creditRow: { amount: 2000, remaining: 2000, status: "unallocated" } } },
        creditEvents: { [`ex-pay-${n}`]: 1 },
      });
    }
  });

  it("a corrected claim (Claim.related prior) whose remit replaces the original's", async () => {
    for (const [n, order] of permutations([0, 1, 2]).entries()) {
      const bill = `CORR-${n}`;
      const patient = `corr-pt-${n}`;
      await project("cair.claim_scrubber", scrub({ claimId: `corr-orig-${n}`, billId: bill, patient, created: "2024-10-01" }));
      const steps = [
        async () => project("cair.claim_response", remit({ id: `corr-a-${n}`, claimId: `corr-orig-${n}`, patient, prCents: 5000 })),
        async () => {
          // the corrected claim and its remit arrive together, in either order between themselves
          await project("cair.claim_response", remit({ id: `corr-b-${n}`, claimId: `corr-new-${n}`, patient, prCents: 3000 }));
          await project("cair.claim_scrubber", scrub({ claimId: `corr-new-${n}`, billId: bill, patient, created: "2024-10-20", replaces: `corr-orig-${n}` }));
        },
        async () => {
          const res = await pay({ billId: bill, paymentAmount: 50, paymentTraceId: `corr-pay-${n}` });
          return res.status === 200 ? null : res;
        },
      ];
      let retried = false;
      for (const i of order) {
        const r = await steps[i]!();
        if (r && typeof r === "object" && "status" in r) retried = true;
      }
      if (retried) expect((await pay({ billId: bill, paymentAmount: 50, paymentTraceId: `corr-pay-${n}` })).status).toBe(200);
      const s = await snapshot(bill);
      expect({ order, responsibility: s.responsibility, applied: s.applied, paid: s.paidOnClaims, pay: s.payments[`corr-pay-${n}`] }).toEqual({
        order,
        responsibility: 3000,
        applied: 3000,
        paid: [3000, 3000],
        pay: { applied: 3000, credit: 2000, creditRow: { amount: 2000, remaining: 2000, status: "unallocated" } },
      });
    }
  });
});

describe("which remits count", () => {
  it("instants compare as instants: the -05:00 version is the newer one", async () => {
    for (const [n, order] of permutations([0, 1]).entries()) {
      const bill = `INST-${n}`;
      await project("cair.claim_scrubber", scrub({ claimId: `inst-${n}`, billId: bill, patient: `inst-pt-${n}`, created: "2024-10-01" }));
      const versions: RemitSpec[] = [
        { id: `inst-${n}-v1`, identifier: `ICN-I-${n}`, claimId: `inst-${n}`, patient: `inst-pt-${n}`, prCents: 1000, lastUpdated: "2024-11-02T01:00:00Z" },
        { id: `inst-${n}-v2`, identifier: `ICN-I-${n}`, claimId: `inst-${n}`, patient: `inst-pt-${n}`, prCents: 4000, lastUpdated: "2024-11-01T23:00:00-05:00" },
      ];
      for (const i of order) await project("cair.claim_response", remit(versions[i]!));
      expect((await snapshot(bill)).responsibility, `order ${order}`).toBe(4000);
    }
  });

  it("a withdrawn ClaimResponse (cancelled) stops counting, in either order, and its money becomes credit", async () => {
    for (const [n, order] of permutations([0, 1]).entries()) {
      const bill = `WD-${n}`;
      const base = { claimId: `wd-${n}`, patient: `wd-pt-${n}` };
      await project("cair.claim_scrubber", scrub({ ...base, billId: bill, created: "2024-10-01" }));
      await project("cair.claim_response", remit({ ...base, id: `wd-keep-${n}`, identifier: `ICN-K-${n}`, prCents: 2000 }));
      expect((await pay({ billId: bill, paymentAmount: 60, paymentTraceId: `wd-pay-${n}` })).status).toBe(200);
      const versions = [remit({ ...base, id: `wd-x-${n}`, prCents: 4000 }), remit({ ...base, id: `wd-x-${n}`, prCents: 4000, status: "entered-in-error" })];
      for (const i of order) await project("cair.claim_response", versions[i]);
      const s = await snapshot(bill);
      expect({ order, r: s.responsibility, applied: s.applied, credit: s.payments[`wd-pay-${n}`]!.credit }).toEqual({ order, r: 2000, applied: 2000, credit: 4000 });
    }
  });

  it("a preauthorization is CLAIMS_PREAUTH with no balance; an error outcome never replaces an adjudicated remit", async () => {
    const base = { claimId: "pa-1", patient: "pa-pt" };
    await project("cair.claim_scrubber", scrub({ ...base, billId: "PA-1", created: "2024-10-01" }));
    const preauth = remitBundle((cr) => {
      cr.id = "pa-preauth";
      cr.use = "preauthorization";
      cr.request.reference = "Claim/pa-1";
      cr.patient.reference = "Patient/pa-pt";
    });
    const evt = await project("cair.claim_response", preauth);
    expect((await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", evt)).map((r) => r.type)).toEqual(["CLAIMS_PREAUTH"]);
    const refused = await pay({ billId: "PA-1", paymentAmount: 10, paymentTraceId: "pa-pay" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("NO_CLAIM_RESPONSE");

    await project("cair.claim_response", remit({ ...base, id: "pa-remit", identifier: "ICN-PA", prCents: 2500 }));
    const err = await project("cair.claim_response", remit({ ...base, id: "pa-error", identifier: "ICN-PA", prCents: 0, outcome: "error", lastUpdated: "2030-01-01T00:00:00Z" }));
    expect((await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", err)).map((r) => r.type)).toEqual(["CLAIMS_REMIT_DENIED"]);
    expect((await snapshot("PA-1")).responsibility).toBe(2500);
  });

  it("a provisional (draft) drop never turns applied money into a credit; the final remit does", async () => {
    for (const [n, order] of permutations([0, 1, 2]).entries()) {
      const bill = `PROV-${n}`;
      const base = { claimId: `prov-${n}`, patient: `prov-pt-${n}`, identifier: `ICN-P-${n}` };
      await project("cair.claim_scrubber", scrub({ claimId: base.claimId, patient: base.patient, billId: bill, created: "2024-10-01" }));
      const steps: Step[] = [
        { kind: "remit", spec: { ...base, id: `prov-final-${n}`, prCents: 5000, lastUpdated: "2024-11-01T00:00:00Z" } },
        { kind: "remit", spec: { ...base, id: `prov-draft-${n}`, prCents: 2000, status: "draft", lastUpdated: "2024-11-03T00:00:00Z" } },
        { kind: "pay", amount: 50, trace: `prov-pay-${n}` },
      ];
      await run(bill, order.map((i) => steps[i]!));
      const s = await snapshot(bill);
      expect({ order, r: s.responsibility, provisional: s.provisional, applied: s.applied }).toEqual({ order, r: 2000, provisional: true, applied: 5000 });
    }
  });

  it("coordination of benefits: the secondary's figure decides; until it comes the primary's is provisional", async () => {
    const base = { claimId: "cob-1", patient: "cob-pt" };
    await project("cair.claim_scrubber", scrub({ ...base, billId: "COB-1", created: "2024-10-01" }));
    await project("cair.claim_response", remit({ ...base, id: "cob-primary", payer: "primary", prCents: 10000, cob: { sequence: 1, of: 2 } }));
    expect(await snapshot("COB-1")).toMatchObject({ responsibility: 10000, provisional: true });
    expect((await pay({ billId: "COB-1", paymentAmount: 100, paymentTraceId: "cob-pay" })).body.data.amountSetOnClaim).toBe(100);
    await project("cair.claim_response", remit({ ...base, id: "cob-secondary", payer: "secondary", prCents: 2000, cob: { sequence: 2, of: 2 } }));
    const s = await snapshot("COB-1");
    expect(s).toMatchObject({ responsibility: 2000, provisional: false, applied: 2000 });
    expect(s.payments["cob-pay"]).toMatchObject({ applied: 2000, credit: 8000 });
  });

  it("a void (frequency 8) ends the chain: 0 once the payer's reversal has arrived", async () => {
    const base = { patient: "void-pt" };
    await project("cair.claim_scrubber", scrub({ ...base, claimId: "void-orig", billId: "VOID-1", created: "2024-10-01" }));
    await project("cair.claim_response", remit({ ...base, id: "void-a", identifier: "ICN-V", claimId: "void-orig", prCents: 4000 }));
    await pay({ billId: "VOID-1", paymentAmount: 40, paymentTraceId: "void-pay" });
    await project("cair.claim_scrubber", scrub({ ...base, claimId: "void-8", billId: "VOID-1", created: "2024-10-15", replaces: "void-orig", frequency: "8" }));
    expect(await snapshot("VOID-1")).toMatchObject({ responsibility: 4000, provisional: true, applied: 4000 });
    await project("cair.claim_response", remit({ ...base, id: "void-r", identifier: "ICN-V", claimId: "void-orig", prCents: -4000 }));
    const s = await snapshot("VOID-1");
    expect(s).toMatchObject({ responsibility: 0, provisional: false, applied: 0 });
    expect(s.payments["void-pay"]).toMatchObject({ applied: 0, credit: 4000 });
  });
});

describe("merges keep the money", () => {
  it("$30 + $30 around a merge against $50 applies 50 and credits 10", async () => {
    const patient = "merge-pt";
    await project("cair.claim_scrubber", scrub({ claimId: "merge-a", billId: "MERGE-1", patient, created: "2024-10-02" }));
    await project("cair.claim_response", remit({ id: "merge-ra", claimId: "merge-a", patient, prCents: 5000, identifier: "ICN-M" }));
    // a remit for a claim not known yet: a lifecycle of its own (no bill)
    await project("cair.claim_response", remit({ id: "merge-rm", claimId: "merge-m", patient, prCents: 5000, identifier: "ICN-M2" }));
    expect((await pay({ billId: "MERGE-1", paymentAmount: 30, paymentTraceId: "merge-p1" })).body.data.amountSetOnClaim).toBe(30);
    // the scrub result links claim merge-m to the bill: the two lifecycles merge
    await project("cair.claim_scrubber", scrub({ claimId: "merge-m", billId: "MERGE-1", patient, created: "2024-10-01" }));
    const second = await pay({ billId: "MERGE-1", paymentAmount: 30, paymentTraceId: "merge-p2" });
    expect(second.body.data).toMatchObject({ amountSetOnClaim: 20, excessAmount: 10 });
    const s = await snapshot("MERGE-1");
    expect(s).toMatchObject({ responsibility: 5000, applied: 5000, paidOnClaims: [5000, 5000] });
    expect(await count("claim_lifecycles", "merged_into IS NOT NULL AND merged_into = (SELECT id FROM claim_lifecycles WHERE bill_id = 'MERGE-1')")).toBe(1);
  });

  it("a lifecycle folded in by a Claim.related link brings its remits; the replaced version's no longer counts", async () => {
    const patient = "fold-pt";
    // lifecycle L1: the claim with the bill, a remit, a payment of 40
    await project("cair.claim_scrubber", scrub({ claimId: "fold-b", billId: "FOLD-1", patient, created: "2024-10-05" }));
    await project("cair.claim_response", remit({ id: "fold-rb", claimId: "fold-b", patient, prCents: 5000 }));
    await pay({ billId: "FOLD-1", paymentAmount: 40, paymentTraceId: "fold-p1" });
    // lifecycle L2: an older claim (remit first); a corrected claim names it as prior → L2 and L1 become one
    await project("cair.claim_response", remit({ id: "fold-ra", claimId: "fold-a", patient, prCents: 6000 }));
    await project("cair.claim_scrubber", scrub({ claimId: "fold-b", billId: "FOLD-1", patient, created: "2024-10-05", replaces: "fold-a" }));
    const s = await snapshot("FOLD-1");
    expect(s).toMatchObject({ responsibility: 5000, applied: 4000 });
    expect(s.payments["fold-p1"]).toMatchObject({ applied: 4000, credit: 0 });
    expect((await pay({ billId: "FOLD-1", paymentAmount: 40, paymentTraceId: "fold-p2" })).body.data).toMatchObject({ amountSetOnClaim: 10, excessAmount: 30 });
  });
});

describe("credits across claims", () => {
  it("reversing a payment whose credit was allocated reverses the allocation on the other claim", async () => {
    const patient = "alloc-pt";
    await project("cair.claim_scrubber", scrub({ claimId: "alloc-a", billId: "ALLOC-A", patient, created: "2024-10-01" }));
    await project("cair.claim_response", remit({ id: "alloc-ra", claimId: "alloc-a", patient, prCents: 1000 }));
    await project("cair.claim_scrubber", scrub({ claimId: "alloc-b", billId: "ALLOC-B", patient, created: "2024-10-01" }));
    await project("cair.claim_response", remit({ id: "alloc-rb", claimId: "alloc-b", patient, prCents: 2500 }));
    expect((await pay({ billId: "ALLOC-A", paymentAmount: 40, paymentTraceId: "alloc-pay" })).body.data).toMatchObject({ amountSetOnClaim: 10, excessAmount: 30 });
    const [credit] = await rows<any>("SELECT c.id FROM patient_credits c JOIN patient_payment_details p ON p.id = c.source_payment_id WHERE p.trace_id = 'alloc-pay'");
    const alloc = await admin("POST", `/api/credits/${credit.id}/allocate`, { billId: "ALLOC-B" });
    expect(alloc.body.data).toMatchObject({ amountAllocated: 25, creditRemaining: 5 });
    expect(await snapshot("ALLOC-B")).toMatchObject({ applied: 2500, paidOnClaims: [2500] });

    const rev = await call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "alloc-pay" }, headers: { "X-API-KEY": PAYMENT_SECRET } });
    expect(rev.status).toBe(200);
    expect(rev.body.data).toMatchObject({ amountRemovedFromClaim: 10, creditVoided: 5, creditAlreadyAllocated: 25 });
    expect(await snapshot("ALLOC-B")).toMatchObject({ applied: 0, paidOnClaims: [0] });
    expect(await snapshot("ALLOC-A")).toMatchObject({ applied: 0, paidOnClaims: [0] });
    const [allocation] = await rows<any>("SELECT id, reversed_at FROM credit_allocations WHERE credit_id = ?", credit.id);
    expect(allocation.reversed_at).not.toBeNull();
    expect(await count("domain_events", "type = 'patient_credit.allocation_reversed' AND source_event_id = ?", allocation.id)).toBe(1);
    // repeating the reversal changes nothing and answers the same
    const again = await call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "alloc-pay" }, headers: { "X-API-KEY": PAYMENT_SECRET } });
    expect(again.body).toEqual(rev.body);
  });
});

describe("bounds and currency at ingress", () => {
  const post = (edit: (cr: any) => void) => postWebhook("remit-http", JSON.stringify(remitBundle(edit)), { "X-API-KEY": PAYMENT_SECRET });

  it("FHIR Money beyond ±100,000,000.00 is 422 naming the field; non-USD is 422 CURRENCY_NOT_SUPPORTED; only kept as invalid", async () => {
    const before = await count("events", "status != 'invalid'");
    const big = await post((cr) => (cr.item[0].adjudication[0].amount.value = 100_000_000.01));
    expect(big.status).toBe(422);
    expect(big.body.error.code).toBe("PAYLOAD_INVALID");
    expect(big.body.error.details.map((d: any) => d.path)).toContain("entry[0].resource.item[0].adjudication[0].amount.value");
    const eur = await post((cr) => (cr.payment.amount.currency = "EUR"));
    expect(eur.status).toBe(422);
    expect(eur.body.error.code).toBe("CURRENCY_NOT_SUPPORTED");
    expect(eur.body.error.details.map((d: any) => d.path)).toContain("entry[0].resource.payment.amount.currency");
    expect(await count("events", "status != 'invalid'")).toBe(before);
  });

  it("HCMS amounts and plan ceilings out of range are refused, never a 500", async () => {
    const huge = await admin("PUT", "/admin/coverage-plans/BOUNDS-1", { payorId: "P", planName: "x", coinsurancePercent: 20, autoApproveCeiling: 1e300 });
    expect(huge.status).toBe(422);
    expect(huge.body.error.details.map((d: any) => d.path)).toContain("autoApproveCeiling");
    const key = (await admin("POST", "/admin/provider-keys", { providerId: "PROV-BOUNDS" })).body.key;
    for (const amount of ["99999999999999999999999.00", 1e300, "10000000.01"]) {
      const res = await call("POST", "/api/claims/", {
        json: { patient_name: "A B", insurance_id: "BOUNDS-1", diagnosis_code: "J20.9", amount },
        headers: { "X-API-Key": key, "X-Provider-ID": "PROV-BOUNDS" },
      });
      expect(res.status, `amount ${amount}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(JSON.stringify(res.body)).toContain("must not exceed 10,000,000.00");
    }
  });
});

describe("PaymentReconciliation is valid FHIR R4B (official JSON schema, ajv)", () => {
  it("active without excess, active with excess, cancelled", async () => {
    const patient = "prc-pt";
    await project("cair.claim_scrubber", scrub({ claimId: "prc-claim", billId: "PRC-1", patient, created: "2024-10-01" }));
    await project("cair.claim_response", remit({ id: "prc-r", claimId: "prc-claim", patient, prCents: 5000 }));
    await pay({ billId: "PRC-1", paymentAmount: 30, paymentTraceId: "prc-1", paymentDate: "2025-01-01" });
    await pay({ billId: "PRC-1", paymentAmount: 45.5, paymentTraceId: "prc-2", paymentDate: "2025-01-02" });
    await pay({ billId: "PRC-1", paymentAmount: 5, paymentTraceId: "prc-3", paymentDate: "2025-01-03" });
    await call("POST", "/api/webhooks/patient-payment/reversal", { json: { paymentTraceId: "prc-3" }, headers: { "X-API-KEY": PAYMENT_SECRET } });
    const claimId = (await rows<any>("SELECT claim_id FROM patient_payment_details WHERE trace_id = 'prc-1'"))[0].claim_id;
    const bundle = (await admin("GET", `/api/claims/${claimId}/payment-reconciliation`)).body;
    const resources = bundle.entry.map((e: any) => e.resource);
    expect(resources.map((r: any) => [r.status, r.detail.length])).toEqual([
      ["active", 1],
      ["active", 2],
      ["cancelled", 2],
    ]);
    for (const r of resources) {
      const ok = validatePaymentReconciliation(r);
      expect(ok, JSON.stringify(validatePaymentReconciliation.errors)).toBe(true);
    }
    // the check can fail: no paymentAmount, or a detail without its required type, is refused
    const { paymentAmount: _amount, ...noAmount } = resources[0];
    expect(validatePaymentReconciliation(noAmount)).toBe(false);
    expect(validatePaymentReconciliation({ ...resources[0], detail: [{ amount: { value: 1 } }] })).toBe(false);
    // R4B's JSON schema types a resource id as a plain string; the id rule (FHIR id datatype) is checked here
    for (const r of resources) {
      expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      expect(r.extension).toEqual([{ url: "https://fhir.cairhealth.com/StructureDefinition/patient-payment-issuer", valueReference: { reference: "Patient/prc-pt" } }]);
    }
    // the details add up to the payment
    const second = resources[1];
    expect(second.detail.reduce((n: number, d: any) => n + Math.round(d.amount.value * 100), 0)).toBe(4550);
  });
});
