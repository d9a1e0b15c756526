import { byKeys } from "../order";
import type { RemitFacts } from "./remit";

// A claim lifecycle's patient money as a pure function of what it has received: its claim versions, its
// remits, its payments and the credit allocations into it. Nothing here depends on arrival order, so any
// order of the same facts ends in the same ledger (CONTRACT.md "Money rules"; the property test in
// test/integration/lifecycle-order-integration.test.ts runs it through the Durable Object and D1).

export interface VersionFact {
  claimId: string;
  /** The claim's own identifiers as `system|value`; a replacing version names one of them. */
  keys: string[];
  /** Keys of the versions this one replaces (`Claim.related` prior, or the original of a frequency-7/8 claim). */
  replaces: string[];
  /** X12 claim frequency (CLM05-3): 7 replacement, 8 void. */
  frequency: string | null;
  /** `Claim.created` as an instant key; "" when unknown (a placeholder). */
  created: string;
}

export type RemitFact = Pick<
  RemitFacts,
  "kind" | "provisional" | "reversal" | "payerKey" | "identity" | "cobRank" | "cobPayers" | "amounts" | "versionAt"
> & {
  id: string;
  claimId: string;
  responsibilityCents: number;
  paidByPatientCents: number;
};

export interface Responsibility {
  /** What the patient owes for the lifecycle; null while no remit has said anything. */
  cents: number | null;
  provisional: boolean;
  /** What payments may be applied up to: a provisional drop never lowers it below the adjudicated figure. */
  capCents: number | null;
  /** The version in force. */
  currentClaimId: string | null;
  /** The remits whose sum is the figure (for operators). */
  remitIds: string[];
}

interface Figure {
  cents: number;
  provisional: boolean;
  paidByPatientCents: number;
  remitIds: string[];
}

const negated = (amounts: string) =>
  amounts
    .split(",")
    .filter(Boolean)
    .map((a) => -Number(a))
    .sort((a, b) => a - b)
    .join(",");


/**
 * Effective remits of one version, per payer: not withdrawn; each reversal cancels the original with the
 * same payer, identifier and negated amounts (an unmatched reversal is held: it cancels nothing yet); of
 * the rest, one remit per identifier, the newest by meta.lastUpdated, then created, then id.
 */
export function effectiveRemits(remits: RemitFact[]): RemitFact[] {
  const live = remits.filter((r) => r.kind === "remit").sort(byKeys((r) => r.id));
  const originals = live.filter((r) => !r.reversal);
  const cancelled = new Set<string>();
  for (const rev of live.filter((r) => r.reversal)) {
    const want = negated(rev.amounts);
    const match = originals.find((o) => !cancelled.has(o.id) && o.payerKey === rev.payerKey && o.identity === rev.identity && o.amounts === want);
    if (match) cancelled.add(match.id);
  }
  const newest = new Map<string, RemitFact>();
  for (const r of originals) {
    if (cancelled.has(r.id)) continue;
    const group = r.identity === null ? `id:${r.id}` : `${r.payerKey} ${r.identity}`;
    const held = newest.get(group);
    if (!held || `${r.versionAt}|${r.id}` > `${held.versionAt}|${held.id}`) newest.set(group, r);
  }
  return [...newest.values()].sort(byKeys((r) => r.id));
}

/**
 * One version's figure under coordination of benefits: remits are keyed by payer; the patient owes what
 * the last payer in COB order that has adjudicated says (X12 835 COB: the secondary's PR supersedes the
 * primary's); while a later payer the remits name has not adjudicated, the figure is provisional.
 */
