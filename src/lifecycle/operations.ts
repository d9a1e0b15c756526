import { eq } from "drizzle-orm";
import { domainEventInsert } from "../claims/write";
import { newId } from "../crypto/ids";
import { nowIso, type Db } from "../db/client";
import { creditAllocations, patientCredits, patientPaymentDetails } from "../db/schema";
import { centsToAmount } from "../domain/money";
import { log } from "../log";
import { compute, ledgerWrites, loadLifecycle, reconciliationWrite, type LifecycleState, type PaymentRow } from "./store";

// The operations on one lifecycle's money. Each loads the lifecycle from D1, computes the ledger the
// facts imply (src/domain/lifecycle-money.ts) and writes the difference in one atomic batch. They speak
// domain outcomes; the ClaimLifecycle object runs them one at a time, and callers turn outcomes into HTTP.

export interface PaymentInput {
  lifecycleId: string;
  claimId: string;
  billId: string;
  patientId: string | null;
  traceKey: string;
  traceId: string | null;
  amountCents: number;
  paymentDate: string;
  paymentMethod: string | null;
  source: string;
  /** The partner event that brought the payment (what an operator's event page lists it under). */
  eventId: string | null;
}

export interface PaymentOutcome {
  paymentId: string;
  claimId: string;
  claimLifecycleId: string;
  amountCents: number;
  appliedCents: number;
  excessCents: number;
  creditId: string | null;
}

/** The lifecycle was folded into another by a merge: the caller retries there. */
export type Moved = { outcome: "moved"; lifecycleId: string | null };

export type PaymentResult =
  | { outcome: "applied"; payment: PaymentOutcome }
  | { outcome: "no_claim_response" }
  | { outcome: "trace_conflict"; billId: string; amountCents: number }
  | Moved;

export interface MoneySummary {
  lifecycleId: string;
  responsibilityCents: number | null;
  provisional: boolean;
  capCents: number | null;
  appliedCents: number;
  creditCents: number;
  paymentCount: number;
}

const moved = (state: LifecycleState): Moved | null => (!state.exists || state.mergedInto ? { outcome: "moved", lifecycleId: state.mergedInto } : null);

function summarize(state: LifecycleState): MoneySummary {
  const c = compute(state);
  let credit = 0;
  for (const share of c.ledger.payments.values()) credit += share.creditCents;
  return {
    lifecycleId: state.lifecycleId,
    responsibilityCents: c.responsibility.cents,
    provisional: c.responsibility.provisional,
    capCents: c.responsibility.capCents,
    appliedCents: c.ledger.appliedCents,
    creditCents: credit,
    paymentCount: state.payments.filter((p) => p.status === "applied").length,
  };
}

/** Brings D1 to the ledger the lifecycle's facts imply (after a remit, a merge or a reversal elsewhere). */
export async function reconcile(db: Db, lifecycleId: string): Promise<MoneySummary | Moved> {
  const state = await loadLifecycle(db, lifecycleId);
  const gone = moved(state);
  if (gone) return gone;
  const writes = ledgerWrites(db, state, compute(state));
  if (writes.length) await db.batch(writes as [(typeof writes)[number], ...typeof writes]);
  return summarize(state);
}

export async function summary(db: Db, lifecycleId: string): Promise<MoneySummary | Moved> {
  const state = await loadLifecycle(db, lifecycleId);
  return moved(state) ?? summarize(state);
}

/** The answer a payment already stored gives: the first answer for the same bill and amount, else a conflict. */
export function answerFor(row: Pick<PaymentRow, "billId" | "amountCents" | "response">, input: Pick<PaymentInput, "billId" | "amountCents">): PaymentResult {
  if (row.billId !== input.billId || row.amountCents !== input.amountCents) return { outcome: "trace_conflict", billId: row.billId, amountCents: row.amountCents };
  return { outcome: "applied", payment: JSON.parse(row.response ?? "{}") as PaymentOutcome };
}

