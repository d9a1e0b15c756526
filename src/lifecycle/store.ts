import { and, eq, isNull } from "drizzle-orm";
import { CLAIM_ID_SYSTEM, ID_SYSTEM } from "../claims/resolve";
import { domainEventInsert } from "../claims/write";
import { newId } from "../crypto/ids";
import { nowIso, type Db } from "../db/client";
import { compiled, everyColumn, excluded } from "../db/compiled";
import {
  claimIdentifiers,
  claimLifecycles,
  claimResponses,
  claims,
  creditAllocations,
  patientCredits,
  patientPaymentDetails,
  patients,
  paymentReconciliations,
} from "../db/schema";
import { ledger, lifecycleResponsibility, type Ledger, type RemitFact, type Responsibility, type VersionFact } from "../domain/lifecycle-money";
import { centsToAmount } from "../domain/money";
import { paymentReconciliation } from "../payments/reconciliation";

// One lifecycle's money as the ClaimLifecycle object holds it (LifecycleState, kept in the object's own
// SQLite), how it is loaded from D1 when the projection says the facts changed, and the D1 statements that
// bring D1 to it. The object runs one operation at a time; an operation's statements go to D1 as one
// outbox entry (src/lifecycle/outbox.ts), one atomic batch, so D1 holds all of an operation or none of it.

export type PaymentRow = typeof patientPaymentDetails.$inferSelect;
export type CreditRow = typeof patientCredits.$inferSelect;
export type AllocationRow = typeof creditAllocations.$inferSelect;

export interface LifecycleState {
  lifecycleId: string;
  /** The lifecycle this one was merged into, when it was. */
  mergedInto: string | null;
  exists: boolean;
  claimIds: string[];
  /** The bill the lifecycle is (Cair's claim-id), and its claims as a bill id finds them. */
  billId: string | null;
  claims: { id: string; createdAt: string; patientId: string | null }[];
  versions: VersionFact[];
  remits: RemitFact[];
  payments: PaymentRow[];
  credits: CreditRow[];
  /** Live allocations of this lifecycle's credits to other lifecycles' claims. */
  allocationsOut: AllocationRow[];
  /** Those reversed with their payment (what a repeated reversal answers). */
  allocationsReversed: AllocationRow[];
  /** Live allocations of other credits into this lifecycle. */
  allocationsIn: AllocationRow[];
  patientPaid: Map<string, number>;
  /** What a PaymentReconciliation names: FHIR Claim ids and patient references. */
  reconciliation: ReconciliationContext;
  summary: { responsibilityCents: number | null; provisional: boolean; appliedCents: number; currentClaimId: string | null };
}

/**
 * The object's load of its lifecycle from D1, in one round trip that also marks the lifecycle held by its
 * object (`object_since`, atomically with the reads): from then on the projection leaves the lifecycle's
 * figures to the object (src/lifecycle/unheld.ts).
 */
export async function loadLifecycle(db: Db, lifecycleId: string): Promise<LifecycleState> {
  const [, ...rows] = await db.batch([
    db.update(claimLifecycles).set({ objectSince: nowIso() }).where(and(eq(claimLifecycles.id, lifecycleId), isNull(claimLifecycles.objectSince))),
    ...lifecycleReads(db, lifecycleId),
  ]);
  return lifecycleState(lifecycleId, rows);
}

/**
 * The reads of one lifecycle's facts and money, for one D1 batch: no IN-lists, so a lifecycle with many
 * payments never meets D1's 100 parameters.
 */
export function lifecycleReads(db: Db, lifecycleId: string) {
  const v = { lifecycleId };
  return [readLifecycleRow(db, v), ...factReads(db, lifecycleId), ...moneyReads(db, lifecycleId)] as const;
}

/** The reads of a lifecycle's facts: its claims, their identifiers, its remits. */
export function factReads(db: Db, lifecycleId: string) {
  const v = { lifecycleId };
  return [readLifecycleClaims(db, v), readLifecycleIdentifiers(db, v), readLifecycleRemits(db, v)] as const;
}

/** The reads of a lifecycle's money (what only its object makes) and its claims' patients. */
function moneyReads(db: Db, lifecycleId: string) {
  const v = { lifecycleId };
  return [
    readLifecyclePayments(db, v),
    readAllocationsIn(db, v),
    readLifecycleCredits(db, v),
    readAllocationsOut(db, v),
    readLifecyclePatients(db, v),
  ] as const;
}

