import { describe, expect, it } from "vitest";
import { patientResponsibilityCents, remitDecision } from "../../src/domain/remit";
import { claimResponseResource, type ClaimResponseResource } from "../../src/partners/cair-claim-response/schema";

const GROUP = "https://x12.org/codes/claim-adjustment-group-codes";
const HL7 = "http://terminology.hl7.org/CodeSystem/adjudication";
const adj = (system: string, code: string, value: number, reason?: string) => ({
  category: { coding: [{ system, code }] },
  ...(reason ? { reason: { coding: [{ system: "https://x12.org/codes/claim-adjustment-reason-codes", code: reason }] } } : {}),
  amount: { value, currency: "USD" },
});
const cr = (extra: Record<string, unknown>): ClaimResponseResource =>
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

describe("patient responsibility", () => {
  it("PR-1 deductible, PR-2 coinsurance, PR-3 copay on one item add up", () => {
    const item = { itemSequence: 1, adjudication: [adj(HL7, "submitted", 300), adj(HL7, "benefit", 200), adj(GROUP, "PR", 50, "1"), adj(GROUP, "PR", 30.25, "2"), adj(GROUP, "PR", 20, "3")] };
    expect(patientResponsibilityCents(cr({ item: [item] }))).toBe(10025);
  });

  it("CO-45 only → 0 (the seed remit)", () => {
    const item = { itemSequence: 1, adjudication: [adj(HL7, "submitted", 190.44), adj(HL7, "benefit", 178.44), adj(GROUP, "CO", 12, "45")] };
    expect(patientResponsibilityCents(cr({ item: [item] }))).toBe(0);
  });

  it("copay / deductible / coinsurance categories count when there is no PR group", () => {
    const item = { itemSequence: 1, adjudication: [adj(HL7, "copay", 25), adj(HL7, "deductible", 100), adj("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication", "coinsurance", 10.1), adj(HL7, "eligible", 500)] };
    expect(patientResponsibilityCents(cr({ item: [item] }))).toBe(13510);
  });

  it("never counts the same money twice as PR group and as a category", () => {
    const item = { itemSequence: 1, adjudication: [adj(GROUP, "PR", 25, "3"), adj(HL7, "copay", 25)] };
    expect(patientResponsibilityCents(cr({ item: [item] }))).toBe(2500);
  });

  it("sums multiple items, each once, and ignores header level when items carry it", () => {
    const items = [
      { itemSequence: 1, adjudication: [adj(GROUP, "PR", 10, "3")] },
      { itemSequence: 2, adjudication: [adj(GROUP, "PR", 15.5, "1"), adj(GROUP, "CO", 40, "45")] },
      { itemSequence: 3, adjudication: [adj(HL7, "benefit", 80)] },
    ];
    const header = [adj(GROUP, "PR", 25.5)];
    expect(patientResponsibilityCents(cr({ item: items, adjudication: header }))).toBe(2550);
  });

  it("falls back to the header level, then to totals", () => {
    expect(patientResponsibilityCents(cr({ adjudication: [adj(GROUP, "PR", 42, "2")] }))).toBe(4200);
    expect(patientResponsibilityCents(cr({ total: [{ category: { coding: [{ system: HL7, code: "copay" }] }, amount: { value: 15 } }, { category: { coding: [{ system: HL7, code: "submitted" }] }, amount: { value: 99 } }] }))).toBe(1500);
  });

  it("uses an item's details only when the item itself carries nothing", () => {
    const item = { itemSequence: 1, adjudication: [adj(HL7, "benefit", 5)], detail: [{ detailSequence: 1, adjudication: [adj(GROUP, "PR", 7, "3")] }] };
    expect(patientResponsibilityCents(cr({ item: [item] }))).toBe(700);
  });
});

describe("remit decision", () => {
  it("error outcome or a denial disposition is denied; else approved", () => {
    expect(remitDecision({ outcome: "complete", disposition: "approved" })).toBe("approved");
    expect(remitDecision({ outcome: "partial", disposition: undefined })).toBe("approved");
    expect(remitDecision({ outcome: "error", disposition: "approved" })).toBe("denied");
    expect(remitDecision({ outcome: "complete", disposition: "Claim denied: not covered" })).toBe("denied");
    expect(remitDecision({ outcome: "complete", disposition: "Rejected" })).toBe("denied");
  });
});