export async function applyPayment(db: Db, input: PaymentInput): Promise<PaymentResult> {
  const state = await loadLifecycle(db, input.lifecycleId);
  const gone = moved(state);
  if (gone) return gone;
  const seen = state.payments.find((p) => p.traceKey === input.traceKey);
  if (seen) return answerFor(seen, input);
  if (compute(state).responsibility.cents === null) return { outcome: "no_claim_response" };

  const now = nowIso();
  const row: PaymentRow = {
    id: newId("pay"),
    traceKey: input.traceKey,
    traceId: input.traceId,
    claimId: input.claimId,
    lifecycleId: input.lifecycleId,
    patientId: input.patientId,
    billId: input.billId,
    amountCents: input.amountCents,
    appliedCents: 0,
    excessCents: 0,
    paymentDate: input.paymentDate,
    paymentMethod: input.paymentMethod,
    source: input.source,
    status: "applied",
    response: null,
    eventId: input.eventId,
    createdAt: now,
    reversedAt: null,
  };
  const next: LifecycleState = { ...state, payments: [...state.payments, row] };
  const computed = compute(next);
  const share = computed.ledger.payments.get(row.traceKey)!;
  row.appliedCents = share.appliedCents;
  row.excessCents = share.creditCents;
  const outcome: PaymentOutcome = {
    paymentId: row.id,
    claimId: input.claimId,
    claimLifecycleId: input.lifecycleId,
    amountCents: input.amountCents,
    appliedCents: share.appliedCents,
    excessCents: share.creditCents,
    creditId: null,
  };
  const ctx = next.reconciliation;
  // The ledger writes for the new state: they create this payment's credit (and may move others' shares).
  const writes = ledgerWrites(db, next, computed, now);
  const stored = { ...row, response: JSON.stringify(outcome) };
  try {
    await db.batch([
      db.insert(patientPaymentDetails).values(stored),
      reconciliationWrite(db, row, share.appliedCents, share.creditCents, "active", ctx, now),
      ...writes,
      domainEventInsert(db, row.id, {
        type: "patient_payment.applied",
        claimId: input.claimId,
        lifecycleId: input.lifecycleId,
        payload: paymentEventData(input, outcome),
      }, now),
    ]);
  } catch (e) {
    if (!String((e as Error)?.message).includes("UNIQUE constraint failed: patient_payment_details.trace_key")) throw e;
    // The same trace id was stored meanwhile (on this bill through a retry, or on another bill).
    const [existing] = await db.select().from(patientPaymentDetails).where(eq(patientPaymentDetails.traceKey, input.traceKey));
    if (!existing) throw e;
    return answerFor(existing, input);
  }
  const [credit] = share.creditCents > 0 ? await db.select({ id: patientCredits.id }).from(patientCredits).where(eq(patientCredits.sourcePaymentId, row.id)) : [];
  log.info("payment.applied", { paymentId: row.id, lifecycleId: input.lifecycleId, amountCents: input.amountCents, appliedCents: share.appliedCents, excessCents: share.creditCents });
  return { outcome: "applied", payment: { ...outcome, creditId: credit?.id ?? null } };
}

export type DueResult = { outcome: "due"; dueCents: number } | { outcome: "no_claim_response" } | Moved;

/** What the patient still owes on the lifecycle (for allocating a credit to it). */
export async function due(db: Db, lifecycleId: string): Promise<DueResult> {
  const state = await loadLifecycle(db, lifecycleId);
  const gone = moved(state);
  if (gone) return gone;
  const c = compute(state);
  if (c.responsibility.cents === null) return { outcome: "no_claim_response" };
  return { outcome: "due", dueCents: Math.max(0, (c.responsibility.capCents ?? 0) - c.ledger.appliedCents) };
}

export interface ReserveInput {
  /** The lifecycle whose payment made the credit (this object's). */
  lifecycleId: string;
  creditId: string;
  maxCents: number;
  targetClaimId: string;
  targetLifecycleId: string;
}

export type ReserveResult =
  | { outcome: "reserved"; allocationId: string; allocatedCents: number; creditRemainingCents: number }
  | { outcome: "credit_not_found" }
  | { outcome: "credit_exhausted" }
  | Moved;

/**
 * Takes up to `maxCents` of a credit for another lifecycle. It runs in the credit's own lifecycle, the
 * one that decides how much of its payments is credit, so an allocation and a change of that credit can
 * never interleave.
 */
export async function reserveCredit(db: Db, input: ReserveInput): Promise<ReserveResult> {
  const state = await loadLifecycle(db, input.lifecycleId);
  const gone = moved(state);
  if (gone) return gone;
  const credit = state.credits.find((c) => c.id === input.creditId);
  if (!credit) return { outcome: "credit_not_found" };
  const payment = state.payments.find((p) => p.id === credit.sourcePaymentId);
  const computed = compute(state);
  const creditCents = payment?.status === "applied" ? (computed.ledger.payments.get(payment.traceKey)?.creditCents ?? 0) : 0;
  const allocated = state.allocationsOut.filter((a) => a.creditId === credit.id).reduce((n, a) => n + a.amountCents, 0);
  const take = Math.min(Math.max(0, creditCents - allocated), input.maxCents);
  if (take <= 0) return { outcome: "credit_exhausted" };

  const now = nowIso();
  const allocation = { id: newId("alc"), creditId: credit.id, claimId: input.targetClaimId, lifecycleId: input.targetLifecycleId, amountCents: take, createdAt: now, reversedAt: null };
  const next: LifecycleState = { ...state, allocationsOut: [...state.allocationsOut, allocation] };
  const left = creditCents - allocated - take;
  await db.batch([
    db.insert(creditAllocations).values(allocation),
    ...ledgerWrites(db, next, compute(next), now),
    domainEventInsert(db, allocation.id, {
      type: "patient_credit.allocated",
      claimId: input.targetClaimId,
      lifecycleId: input.targetLifecycleId,
      payload: { creditId: credit.id, allocationId: allocation.id, claimId: input.targetClaimId, amount: centsToAmount(take), creditRemaining: centsToAmount(left) },
    }, now),
  ]);
  return { outcome: "reserved", allocationId: allocation.id, allocatedCents: take, creditRemainingCents: left };
}