// (built once per isolate: these run for every lifecycle a projection or an object loads, src/db/compiled.ts)
type OfLifecycle = { lifecycleId: string };
const readLifecycleRow = compiled((db, v: OfLifecycle) => db.select().from(claimLifecycles).where(eq(claimLifecycles.id, v.lifecycleId)));
const readLifecycleClaims = compiled((db, v: OfLifecycle) =>
  db
    .select({
      id: claims.id,
      claimCreated: claims.claimCreated,
      replaces: claims.replaces,
      frequency: claims.frequencyCode,
      paid: claims.patientPaidCents,
      createdAt: claims.createdAt,
      patientId: claims.patientId,
    })
    .from(claims)
    .where(eq(claims.lifecycleId, v.lifecycleId)),
);
const readLifecycleIdentifiers = compiled((db, v: OfLifecycle) =>
  db
    .select({ claimId: claimIdentifiers.claimId, system: claimIdentifiers.system, value: claimIdentifiers.value })
    .from(claimIdentifiers)
    .innerJoin(claims, eq(claims.id, claimIdentifiers.claimId))
    .where(eq(claims.lifecycleId, v.lifecycleId)),
);
// the remits' facts the money rules read, not their resources (2 KB each, and a busy bill has thousands)
const readLifecycleRemits = compiled((db, v: OfLifecycle) =>
  db
    .select({
      id: claimResponses.id,
      claimId: claimResponses.claimId,
      withdrawn: claimResponses.withdrawn,
      kind: claimResponses.kind,
      provisional: claimResponses.provisional,
      reversal: claimResponses.reversal,
      payerKey: claimResponses.payerKey,
      identity: claimResponses.identity,
      cobRank: claimResponses.cobRank,
      cobPayers: claimResponses.cobPayers,
      amounts: claimResponses.amounts,
      versionAt: claimResponses.versionAt,
      patientResponsibilityCents: claimResponses.patientResponsibilityCents,
      paidByPatientCents: claimResponses.paidByPatientCents,
    })
    .from(claimResponses)
    .where(eq(claimResponses.lifecycleId, v.lifecycleId)),
);
const readLifecyclePayments = compiled((db, v: OfLifecycle) => db.select().from(patientPaymentDetails).where(eq(patientPaymentDetails.lifecycleId, v.lifecycleId)));
const readAllocationsIn = compiled((db, v: OfLifecycle) =>
  db.select().from(creditAllocations).where(and(eq(creditAllocations.lifecycleId, v.lifecycleId), isNull(creditAllocations.reversedAt))),
);
const readLifecycleCredits = compiled((db, v: OfLifecycle) =>
  db
    .select({ credit: patientCredits })
    .from(patientCredits)
    .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
    .where(eq(patientPaymentDetails.lifecycleId, v.lifecycleId)),
);
const readAllocationsOut = compiled((db, v: OfLifecycle) =>
  db
    .select({ allocation: creditAllocations })
    .from(creditAllocations)
    .innerJoin(patientCredits, eq(patientCredits.id, creditAllocations.creditId))
    .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
    .where(eq(patientPaymentDetails.lifecycleId, v.lifecycleId)),
);
// the patients of the lifecycle's claims: a payment's patient is its claim's
const readLifecyclePatients = compiled((db, v: OfLifecycle) =>
  db
    .selectDistinct({ id: patients.id, system: patients.system, externalId: patients.externalId })
    .from(patients)
    .innerJoin(claims, eq(claims.patientId, patients.id))
    .where(eq(claims.lifecycleId, v.lifecycleId)),
);

// (a homomorphic map over a tuple type parameter maps its elements only)
export type ResultsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };
export type LifecycleRows = ResultsOf<ReturnType<typeof lifecycleReads>>;

