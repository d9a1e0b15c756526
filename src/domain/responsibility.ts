import { roundToCents } from "./money";

// The patient responsibility of one remit (CONTRACT.md "Money rules"), in integer cents. Pure: it reads
// the ClaimResponse's shape and nothing else, so the same rule serves projection, tests and operators.

export interface Coding {
  system?: string | undefined;
  code?: string | undefined;
}
export interface Concept {
  coding?: Coding[] | undefined;
}
export interface AdjudicationLine {
  category: Concept;
  reason?: Concept | undefined;
  amount?: { value?: number | undefined } | undefined;
  value?: number | undefined;
}
type List = readonly AdjudicationLine[];

interface SubDetail {
  adjudication?: List | undefined;
}
interface Detail extends SubDetail {
  detailSequence?: number | undefined;
  subDetail?: SubDetail[] | undefined;
}
interface Item {
  itemSequence: number;
  adjudication?: List | undefined;
  detail?: Detail[] | undefined;
}
interface AddItem {
  itemSequence?: number[] | undefined;
  detailSequence?: number[] | undefined;
  adjudication?: List | undefined;
  detail?: Detail[] | undefined;
}
/** The parts of a FHIR R4/R4B ClaimResponse that carry money. */
export interface RemitMoney {
  adjudication?: List | undefined;
  item?: Item[] | undefined;
  addItem?: AddItem[] | undefined;
  total?: List | undefined;
}

export const X12_GROUP_CODES = "https://x12.org/codes/claim-adjustment-group-codes";
const X12_GROUPS = new Set(["CO", "PR", "OA", "PI", "CR"]);

/** CARC reason codes of cost sharing that PR lines carry (X12 CARC list: 1 deductible, 2 coinsurance, 3 copay). */
const CARC = { deductible: "1", coinsurance: "2", copay: "3", bloodDeductible: "66" } as const;

/** HL7 adjudication (copay, deductible) and CARIN C4BBAdjudication (coinsurance): the explicit components. */
const COMPONENTS = ["copay", "deductible", "coinsurance"] as const;
/** Rule 4: the components plus HL7 `unallocdeduct` and the CMS Blue Button beneficiary cost-share variables. */
const RULE4 = new Set<string>([
  ...COMPONENTS,
  "unallocdeduct",
  "line_coinsrnc_amt",
  "line_bene_ptb_ddctbl_amt",
  "nch_bene_ip_ddctbl_amt",
  "nch_bene_pta_coinsrnc_lblty_amt",
  "nch_bene_blood_ddctbl_lblty_am",
  "rev_cntr_cash_ddctbl_amt",
  "rev_cntr_coinsrnc_wge_adjstd_c",
  "rev_cntr_ptnt_rspnsblty_pmt",
]);

/**
 * A code recognised with or without its system: `copay`, `http://…/adjudication#copay` and the CMS Blue
 * Button form `https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt` all name their last segment.
 */
function bareCode(code: string): string {
  const cut = Math.max(code.lastIndexOf("/"), code.lastIndexOf("#"));
  return (cut >= 0 ? code.slice(cut + 1) : code).trim().toLowerCase();
}

/** The X12 claim-adjustment group of a line (CO, PR, OA, PI, CR), with the CARC reason when it has one. */
export function x12Group(line: AdjudicationLine): { group: string; reason: string | null } | null {
  for (const c of line.category.coding ?? []) {
    if (!c.code || (c.system && c.system !== X12_GROUP_CODES && !/x12/i.test(c.system))) continue;
    // Some payers write group and reason in one code: "PR-1", "PR1".
    // The reason part is a CARC code (1–3 digits, optionally after one letter: 45, A1, P12), so words
    // that merely start like a group ("copay") are never read as one.
    const m = /^(CO|PR|OA|PI|CR)(?:[-\s]?([A-Z]?\d{1,3}))?$/i.exec(c.code.trim());
    if (!m || !X12_GROUPS.has(m[1]!.toUpperCase())) continue;
    const reason = m[2] ?? line.reason?.coding?.find((r) => r.code)?.code ?? null;
    return { group: m[1]!.toUpperCase(), reason: reason ? reason.trim().toUpperCase() : null };
  }
  return null;
}

/** The HL7 / CARIN / CMS category codes of a line that is not an X12 group line. */
function categoryCodes(line: AdjudicationLine): string[] {
  if (x12Group(line)) return [];
  return (line.category.coding ?? []).flatMap((c) => (c.code ? [bareCode(c.code)] : []));
}

export interface ListFigure {
  cents: number;
  /** Which of the five rules produced it (1–5). */
  rule: 1 | 2 | 3 | 4 | 5;
}

