import { toInstant } from "./claim-status";
import { roundToCents } from "./money";
import { anyBenefit, carriesCostSharing, remitResponsibility, type RemitMoney, type RemitResponsibility } from "./responsibility";

// What a ClaimResponse is for the money (CONTRACT.md "Which ClaimResponses count"). Pure: the projection
// stores these facts beside the resource, and the lifecycle's ledger reads only the facts.

export interface Reference {
  reference?: string | undefined;
  display?: string | undefined;
  identifier?: { system?: string | undefined; value?: string | undefined } | undefined;
}

/** The parts of a ClaimResponse the classification reads. */
export interface RemitResource extends RemitMoney {
  id: string;
  use?: string | undefined;
  status: string;
  outcome: string;
  created: string;
  meta?: { lastUpdated?: string | undefined } | undefined;
  identifier?: { system?: string | undefined; value?: string | undefined }[] | undefined;
  insurer?: Reference | undefined;
  insurance?: { sequence?: number | undefined; focal?: boolean | undefined }[] | undefined;
  payment?: { amount?: { value?: number | undefined } | undefined } | undefined;
}

/**
 * - `remit`: an adjudication of the claim (`use` claim; absent means claim).
 * - `preauth`: a preauthorization or predetermination: stored and emitted as CLAIMS_PREAUTH, no balance.
 * - `withdrawn`: `status` cancelled or entered-in-error withdraws the ClaimResponse with that id.
 * - `rejection`: `outcome` error: CLAIMS_REMIT_DENIED, no responsibility, never replaces a remit.
 */
export type RemitKind = "remit" | "preauth" | "withdrawn" | "rejection";
export type RemitDecision = "approved" | "denied";

export interface RemitFacts {
  kind: RemitKind;
  decision: RemitDecision;
  /** draft, outcome queued or partial: payments apply up to it, a drop it causes never makes a credit. */
  provisional: boolean;
  /** Every amount negated (X12 835 CLP02 = 22 style): cancels the remit whose amounts it negates. */
  reversal: boolean;
  responsibility: RemitResponsibility;
  paymentCents: number;
  /** Who adjudicated: insurer reference, else identifier, else display. */
  payerKey: string;
  /** The remit's business identifier (system|value, the Cair claim-id excluded: that names the bill). */
  identity: string | null;
  /** COB position of this payer: the focal `insurance.sequence` (1 primary, 2 secondary …). */
  cobRank: number;
  /** The highest COB position the remit names: a later payer still to adjudicate when above cobRank. */
  cobPayers: number;
  /** Sorted money amounts in cents: a reversal matches the original whose amounts it negates. */
  amounts: string;
  /** Ordering of versions of the same remit: meta.lastUpdated, then created (instants). */
  versionAt: string;
}

export function remitFacts(cr: RemitResource, billIdSystem: string): RemitFacts {
  const amounts = moneyAmounts(cr);
  const nonZero = amounts.filter((a) => a !== 0);
  const reversal = nonZero.length > 0 && nonZero.every((a) => a < 0);
  // A reversal takes back what its original said: the original's figure, negated.
  const read = remitResponsibility(cr, reversal ? -1 : 1);
  const responsibility = reversal
    ? { ...read, cents: 0 - read.cents, totalCents: read.totalCents === null ? null : 0 - read.totalCents, paidByPatientCents: 0 - read.paidByPatientCents }
    : read;
  const paymentCents = cr.payment?.amount?.value !== undefined ? roundToCents(cr.payment.amount.value) : 0;
  const kind: RemitKind =
    cr.use === "preauthorization" || cr.use === "predetermination"
      ? "preauth"
      : cr.status === "cancelled" || cr.status === "entered-in-error"
        ? "withdrawn"
        : cr.outcome === "error"
          ? "rejection"
          : "remit";
  const focal = cr.insurance?.find((i) => i.focal) ?? cr.insurance?.[0];
  const cobRank = focal?.sequence ?? 1;
  return {
    kind,
    decision: decide(cr, kind, paymentCents, responsibility.cents),
    provisional: cr.status === "draft" || cr.outcome === "queued" || cr.outcome === "partial",
    reversal,
    responsibility,
    paymentCents,
    payerKey: payerKey(cr.insurer),
    identity: identity(cr, billIdSystem),
    cobRank,
    cobPayers: Math.max(cobRank, ...(cr.insurance ?? []).map((i) => i.sequence ?? 1)),
    amounts: amounts.sort((a, b) => a - b).join(","),
    versionAt: [cr.meta?.lastUpdated ? toInstant(cr.meta.lastUpdated) : "", toInstant(cr.created)].join("|"),
  };
}

/**
 * Denied only when adjudication finished (complete or partial), no line has benefit > 0, nothing was
 * paid and nothing is the patient's: a $0 remit whose allowed amount went to the deductible is approved
 * and owed. The disposition text is never evidence ("Line 2 denied (CO-50); line 1 paid" is approved).
 */
function decide(cr: RemitResource, kind: RemitKind, paymentCents: number, responsibilityCents: number): RemitDecision {
  if (kind === "rejection") return "denied";
  if (cr.outcome !== "complete" && cr.outcome !== "partial") return "approved";
  const nothing = !anyBenefit(cr) && paymentCents === 0 && responsibilityCents <= 0 && !carriesCostSharing(cr);
  return nothing ? "denied" : "approved";
}

export function payerKey(insurer: Reference | undefined): string {
  if (insurer?.reference) return `ref:${insurer.reference}`;
  if (insurer?.identifier?.value) return `id:${insurer.identifier.system ?? ""}|${insurer.identifier.value}`;
  if (insurer?.display) return `name:${insurer.display.trim().toLowerCase()}`;
  return "unknown";
}

function identity(cr: RemitResource, billIdSystem: string): string | null {
  const ids = (cr.identifier ?? [])
    .filter((i) => i.value && i.system !== billIdSystem)
    .map((i) => `${i.system ?? ""}|${i.value}`)
    .sort();
  return ids.length ? ids.join(" ") : null;
}

/** Every money amount of the resource (adjudications at every level, totals, payment), in cents. */
function moneyAmounts(cr: RemitResource): number[] {
  const out: number[] = [];
  const list = (l: readonly { amount?: { value?: number | undefined } | undefined }[] | undefined) => {
    for (const a of l ?? []) if (a.amount?.value !== undefined) out.push(roundToCents(a.amount.value));
  };
  const details = (ds: { adjudication?: any; subDetail?: { adjudication?: any }[] }[] | undefined) => {
    for (const d of ds ?? []) {
      list(d.adjudication);
      for (const s of d.subDetail ?? []) list(s.adjudication);
    }
  };
  list(cr.adjudication);
  for (const i of cr.item ?? []) {
    list(i.adjudication);
    details(i.detail);
  }
  for (const a of cr.addItem ?? []) {
    list(a.adjudication);
    details(a.detail);
  }
  list(cr.total);
  if (cr.payment?.amount?.value !== undefined) out.push(roundToCents(cr.payment.amount.value));
  return out;
}