/** The state the reads' rows describe. */
export function lifecycleState(lifecycleId: string, rows: LifecycleRows): LifecycleState {
  const [lc, claimRows, idRows, remitRows, payments, allocationsIn, creditRows, outRows, patientRows] = rows;
  const credits = creditRows.map((r) => r.credit);
  const allocationsOut = outRows.map((r) => r.allocation).filter((a) => !a.reversedAt);
  const allocationsReversed = outRows.map((r) => r.allocation).filter((a) => !!a.reversedAt);
  const row = lc[0];
  return {
    lifecycleId,
    mergedInto: row?.mergedInto ?? null,
    exists: !!row,
    claimIds: claimRows.map((c) => c.id),
    billId: row?.billId ?? null,
    claims: claimRows.map((c) => ({ id: c.id, createdAt: c.createdAt, patientId: c.patientId })),
    versions: claimRows.map((c) => ({
      claimId: c.id,
      keys: idRows.filter((i) => i.claimId === c.id).map((i) => `${i.system}|${i.value}`),
      replaces: JSON.parse(c.replaces) as string[],
      frequency: c.frequency,
      created: c.claimCreated ?? "",
    })),
    remits: remitRows.map((r) => ({
      id: r.id,
      claimId: r.claimId ?? "",
      kind: r.withdrawn ? "withdrawn" : (r.kind as RemitFact["kind"]),
      provisional: r.provisional,
      reversal: r.reversal,
      payerKey: r.payerKey,
      identity: r.identity,
      cobRank: r.cobRank,
      cobPayers: r.cobPayers,
      amounts: r.amounts,
      versionAt: r.versionAt,
      responsibilityCents: r.patientResponsibilityCents,
      paidByPatientCents: r.paidByPatientCents,
    })),
    payments,
    credits,
    allocationsOut,
    allocationsReversed,
    allocationsIn,
    patientPaid: new Map(claimRows.map((c) => [c.id, c.paid])),
    reconciliation: {
      fhirClaimIds: new Map(idRows.filter((i) => i.system === ID_SYSTEM.fhirClaim).map((i) => [i.claimId, i.value])),
      patientRefs: new Map(patientRows.map((p) => [p.id, p.system === "fhir-patient" ? `Patient/${p.externalId}` : `Patient/${p.id}`])),
    },
    summary: {
      responsibilityCents: row?.responsibilityCents ?? null,
      provisional: row?.responsibilityProvisional ?? false,
      appliedCents: row?.appliedCents ?? 0,
      currentClaimId: row?.currentClaimId ?? null,
    },
  };
}

export interface Computed {
  responsibility: Responsibility;
  ledger: Ledger;
}

/** What the lifecycle's remits make the patient responsible for (no ledger). */
export const responsibilityOf = (state: LifecycleState): Responsibility => lifecycleResponsibility(state.versions, state.remits);

/** The ledger the state implies (src/domain/lifecycle-money.ts). */
export function compute(state: LifecycleState): Computed {
  const responsibility = responsibilityOf(state);
  const outByPayment = new Map<string, number>();
  for (const a of state.allocationsOut) {
    const credit = state.credits.find((c) => c.id === a.creditId);
    if (credit) outByPayment.set(credit.sourcePaymentId, (outByPayment.get(credit.sourcePaymentId) ?? 0) + a.amountCents);
  }
  const live = state.payments.filter((p) => p.status === "applied");
  const l = ledger(
    responsibility.capCents ?? 0,
    live.map((p) => ({ key: p.traceKey, amountCents: p.amountCents, paymentDate: p.paymentDate, allocatedOutCents: outByPayment.get(p.id) ?? 0 })),
    state.allocationsIn.map((a) => ({ id: a.id, amountCents: a.amountCents })),
  );
  return { responsibility, ledger: l };
}

export interface ReconciliationContext {
  fhirClaimIds: Map<string, string | null>;
  patientRefs: Map<string | null, string | null>;
}

export type Statement = Parameters<Db["batch"]>[0][number];

/**
 * The ledger the facts imply, applied: the state the object keeps next, and the statements that bring D1
 * to it: each payment's applied share and credit, the credit rows (created once, with
 * patient_credit.created once per payment), reconciliations, `patient_paid` on every claim of the
 * lifecycle, and the lifecycle's figures. Nothing for what is already right.
 */