/** Reads amounts as cents; `sign` -1 reads a reversal's negated amounts as the original's. */
class Reader {
  constructor(private readonly sign: 1 | -1) {}
  cents(line: AdjudicationLine): number {
    const v = line.amount?.value;
    return v === undefined ? 0 : this.sign * roundToCents(v);
  }
  sumOf(list: List, codes: ReadonlySet<string> | readonly string[]): number {
    const set = codes instanceof Set ? codes : new Set(codes);
    let n = 0;
    for (const line of list) if (categoryCodes(line).some((c) => set.has(c))) n += this.cents(line);
    return n;
  }
  has(list: List, code: string): boolean {
    return list.some((line) => categoryCodes(line).includes(code));
  }
}

/**
 * The five-step rule for one adjudication list; null when no rule applies (the list says nothing about
 * the patient's share). The first rule that applies wins.
 */
export function listResponsibility(list: List, sign: 1 | -1 = 1): ListFigure | null {
  const r = new Reader(sign);
  const groups = list.map((line) => ({ line, g: x12Group(line) }));
  // 1. X12 835 group codes (CAS01): PR lines are the patient's; CO/OA/PI/CR never are. An HL7/CARIN
  //    component counts only where no PR line with its CARC reason already carries that money.
  if (groups.some((x) => x.g)) {
    const pr = groups.filter((x) => x.g?.group === "PR");
    const reasons = new Set(pr.map((x) => x.g!.reason));
    let cents = pr.reduce((n, x) => n + r.cents(x.line), 0);
    if (!reasons.has(CARC.copay)) cents += r.sumOf(list, ["copay"]);
    if (!reasons.has(CARC.deductible)) cents += r.sumOf(list, ["deductible"]);
    if (!reasons.has(CARC.coinsurance)) cents += r.sumOf(list, ["coinsurance"]);
    return { cents, rule: 1 };
  }
  const components = r.sumOf(list, COMPONENTS);
  // 2. CARIN BB memberliability, unless its explicit components add up to more.
  if (r.has(list, "memberliability")) return { cents: Math.max(r.sumOf(list, ["memberliability"]), components), rule: 2 };
  // 3. eligpercent (a percentage `value`, never money) means coinsurance is implied: what was eligible
  //    and not paid by this payer or a prior one, never less than the explicit components.
  if (r.has(list, "eligpercent") && r.has(list, "eligible") && r.has(list, "benefit")) {
    const implied = r.sumOf(list, ["eligible"]) - r.sumOf(list, ["benefit"]) - r.sumOf(list, ["priorpayerpaid"]);
    return { cents: Math.max(implied, components), rule: 3 };
  }
  // 4. The explicit cost-sharing categories.
  if (list.some((line) => categoryCodes(line).some((c) => RULE4.has(c)))) return { cents: r.sumOf(list, RULE4), rule: 4 };
  // 5. Inferred: eligible less benefit.
  if (r.has(list, "eligible") && r.has(list, "benefit")) return { cents: r.sumOf(list, ["eligible"]) - r.sumOf(list, ["benefit"]), rule: 5 };
  return null;
}

export interface RemitResponsibility {
  cents: number;
  /** Where the figure came from: the lines (header + items + addItems), the `total`, or nothing at all (0). */
  basis: "lines" | "total" | "none";
  /** Some part came from rule 5 (eligible − benefit) rather than from explicit patient lines. */
  inferred: boolean;
  /** The `total` list's own figure when it has one; recorded as a cross-check. */
  totalCents: number | null;
  /** CARIN `paidbypatient`: already collected at the point of service. */
  paidByPatientCents: number;
}

/** Sum over lists that yield; null when none does. */
function sumYielding(figures: (ListFigure | null)[]): { cents: number; inferred: boolean } | null {
  const yielded = figures.filter((f): f is ListFigure => f !== null);
  if (yielded.length === 0) return null;
  return { cents: yielded.reduce((n, f) => n + f.cents, 0), inferred: yielded.some((f) => f.rule === 5) };
}

const combine = (parts: ({ cents: number; inferred: boolean } | null)[]) => sumYielding(parts.map((p) => (p ? { cents: p.cents, rule: p.inferred ? 5 : 1 } : null)));

/** A detail: its own list unless that yields nothing, else its subDetail lists. */
function detailFigure(d: Detail, sign: 1 | -1) {
  const own = listResponsibility(d.adjudication ?? [], sign);
  if (own) return { cents: own.cents, inferred: own.rule === 5 };
  return sumYielding((d.subDetail ?? []).map((s) => listResponsibility(s.adjudication ?? [], sign)));
}

/** An item (or an addItem, which counts like one): its own list unless that yields nothing, else its details. */
function itemFigure(it: { adjudication?: List | undefined; detail?: Detail[] | undefined }, sign: 1 | -1) {
  const own = listResponsibility(it.adjudication ?? [], sign);
  if (own) return { cents: own.cents, inferred: own.rule === 5 };
  return combine((it.detail ?? []).map((d) => detailFigure(d, sign)));
}

/**
 * Patient responsibility of one remit over every level (CONTRACT.md): header `adjudication` is added to
 * the lines (FHIR R4B: money "presented at the header level rather than at the line-item level"; X12 835
 * claim-level CAS adds to service-line CAS); per item, item → detail → subDetail fallback; an `addItem`
 * replaces what it names (a whole item by `itemSequence` alone, that item's details by `detailSequence`)
 * and otherwise counts as an item of its own; `total` only when nothing else yields.
 * `sign` -1 reads a reversal's negated amounts as its original's (so rule 3's "never less than the
 * components" compares like with like); the caller negates the figure back.
 */
