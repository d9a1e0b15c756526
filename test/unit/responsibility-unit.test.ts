import { describe, expect, it } from "vitest";
import { toInstant } from "../../src/domain/claim-status";
import { remitFacts } from "../../src/domain/remit";
import { listResponsibility, remitResponsibility } from "../../src/domain/responsibility";
import { claimResponseResource } from "../../src/partners/cair-claim-response/schema";
import r3500 from "../fixtures/reference/ClaimResponse-R3500.json";
import r3501 from "../fixtures/reference/ClaimResponse-R3501.json";
import r3502 from "../fixtures/reference/ClaimResponse-R3502.json";
import r3503 from "../fixtures/reference/ClaimResponse-R3503.json";
import ur3503 from "../fixtures/reference/ClaimResponse-UR3503.json";
import carinPharmacy from "../fixtures/reference/carin-bb-EOBPharmacy1.json";
import cairBundle from "../fixtures/cair-claim-response.json";

const BILL = "https://fhir.cairhealth.com/fhir/identifier/claim-id";
const GROUP = "https://x12.org/codes/claim-adjustment-group-codes";
const HL7 = "http://terminology.hl7.org/CodeSystem/adjudication";
const C4BB = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication";
const line = (system: string | null, code: string, value: number, reason?: string) => ({
  category: { coding: [system ? { system, code } : { code }] },
  ...(reason ? { reason: { coding: [{ system: "https://x12.org/codes/claim-adjustment-reason-codes", code: reason }] } } : {}),
  amount: { value, currency: "USD" },
});
const pct = (value: number) => ({ category: { coding: [{ system: HL7, code: "eligpercent" }] }, value });
const cr = (extra: Record<string, unknown>) =>
  claimResponseResource.parse({
    resourceType: "ClaimResponse",
    id: "cr-1",
    status: "active",
    use: "claim",
    patient: { reference: "Patient/p" },
    created: "2024-11-01",
    outcome: "complete",
    ...extra,
  });
const cents = (resource: unknown) => remitResponsibility(resource as never).cents;
const facts = (resource: unknown) => remitFacts(resource as never, BILL);

describe("official HL7 FHIR R4 ClaimResponse examples (test/fixtures/reference)", () => {
  it("claimresponse-example (R3500): eligpercent means eligible − benefit = 45.10, not the copay 10.00", () => {
    // the schema the gateway validates with accepts the official resource as it is
    expect(claimResponseResource.safeParse(r3500).success).toBe(true);
    expect(remitResponsibility(r3500 as never)).toMatchObject({ cents: 4510, basis: "lines", inferred: false });
    expect(facts(r3500)).toMatchObject({ kind: "remit", decision: "approved", provisional: false, reversal: false });
  });

  it("claimresponse-example-2 (R3501): outcome error is a rejection with no responsibility", () => {
    expect(facts(r3501)).toMatchObject({ kind: "rejection", decision: "denied" });
    expect(cents(r3501)).toBe(0);
  });

  it("claimresponse-example-vision-3tier (R3502): the item's own list yields, its details are not added again", () => {
    // item: eligible 235.40, copay 20.00, eligpercent 80, benefit 172.32 → 63.08
    expect(cents(r3502)).toBe(6308);
  });

  it("claimresponse-example-additem (R3503): addItems replace item 1 whole and item 3's detail 2", () => {
    // item 1 → addItems (100 − 72 = 28.00; 35.57 − 28.47 = 7.10); item 2: 105 − 84 = 21.00;
    // item 3: detail 1 (750 − 600 = 150.00) + the addItem replacing detail 2 (350 − 270 = 80.00)
    expect(cents(r3503)).toBe(2800 + 710 + 2100 + 15000 + 8000);
  });

  it("claimresponse-example-unsolicited-preauth (UR3503): a preauthorization is not a remit", () => {
    expect(facts(ur3503).kind).toBe("preauth");
  });

  it("CARIN Blue Button EOBPharmacy1: memberliability 80.00", () => {
    expect(remitResponsibility(carinPharmacy as never)).toMatchObject({ cents: 8000, paidByPatientCents: 0 });
  });

  it("the Cair seed remit (CO-45 only) owes nothing", () => {
    const seed = cairBundle.entry[0]!.resource;
    expect(cents(seed)).toBe(0);
    expect(facts(seed).decision).toBe("approved");
  });
});