export function ledgerChanges(db: Db, state: LifecycleState, computed: Computed, now = nowIso()): { state: LifecycleState; writes: Statement[] } {
  const ctx = state.reconciliation;
  const out: Statement[] = [];
  const outByCredit = new Map<string, number>();
  for (const a of state.allocationsOut) outByCredit.set(a.creditId, (outByCredit.get(a.creditId) ?? 0) + a.amountCents);
  const payments: PaymentRow[] = [];
  const credits = [...state.credits];
  // each payment's credit by position, found once (a search per payment made every operation quadratic in
  // the lifecycle's payments)
  const creditAt = new Map<string, number>();
  credits.forEach((c, i) => creditAt.has(c.sourcePaymentId) || creditAt.set(c.sourcePaymentId, i));

  for (const p of state.payments) {
    const share = computed.ledger.payments.get(p.traceKey);
    const applied = p.status === "applied" ? (share?.appliedCents ?? 0) : 0;
    const creditCents = p.status === "applied" ? (share?.creditCents ?? p.amountCents) : 0;
    const creditIndex = creditAt.get(p.id) ?? -1;
    const credit = creditIndex >= 0 ? credits[creditIndex] : undefined;
    if (p.status === "applied" && (p.appliedCents !== applied || p.excessCents !== creditCents)) {
      out.push(setPaymentShare(db, { id: p.id, appliedCents: applied, excessCents: creditCents }));
      out.push(reconciliationWrite(db, p, applied, creditCents, "active", ctx, now));
      payments.push({ ...p, appliedCents: applied, excessCents: creditCents });
    } else payments.push(p);
    if (p.status !== "applied") continue;
    const allocated = credit ? (outByCredit.get(credit.id) ?? 0) : 0;
    const remaining = Math.max(0, creditCents - allocated);
    const status = creditCents === 0 && allocated === 0 ? "reapplied" : remaining === 0 ? "allocated" : allocated > 0 ? "partially_allocated" : "unallocated";
    if (!credit && creditCents > 0) {
      const created: CreditRow = { id: newId("crd"), patientId: p.patientId, sourcePaymentId: p.id, amountCents: creditCents, remainingCents: remaining, status, createdAt: now, updatedAt: now };
      credits.push(created);
      out.push(
        insertCredit(db, created),
        domainEventInsert(db, p.id, {
          type: "patient_credit.created",
          claimId: p.claimId,
          lifecycleId: state.lifecycleId,
          payload: { creditId: created.id, patientId: p.patientId, amount: centsToAmount(creditCents), sourcePaymentId: p.id, billId: p.billId },
        }, now),
      );
    } else if (credit && (credit.amountCents !== creditCents || credit.remainingCents !== remaining || credit.status !== status)) {
      credits[creditIndex] = { ...credit, amountCents: creditCents, remainingCents: remaining, status, updatedAt: now };
      out.push(setCredit(db, { id: credit.id, amountCents: creditCents, remainingCents: remaining, status, updatedAt: now }));
    }
  }

  const applied = computed.ledger.appliedCents;
  if ([...state.patientPaid.values()].some((paid) => paid !== applied)) {
    out.push(setPatientPaid(db, { lifecycleId: state.lifecycleId, patientPaidCents: applied, updatedAt: now }));
  }
  const r = computed.responsibility;
  const s = state.summary;
  if (s.responsibilityCents !== r.cents || s.provisional !== r.provisional || s.appliedCents !== applied || s.currentClaimId !== r.currentClaimId) {
    out.push(setFigures(db, { lifecycleId: state.lifecycleId, responsibilityCents: r.cents, responsibilityProvisional: r.provisional, appliedCents: applied, currentClaimId: r.currentClaimId }));
  }
  const next: LifecycleState = {
    ...state,
    payments,
    credits,
    patientPaid: new Map([...state.patientPaid.keys()].map((id) => [id, applied])),
    summary: { responsibilityCents: r.cents, provisional: r.provisional, appliedCents: applied, currentClaimId: r.currentClaimId },
  };
  return { state: next, writes: out };
}

/** The claim a bill id names in this lifecycle: the claim carrying it as an identifier, else the lifecycle's latest claim. */
export function claimForBillIn(state: LifecycleState, billId: string): LifecycleState["claims"][number] | null {
  const key = `${CLAIM_ID_SYSTEM}|${billId}`;
  const tagged = state.versions.find((v) => v.keys.includes(key));
  if (tagged) return state.claims.find((c) => c.id === tagged.claimId) ?? null;
  if (state.billId !== billId) return null;
  let latest: LifecycleState["claims"][number] | null = null;
  for (const c of state.claims) if (!latest || c.createdAt > latest.createdAt || (c.createdAt === latest.createdAt && c.id > latest.id)) latest = c;
  return latest;
}

