import type { ClaimResponseResource } from "../partners/cair-claim-response/schema";
import { codesOf, type CodeableConcept } from "../partners/fhir";
import { roundToCents } from "./money";

type Adjudication = { category: CodeableConcept; amount?: { value: number } | undefined };

export const X12_GROUP_CODES = "https://x12.org/codes/claim-adjustment-group-codes";
export const HL7_ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication";

/**
 * Adjudication categories that are patient responsibility when no X12 group code says so.
 * `copay` and `deductible` are HL7 adjudication codes (terminology.hl7.org/CodeSystem/adjudication);
 * `coinsurance` comes from the CARIN Blue Button adjudication codes and is accepted from any system.
 */
const PATIENT_CATEGORIES = new Set(["copay", "deductible", "coinsurance"]);

/**
 * Patient responsibility of a ClaimResponse, in cents.
 *
 * The rule:
 * 1. Per adjudication list, an entry counts when its category is the X12 claim-adjustment group `PR`
 *    (Patient Responsibility; X12 835 CAS01 group codes: CO contractual, OA other, PI payer initiated,
 *    PR patient) — e.g. PR-1 deductible, PR-2 coinsurance, PR-3 copay (CARC reason codes 1/2/3).
 * 2. When a list has PR group entries, only those count: payers often send the same money twice, once as
 *    PR-n and once as a copay/deductible category, and counting both would double it. Only a list without
 *    any PR entry falls back to the copay / deductible / coinsurance categories.
 * 3. `submitted`, `eligible`, `benefit` and every other category (CO, OA, PI …) never count.
 * 4. Levels are never added together: the item level (item[].adjudication, falling back to that item's
 *    detail[] adjudications only when the item itself carries none) and addItem[] are summed when any of
 *    them yields patient responsibility; otherwise the header-level `adjudication`; otherwise header
 *    `total` entries with a patient category. Each item counts once.
 * Sources: HL7 FHIR R4B ClaimResponse (item.adjudication, adjudication, total), X12 claim adjustment
 * group codes, CMS CARC list, CARIN BB adjudication value set.
 */
export function patientResponsibilityCents(cr: ClaimResponseResource): number {
  const itemLists: Adjudication[][] = [];
  for (const item of cr.item ?? []) {
    const own = patientShare(item.adjudication);
    if (own !== null) itemLists.push(item.adjudication);
    else for (const d of item.detail ?? []) if (d.adjudication) itemLists.push(d.adjudication);
  }
  for (const add of cr.addItem ?? []) itemLists.push(add.adjudication);

  const itemShares = itemLists.map(patientShare).filter((s): s is number => s !== null);
  if (itemShares.length > 0) return sum(itemShares);

  const header = patientShare(cr.adjudication ?? []);
  if (header !== null) return header;

  const totals = (cr.total ?? []).filter((t) => isPatientCategory(t.category));
  return sum(totals.map((t) => roundToCents(t.amount.value)));
}

/** Patient share of one adjudication list in cents, or null when nothing in it is patient responsibility. */
function patientShare(list: readonly Adjudication[]): number | null {
  const pr = list.filter((a) => isPrGroup(a.category));
  const chosen = pr.length > 0 ? pr : list.filter((a) => isPatientCategory(a.category));
  if (chosen.length === 0) return null;
  return sum(chosen.map((a) => (a.amount ? roundToCents(a.amount.value) : 0)));
}

const isPrGroup = (c: CodeableConcept) => codesOf(c).some((x) => x.system === X12_GROUP_CODES && x.code === "PR");
const isPatientCategory = (c: CodeableConcept) =>
  codesOf(c).some((x) => x.code !== undefined && PATIENT_CATEGORIES.has(x.code) && x.system !== X12_GROUP_CODES);

/** Sum of one HL7 adjudication category over the items (e.g. submitted, benefit), in cents. */
export function itemCategoryCents(cr: ClaimResponseResource, code: string): number {
  let total = 0;
  for (const item of cr.item ?? []) {
    for (const a of item.adjudication) {
      if (a.amount && codesOf(a.category).some((x) => x.system === HL7_ADJUDICATION && x.code === code)) {
        total += roundToCents(a.amount.value);
      }
    }
  }
  return total;
}

export type RemitDecision = "approved" | "denied";

/**
 * Approved or denied: `outcome: error` is denied; so is a disposition that says denied / denial /
 * rejected / not covered. Everything else that finished adjudication (complete, partial, queued) is
 * approved — a partial payment is still an approved remit whose patient share comes from the PR lines.
 */
export function remitDecision(cr: Pick<ClaimResponseResource, "outcome" | "disposition">): RemitDecision {
  if (cr.outcome === "error") return "denied";
  if (cr.disposition && /\b(den(y|ied|ial)|reject(ed)?|not covered)\b/i.test(cr.disposition)) return "denied";
  return "approved";
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