function versionFigure(remits: RemitFact[]): Figure | null {
  const effective = effectiveRemits(remits);
  if (effective.length === 0) return null;
  const payers = new Map<string, RemitFact[]>();
  for (const r of effective) payers.set(r.payerKey, [...(payers.get(r.payerKey) ?? []), r]);
  const rank = (rs: RemitFact[]) => Math.max(...rs.map((r) => r.cobRank));
  const deciding = [...payers.entries()].sort((a, b) => rank(a[1]) - rank(b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).at(-1)![1];
  const laterPending = Math.max(...effective.map((r) => r.cobPayers)) > rank(deciding);
  // Version responsibility is the sum of its effective remits, never below 0.
  return {
    cents: Math.max(0, deciding.reduce((n, r) => n + r.responsibilityCents, 0)),
    provisional: laterPending || deciding.some((r) => r.provisional),
    paidByPatientCents: Math.max(0, deciding.reduce((n, r) => n + r.paidByPatientCents, 0)),
    remitIds: deciding.map((r) => r.id),
  };
}

/** Versions newest first: the one in force first, then by Claim.created, then by identifier. */
export function orderVersions(versions: VersionFact[]): VersionFact[] {
  const sortKey = (v: VersionFact) => `${v.created}|${[...v.keys].sort()[0] ?? v.claimId}`;
  const replacedBy = (v: VersionFact) => versions.some((w) => w !== v && w.replaces.some((k) => v.keys.includes(k)));
  const newestFirst = [...versions].sort(byKeys(sortKey)).reverse();
  const current = newestFirst.find((v) => !replacedBy(v)) ?? newestFirst[0];
  return current ? [current, ...newestFirst.filter((v) => v !== current)] : [];
}

function figure(versions: VersionFact[], remits: RemitFact[]): (Figure & { currentClaimId: string | null }) | null {
  const ordered = orderVersions(versions);
  const current = ordered[0];
  if (!current) return null;
  const of = (v: VersionFact) => remits.filter((r) => r.claimId === v.claimId);
  const withCurrent = (f: Figure | null, provisional?: boolean) => (f ? { ...f, provisional: provisional ?? f.provisional, currentClaimId: current.claimId } : null);

  const own = versionFigure(of(current));
  if (own) return withCurrent(own);
  // A void (frequency 8) ends the chain: 0 once the payer's reversal has cancelled what it replaces.
  if (current.frequency === "8") {
    const replaced = ordered.filter((v) => current.replaces.some((k) => v.keys.includes(k)));
    const open = replaced.map((v) => versionFigure(of(v))).find((f) => f !== null);
    if (open) return withCurrent(open, true);
    if (replaced.some((v) => of(v).some((r) => r.kind === "remit"))) return withCurrent({ cents: 0, provisional: false, paidByPatientCents: 0, remitIds: [] });
  }
  // A correction not yet adjudicated: provisional at the last adjudicated value.
  for (const v of ordered.slice(1)) {
    const f = versionFigure(of(v));
    if (f) return withCurrent(f, true);
  }
  // Everything reversed and nothing new yet: still provisional at the newest adjudicated remit.
  const last = remits
    .filter((r) => r.kind === "remit" && !r.reversal)
    .sort(byKeys((r) => `${r.versionAt}|${r.id}`))
    .at(-1);
  if (last) {
    return withCurrent({ cents: Math.max(0, last.responsibilityCents), provisional: true, paidByPatientCents: Math.max(0, last.paidByPatientCents), remitIds: [last.id] });
  }
  return null;
}

/**
 * The lifecycle's responsibility. A provisional figure (draft, queued or partial remits; a later COB payer
 * pending; a correction not yet adjudicated) lets payments apply up to it, but a drop it causes never turns
 * applied money into a credit: the cap stays at the figure without the provisional remits. (Keeping the
 * higher of the two is what makes the ledger independent of whether a payment came before or after the
 * provisional remit.) CARIN `paidbypatient`, collected at the point of service, is taken off what remains.
 */
export function lifecycleResponsibility(versions: VersionFact[], remits: RemitFact[]): Responsibility {
  const f = figure(versions, remits);
  if (!f) return { cents: null, provisional: false, capCents: null, currentClaimId: orderVersions(versions)[0]?.claimId ?? null, remitIds: [] };
  let cap = f.cents;
  if (f.provisional) {
    const base = figure(versions, remits.filter((r) => !r.provisional));
    if (base) cap = Math.max(cap, base.cents);
  }
  return {
    cents: f.cents,
    provisional: f.provisional,
    capCents: Math.max(0, cap - f.paidByPatientCents),
    currentClaimId: f.currentClaimId,
    remitIds: f.remitIds,
  };
}

export interface PaymentFact {
  key: string;
  amountCents: number;
  paymentDate: string;
  /** What of this payment's credit has been allocated to other lifecycles: it cannot come back. */
  allocatedOutCents: number;
}

export interface AllocationFact {
  id: string;
  amountCents: number;
}

export interface Ledger {
  appliedCents: number;
  /** Per payment key: its share applied to this lifecycle and its credit (amount − applied). */
  payments: Map<string, { appliedCents: number; creditCents: number }>;
  /** Allocations into this lifecycle that the cap still holds (all of them unless the cap fell below). */
  allocationsAppliedCents: number;
}

/**
 * applied = min(money received, cap). Allocations into the lifecycle (explicit operator decisions) count
 * first; the lifecycle's own payments fill the rest in a fixed order (payment date, then trace key), so
 * which payment's money became credit is a function of the set, never of arrival. Money already allocated
 * out of a payment's credit stays with the claim it went to.
 */
export function ledger(capCents: number, payments: PaymentFact[], allocationsIn: AllocationFact[]): Ledger {
  let room = Math.max(0, capCents);
  const allocationsAppliedCents = Math.min(room, allocationsIn.reduce((n, a) => n + a.amountCents, 0));
  room -= allocationsAppliedCents;
  const out = new Map<string, { appliedCents: number; creditCents: number }>();
  let applied = allocationsAppliedCents;
  // each payment's sort key is built once and byKeys only reads it (building both keys per comparison was
  // 7 % of the payments path's JavaScript, bench/payments profile)
  const ordered = payments.map((p) => ({ p, order: `${p.paymentDate.slice(0, 10)}|${p.key}` })).sort(byKeys((x) => x.order));
  for (const { p } of ordered) {
    const take = Math.min(room, Math.max(0, p.amountCents - p.allocatedOutCents));
    room -= take;
    applied += take;
    out.set(p.key, { appliedCents: take, creditCents: p.amountCents - take });
  }
  return { appliedCents: applied, payments: out, allocationsAppliedCents };
}