/** The state as the object stores it (JSON: its maps as entry lists). */
export function serializeState(state: LifecycleState): string {
  return JSON.stringify({
    ...state,
    patientPaid: [...state.patientPaid],
    reconciliation: { fhirClaimIds: [...state.reconciliation.fhirClaimIds], patientRefs: [...state.reconciliation.patientRefs] },
  });
}

export function deserializeState(text: string): LifecycleState {
  const raw = JSON.parse(text);
  return {
    ...raw,
    patientPaid: new Map(raw.patientPaid),
    reconciliation: { fhirClaimIds: new Map(raw.reconciliation.fhirClaimIds), patientRefs: new Map(raw.reconciliation.patientRefs) },
  };
}

/** The FHIR PaymentReconciliation of one payment, as it stands in the ledger. */
export function reconciliationResource(p: PaymentRow, appliedCents: number, creditCents: number, status: "active" | "cancelled", ctx: ReconciliationContext, now: string) {
  return paymentReconciliation({
    paymentId: p.id,
    claimId: p.claimId,
    fhirClaimId: ctx.fhirClaimIds.get(p.claimId) ?? null,
    patientRef: ctx.patientRefs.get(p.patientId) ?? null,
    amountCents: p.amountCents,
    appliedCents,
    excessCents: creditCents,
    paymentDate: p.paymentDate,
    traceId: p.traceId,
    method: p.paymentMethod,
    created: p.createdAt,
    status,
    lastUpdated: now,
  });
}

export function reconciliationWrite(db: Db, p: PaymentRow, appliedCents: number, creditCents: number, status: "active" | "cancelled", ctx: ReconciliationContext, now: string) {
  const resource = JSON.stringify(reconciliationResource(p, appliedCents, creditCents, status, ctx, now));
  return upsertReconciliation(db, { id: newId("prc"), paymentId: p.id, claimId: p.claimId, resource, updatedAt: now });
}

// The statements every payment, reversal and reconcile queues, built once per isolate (src/db/compiled.ts):
// the object turns each into SQL text for its outbox, and drizzle would otherwise build that text anew.
const upsertReconciliation = compiled((db, v: { id: string; paymentId: string; claimId: string; resource: string; updatedAt: string }) =>
  db
    .insert(paymentReconciliations)
    .values({ id: v.id, paymentId: v.paymentId, claimId: v.claimId, resource: v.resource, updatedAt: v.updatedAt })
    .onConflictDoUpdate({ target: paymentReconciliations.paymentId, set: excluded(paymentReconciliations, ["resource", "claimId", "updatedAt"]) }),
);
const setPaymentShare = compiled((db, v: { id: string; appliedCents: number; excessCents: number }) =>
  db.update(patientPaymentDetails).set({ appliedCents: v.appliedCents, excessCents: v.excessCents }).where(eq(patientPaymentDetails.id, v.id)),
);
const insertCredit = compiled((db, v: CreditRow) => db.insert(patientCredits).values(everyColumn(patientCredits, v)));
const setCredit = compiled((db, v: Pick<CreditRow, "id" | "amountCents" | "remainingCents" | "status" | "updatedAt">) =>
  db.update(patientCredits).set({ amountCents: v.amountCents, remainingCents: v.remainingCents, status: v.status, updatedAt: v.updatedAt }).where(eq(patientCredits.id, v.id)),
);
const setPatientPaid = compiled((db, v: { lifecycleId: string; patientPaidCents: number; updatedAt: string }) =>
  db.update(claims).set({ patientPaidCents: v.patientPaidCents, updatedAt: v.updatedAt }).where(eq(claims.lifecycleId, v.lifecycleId)),
);
const setFigures = compiled((db, v: { lifecycleId: string; responsibilityCents: number | null; responsibilityProvisional: boolean; appliedCents: number; currentClaimId: string | null }) =>
  db
    .update(claimLifecycles)
    .set({ responsibilityCents: v.responsibilityCents, responsibilityProvisional: v.responsibilityProvisional, appliedCents: v.appliedCents, currentClaimId: v.currentClaimId })
    .where(eq(claimLifecycles.id, v.lifecycleId)),
);