export interface ReversalOutcome {
  paymentId: string;
  claimId: string;
  claimLifecycleId: string;
  removedFromClaimCents: number;
  creditVoidedCents: number;
  creditAlreadyAllocatedCents: number;
  /** Lifecycles whose allocations from this payment's credit were reversed: they reconcile next. */
  allocationLifecycles: string[];
}

export type ReversalResult = { outcome: "reversed"; reversal: ReversalOutcome } | { outcome: "payment_not_found" } | Moved;

/**
 * Undoes a payment: it leaves the set the ledger is computed from. Its credit is voided, and every
 * allocation of that credit to another claim is reversed with it (patient_credit.allocation_reversed),
 * so no claim keeps money the patient no longer paid. Repeating it returns the same answer.
 */
export async function reversePayment(db: Db, lifecycleId: string, traceKey: string): Promise<ReversalResult> {
  const state = await loadLifecycle(db, lifecycleId);
  const gone = moved(state);
  if (gone) return gone;
  const payment = state.payments.find((p) => p.traceKey === traceKey);
  if (!payment) return { outcome: "payment_not_found" };
  const credit = state.credits.find((c) => c.sourcePaymentId === payment.id);
  if (payment.status === "reversed") {
    const allocations = credit ? await db.select().from(creditAllocations).where(eq(creditAllocations.creditId, credit.id)) : [];
    return { outcome: "reversed", reversal: reversalOutcome(lifecycleId, payment, credit?.amountCents ?? 0, allocations) };
  }
  const allocations = credit ? state.allocationsOut.filter((a) => a.creditId === credit.id) : [];
  const now = nowIso();
  const next: LifecycleState = {
    ...state,
    payments: state.payments.map((p) => (p.id === payment.id ? { ...p, status: "reversed" as const, reversedAt: now } : p)),
    allocationsOut: state.allocationsOut.filter((a) => !allocations.includes(a)),
  };
  const ctx = next.reconciliation;
  const creditCents = credit?.amountCents ?? 0;
  const outcome = reversalOutcome(lifecycleId, payment, creditCents, allocations);
  await db.batch([
    db.update(patientPaymentDetails).set({ status: "reversed", reversedAt: now }).where(eq(patientPaymentDetails.id, payment.id)),
    reconciliationWrite(db, payment, payment.appliedCents, payment.excessCents, "cancelled", ctx, now),
    ...(credit ? [db.update(patientCredits).set({ remainingCents: 0, status: "void", updatedAt: now }).where(eq(patientCredits.id, credit.id))] : []),
    ...allocations.flatMap((a) => [
      db.update(creditAllocations).set({ reversedAt: now }).where(eq(creditAllocations.id, a.id)),
      domainEventInsert(db, a.id, {
        type: "patient_credit.allocation_reversed",
        claimId: a.claimId,
        lifecycleId: a.lifecycleId,
        payload: { creditId: a.creditId, allocationId: a.id, claimId: a.claimId, amount: centsToAmount(a.amountCents), reversedPaymentId: payment.id },
      }, now),
    ]),
    ...ledgerWrites(db, next, compute(next), now),
    domainEventInsert(db, payment.id, {
      type: "patient_payment.reversed",
      claimId: payment.claimId,
      lifecycleId,
      payload: {
        paymentId: payment.id,
        claimId: payment.claimId,
        claimLifecycleId: lifecycleId,
        amountRemovedFromClaim: centsToAmount(outcome.removedFromClaimCents),
        creditVoided: centsToAmount(outcome.creditVoidedCents),
        allocationsReversed: centsToAmount(outcome.creditAlreadyAllocatedCents),
      },
    }, now),
  ]);
  log.info("payment.reversed", { paymentId: payment.id, lifecycleId, allocationsReversed: allocations.length });
  return { outcome: "reversed", reversal: outcome };
}

function reversalOutcome(lifecycleId: string, payment: PaymentRow, creditCents: number, allocations: { amountCents: number; lifecycleId: string }[]): ReversalOutcome {
  const allocated = allocations.reduce((n, a) => n + a.amountCents, 0);
  return {
    paymentId: payment.id,
    claimId: payment.claimId,
    claimLifecycleId: lifecycleId,
    removedFromClaimCents: payment.appliedCents,
    creditVoidedCents: Math.max(0, creditCents - allocated),
    creditAlreadyAllocatedCents: allocated,
    allocationLifecycles: [...new Set(allocations.map((a) => a.lifecycleId))].filter((l) => l !== lifecycleId),
  };
}

function paymentEventData(input: PaymentInput, o: PaymentOutcome) {
  return {
    paymentId: o.paymentId,
    claimId: o.claimId,
    claimLifecycleId: o.claimLifecycleId,
    billId: input.billId,
    paymentAmount: centsToAmount(o.amountCents),
    amountSetOnClaim: centsToAmount(o.appliedCents),
    ...(o.excessCents > 0 ? { excessAmount: centsToAmount(o.excessCents) } : {}),
    paymentDate: input.paymentDate,
    paymentMethod: input.paymentMethod,
    paymentTraceId: input.traceId,
  };
}