describe("the five-step rule per adjudication list", () => {
  it("1. PR lines, plus a component only where no PR line of that reason carries it", () => {
    expect(listResponsibility([line(GROUP, "PR", 20, "3"), line(HL7, "deductible", 50)])).toEqual({ cents: 7000, rule: 1 });
    expect(listResponsibility([line(GROUP, "PR", 25, "3"), line(HL7, "copay", 25)])).toEqual({ cents: 2500, rule: 1 });
    expect(listResponsibility([line(GROUP, "PR", 10, "1"), line(GROUP, "PR", 30, "2"), line(GROUP, "PR", 5, "3")])).toEqual({ cents: 4500, rule: 1 });
    expect(listResponsibility([line(GROUP, "CO", 45, "45"), line(GROUP, "OA", 12, "23"), line(GROUP, "PI", 3, "94")])).toEqual({ cents: 0, rule: 1 });
  });

  it("codes are recognised with or without their system, and in the PR-1 form", () => {
    expect(listResponsibility([line(null, "PR", 15, "2")])).toEqual({ cents: 1500, rule: 1 });
    expect(listResponsibility([line(null, "PR-1", 40), line(null, "deductible", 40)])).toEqual({ cents: 4000, rule: 1 });
    expect(listResponsibility([line(null, "copay", 10), line("http://example.org/other", "deductible", 5)])).toEqual({ cents: 1500, rule: 4 });
  });

  it("2. CARIN memberliability, unless its components add up to more", () => {
    expect(listResponsibility([line(C4BB, "memberliability", 80), line(HL7, "copay", 20)])).toEqual({ cents: 8000, rule: 2 });
    expect(listResponsibility([line(C4BB, "memberliability", 30), line(HL7, "copay", 20), line(HL7, "deductible", 25)])).toEqual({ cents: 4500, rule: 2 });
  });

  it("3. eligpercent: eligible − benefit − priorpayerpaid, never less than the components", () => {
    expect(listResponsibility([line(HL7, "eligible", 100), pct(80), line(HL7, "benefit", 60), line(C4BB, "priorpayerpaid", 15)])).toEqual({ cents: 2500, rule: 3 });
    expect(listResponsibility([line(HL7, "eligible", 100), pct(80), line(HL7, "benefit", 95), line(HL7, "copay", 10)])).toEqual({ cents: 1000, rule: 3 });
  });

  it("4. components, unallocdeduct and CMS Blue Button cost-share variables", () => {
    const bb = (v: string, value: number) => line("https://bluebutton.cms.gov/resources/codesystem/adjudication", `https://bluebutton.cms.gov/resources/variables/${v}`, value);
    expect(listResponsibility([bb("line_coinsrnc_amt", 12.5), bb("line_bene_ptb_ddctbl_amt", 30), line(HL7, "unallocdeduct", 5)])).toEqual({ cents: 4750, rule: 4 });
  });

  it("5. eligible − benefit, marked inferred; nothing at all → null", () => {
    expect(listResponsibility([line(HL7, "eligible", 100), line(HL7, "benefit", 70)])).toEqual({ cents: 3000, rule: 5 });
    expect(listResponsibility([line(HL7, "submitted", 100)])).toBeNull();
  });
});

describe("levels", () => {
  it("header adjudication is added to the lines (835 claim-level CAS adds to line CAS)", () => {
    const r = cr({ adjudication: [line(GROUP, "PR", 50, "1")], item: [{ itemSequence: 1, adjudication: [line(GROUP, "PR", 20, "3")] }] });
    expect(cents(r)).toBe(7000);
  });

  it("item → detail → subDetail fallback", () => {
    const r = cr({
      item: [
        {
          itemSequence: 1,
          adjudication: [line(HL7, "submitted", 300)],
          detail: [
            { detailSequence: 1, adjudication: [line(GROUP, "PR", 10, "3")] },
            { detailSequence: 2, adjudication: [line(HL7, "submitted", 50)], subDetail: [{ adjudication: [line(GROUP, "PR", 7, "2")] }, { adjudication: [line(HL7, "copay", 3)] }] },
          ],
        },
      ],
    });
    expect(cents(r)).toBe(2000);
  });

  it("total only when nothing else yields; otherwise a recorded cross-check", () => {
    const onlyTotal = cr({ item: [{ itemSequence: 1, adjudication: [line(HL7, "submitted", 100)] }], total: [line(HL7, "copay", 15)] });
    expect(remitResponsibility(onlyTotal as never)).toMatchObject({ cents: 1500, basis: "total" });
    const both = cr({ item: [{ itemSequence: 1, adjudication: [line(GROUP, "PR", 20, "3")] }], total: [line(HL7, "copay", 25)] });
    expect(remitResponsibility(both as never)).toMatchObject({ cents: 2000, basis: "lines", totalCents: 2500 });
  });
});