export function remitResponsibility(cr: RemitMoney, sign: 1 | -1 = 1): RemitResponsibility {
  const items = cr.item ?? [];
  const addItems = cr.addItem ?? [];
  const known = new Set(items.map((i) => i.itemSequence));
  const parts: ({ cents: number; inferred: boolean } | null)[] = [];
  const header = listResponsibility(cr.adjudication ?? [], sign);
  parts.push(header ? { cents: header.cents, inferred: header.rule === 5 } : null);

  for (const item of items) {
    const naming = addItems.filter((a) => a.itemSequence?.includes(item.itemSequence));
    const whole = naming.filter((a) => !a.detailSequence?.length);
    if (whole.length > 0) {
      // Replaced whole: every addItem that names this item stands for it.
      parts.push(combine(naming.map((a) => itemFigure(a, sign))));
      continue;
    }
    if (naming.length > 0) {
      // Details replaced: the details not named, plus the addItems that replace the named ones.
      const replaced = new Set(naming.flatMap((a) => a.detailSequence ?? []));
      const kept = (item.detail ?? []).filter((d) => d.detailSequence === undefined || !replaced.has(d.detailSequence));
      parts.push(combine([...kept.map((d) => detailFigure(d, sign)), ...naming.map((a) => itemFigure(a, sign))]));
      continue;
    }
    parts.push(itemFigure(item, sign));
  }
  // addItems for services the claim did not have (no item they name) count as items of their own.
  for (const a of addItems) if (!a.itemSequence?.some((s) => known.has(s))) parts.push(itemFigure(a, sign));

  const total = listResponsibility(cr.total ?? [], sign);
  const lines = combine(parts);
  const r = new Reader(sign);
  const paidByPatientCents = r.has(cr.total ?? [], "paidbypatient")
    ? r.sumOf(cr.total ?? [], ["paidbypatient"])
    : [cr.adjudication ?? [], ...items.map((i) => i.adjudication ?? [])].reduce((n, l) => n + r.sumOf(l, ["paidbypatient"]), 0);
  if (lines) return { cents: lines.cents, basis: "lines", inferred: lines.inferred, totalCents: total?.cents ?? null, paidByPatientCents };
  if (total) return { cents: total.cents, basis: "total", inferred: total.rule === 5, totalCents: total.cents, paidByPatientCents };
  return { cents: 0, basis: "none", inferred: false, totalCents: null, paidByPatientCents };
}

/** Cost sharing on any line (PR-1/2/3/66, deductible, coinsurance, copay, memberliability) with money > 0. */
export function carriesCostSharing(cr: RemitMoney): boolean {
  const lists: List[] = [cr.adjudication ?? []];
  const walkDetails = (ds: Detail[] | undefined) => {
    for (const d of ds ?? []) {
      lists.push(d.adjudication ?? []);
      for (const s of d.subDetail ?? []) lists.push(s.adjudication ?? []);
    }
  };
  for (const i of cr.item ?? []) {
    lists.push(i.adjudication ?? []);
    walkDetails(i.detail);
  }
  for (const a of cr.addItem ?? []) {
    lists.push(a.adjudication ?? []);
    walkDetails(a.detail);
  }
  const r = new Reader(1);
  const costCodes = new Set<string>([...COMPONENTS, "memberliability"]);
  const costCarc = new Set<string>(Object.values(CARC));
  return lists.some((list) =>
    list.some((line) => {
      if (r.cents(line) <= 0) return false;
      const g = x12Group(line);
      if (g) return g.group === "PR" && g.reason !== null && costCarc.has(g.reason);
      return categoryCodes(line).some((c) => costCodes.has(c));
    }),
  );
}

/** Whether any line, at any level, has a `benefit` amount above zero. */
export function anyBenefit(cr: RemitMoney): boolean {
  const r = new Reader(1);
  const positive = (l: List | undefined) => (l ?? []).some((line) => categoryCodes(line).includes("benefit") && r.cents(line) > 0);
  const details = (ds: Detail[] | undefined) => (ds ?? []).some((d) => positive(d.adjudication) || (d.subDetail ?? []).some((s) => positive(s.adjudication)));
  return (
    positive(cr.adjudication) ||
    (cr.item ?? []).some((i) => positive(i.adjudication) || details(i.detail)) ||
    (cr.addItem ?? []).some((a) => positive(a.adjudication) || details(a.detail))
  );
}

/** Sum of one category (e.g. submitted, benefit) over the items' own lists, in cents. */
export function itemCategoryCents(cr: RemitMoney, code: string): number {
  const r = new Reader(1);
  return (cr.item ?? []).reduce((n, i) => n + r.sumOf(i.adjudication ?? [], [code]), 0);
}