describe("remit classification", () => {
  it("withdrawn, provisional, preauth", () => {
    expect(facts(cr({ status: "cancelled" })).kind).toBe("withdrawn");
    expect(facts(cr({ status: "entered-in-error" })).kind).toBe("withdrawn");
    expect(facts(cr({ use: "predetermination" })).kind).toBe("preauth");
    expect(facts(cr({ status: "draft" })).provisional).toBe(true);
    expect(facts(cr({ outcome: "queued" })).provisional).toBe(true);
    expect(facts(cr({ outcome: "partial" })).provisional).toBe(true);
    expect(facts(cr({})).provisional).toBe(false);
  });

  it("denied only when nothing was paid and nothing is the patient's; never from free text", () => {
    const denied = cr({ disposition: "approved", item: [{ itemSequence: 1, adjudication: [line(GROUP, "CO", 100, "50"), line(HL7, "benefit", 0)] }], payment: { amount: { value: 0, currency: "USD" } } });
    expect(facts(denied).decision).toBe("denied");
    const toDeductible = cr({ item: [{ itemSequence: 1, adjudication: [line(HL7, "eligible", 80), line(HL7, "benefit", 0), line(GROUP, "PR", 80, "1")] }], payment: { amount: { value: 0, currency: "USD" } } });
    expect(facts(toDeductible)).toMatchObject({ decision: "approved" });
    expect(cents(toDeductible)).toBe(8000);
    const partial = cr({
      disposition: "Line 2 denied (CO-50); line 1 paid",
      item: [
        { itemSequence: 1, adjudication: [line(HL7, "benefit", 90), line(GROUP, "PR", 10, "3")] },
        { itemSequence: 2, adjudication: [line(GROUP, "CO", 200, "50")] },
      ],
    });
    expect(facts(partial).decision).toBe("approved");
  });

  it("a reversal (every amount negated) is recognised and matches its original's amounts", () => {
    const original = cr({ item: [{ itemSequence: 1, adjudication: [line(GROUP, "PR", 50, "1"), line(HL7, "benefit", 100)] }], payment: { amount: { value: 100 } } });
    const reversal = cr({ id: "cr-2", item: [{ itemSequence: 1, adjudication: [line(GROUP, "PR", -50, "1"), line(HL7, "benefit", -100)] }], payment: { amount: { value: -100 } } });
    const o = facts(original);
    const r = facts(reversal);
    expect(o.reversal).toBe(false);
    expect(r.reversal).toBe(true);
    expect(r.responsibility.cents).toBe(-5000);
    expect(r.amounts.split(",").map((a) => -Number(a)).sort((a, b) => a - b).join(",")).toBe(o.amounts);
  });

  it("COB: the focal insurance sequence is the payer's rank; a later sequence named is a payer still to come", () => {
    const secondaryPending = cr({ insurer: { reference: "Organization/primary" }, insurance: [{ sequence: 1, focal: true }, { sequence: 2, focal: false }] });
    expect(facts(secondaryPending)).toMatchObject({ payerKey: "ref:Organization/primary", cobRank: 1, cobPayers: 2 });
  });

  it("instants compare as instants", () => {
    expect(toInstant("2024-11-01T23:00:00-05:00") > toInstant("2024-11-02T01:00:00Z")).toBe(true);
    expect(toInstant("2024-11-02")).toBe("2024-11-02T00:00:00.000Z");
    expect(toInstant("2024-10-03T15:30:00.123456")).toBe("2024-10-03T15:30:00.123Z");
  });
});

describe("bounds and currency at ingress", () => {
  it("FHIR Money beyond ±100,000,000.00 or not USD is refused; Money without a value is allowed", () => {
    const withAmount = (amount: unknown) => claimResponseResource.safeParse({ ...cr({}), item: [{ itemSequence: 1, adjudication: [{ category: { coding: [{ code: "copay" }] }, amount }] }] });
    expect(withAmount({ value: 100_000_000 }).success).toBe(true);
    expect(withAmount({ value: 100_000_000.01 }).success).toBe(false);
    expect(withAmount({ value: -100_000_000.01 }).success).toBe(false);
    expect(withAmount({ currency: "USD" }).success).toBe(true);
    const eur = withAmount({ value: 10, currency: "EUR" });
    expect(eur.success).toBe(false);
    expect((eur.error!.issues[0] as { params?: { code?: string } }).params?.code).toBe("CURRENCY_NOT_SUPPORTED");
  });
});
