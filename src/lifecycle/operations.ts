import { eq } from "drizzle-orm";
import { domainEventInsert, markEventProcessed } from "../claims/write";
import { newId } from "../crypto/ids";
import { nowIso, type Db } from "../db/client";
import { compiled, everyColumn } from "../db/compiled";
import { creditAllocations, patientCredits, patientPaymentDetails } from "../db/schema";
import { centsToAmount } from "../domain/money";
import { claimForBillIn, compute, ledgerChanges, reconciliationWrite, responsibilityOf, type LifecycleState, type PaymentRow, type Statement } from "./store";

// The operations on one lifecycle's money, as steps from the state the ClaimLifecycle object holds: each
// computes the ledger the facts imply (src/domain/lifecycle-money.ts) and returns its outcome, the state
// after it, and the D1 statements that bring D1 there (the object stores the state and queues the
// statements in its outbox in one transaction). No I/O here. They speak domain outcomes; the object runs
// them one at a time, and callers turn outcomes into HTTP.

/** One operation's result: the outcome, and, when it changed anything, the next state and its D1 statements. */
export interface Step<R> {
  result: R;
  next?: LifecycleState;
  writes?: Statement[];
}

export interface PaymentInput {
  lifecycleId: string;
  /** The lifecycle's claim this bill id names is found here, from the object's state. */
  billId: string;
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
  | { outcome: "applied"; payment: PaymentOutcome; /** false: the trace key's first answer again */ recorded: boolean }
  | { outcome: "no_claim_response" }
  | { outcome: "claim_not_found" }
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

/** The ledger the lifecycle's facts imply, from a state just loaded from D1 (after a remit, a merge or a reversal elsewhere). */
export function reconcile(db: Db, state: LifecycleState): Step<MoneySummary | Moved> {
  const gone = moved(state);
  if (gone) return { result: gone, next: state };
  const { state: next, writes } = ledgerChanges(db, state, compute(state));
  return { result: summarize(next), next, writes };
}

export function summary(state: LifecycleState): MoneySummary | Moved {
  return moved(state) ?? summarize(state);
}

/** The answer a payment already stored gives: the first answer for the same bill and amount, else a conflict. */
export function answerFor(row: Pick<PaymentRow, "billId" | "amountCents" | "response">, input: Pick<PaymentInput, "billId" | "amountCents">): PaymentResult {
  if (row.billId !== input.billId || row.amountCents !== input.amountCents) return { outcome: "trace_conflict", billId: row.billId, amountCents: row.amountCents };
  return { outcome: "applied", payment: JSON.parse(row.response ?? "{}") as PaymentOutcome, recorded: false };
}

export function applyPayment(db: Db, state: LifecycleState, input: PaymentInput, now = nowIso()): Step<PaymentResult> {
  const gone = moved(state);
  if (gone) return { result: gone };
  const seen = state.payments.find((p) => p.traceKey === input.traceKey);
  if (seen) return { result: answerFor(seen, input) };
  const claim = claimForBillIn(state, input.billId);
  if (!claim) return { result: { outcome: "claim_not_found" } };
  if (responsibilityOf(state).cents === null) return { result: { outcome: "no_claim_response" } };

  const row: PaymentRow = {
    id: newId("pay"),
    traceKey: input.traceKey,
    traceId: input.traceId,
    claimId: claim.id,
    lifecycleId: state.lifecycleId,
    patientId: claim.patientId,
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
  const withPayment: LifecycleState = { ...state, payments: [...state.payments, row] };
  const computed = compute(withPayment);
  const share = computed.ledger.payments.get(row.traceKey)!;
  row.appliedCents = share.appliedCents;
  row.excessCents = share.creditCents;
  // The ledger for the new state: it creates this payment's credit (and may move others' shares).
  const { state: next, writes } = ledgerChanges(db, withPayment, computed, now);
  const credit = next.credits.find((c) => c.sourcePaymentId === row.id);
  const outcome: PaymentOutcome = {
    paymentId: row.id,
    claimId: claim.id,
    claimLifecycleId: state.lifecycleId,
    amountCents: input.amountCents,
    appliedCents: share.appliedCents,
    excessCents: share.creditCents,
    creditId: credit?.id ?? null,
  };
  const stored = { ...row, response: JSON.stringify(outcome) };
  next.payments = next.payments.map((p) => (p.id === row.id ? stored : p));
  return {
    result: { outcome: "applied", payment: outcome, recorded: true },
    next,
    writes: [
      insertPayment(db, stored),
      reconciliationWrite(db, row, share.appliedCents, share.creditCents, "active", next.reconciliation, now),
      ...writes,
      domainEventInsert(db, row.id, {
        type: "patient_payment.applied",
        claimId: claim.id,
        lifecycleId: state.lifecycleId,
        payload: paymentEventData(input, outcome),
      }, now),
      // the partner event that brought the payment is done when its payment is in D1, not before
      ...(input.eventId
        ? [markEventProcessed(db, { eventId: input.eventId, eventType: "patient_payment.applied", at: now })]
        : []),
    ],
  };
}

// (built once per isolate: every payment queues it, src/db/compiled.ts)
const insertPayment = compiled((db, v: PaymentRow) => db.insert(patientPaymentDetails).values(everyColumn(patientPaymentDetails, v)));

export type DueResult = { outcome: "due"; dueCents: number } | { outcome: "no_claim_response" } | Moved;

/** What the patient still owes on the lifecycle (for allocating a credit to it). */
export function due(state: LifecycleState): DueResult {
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
export function reserveCredit(db: Db, state: LifecycleState, input: ReserveInput, now = nowIso()): Step<ReserveResult> {
  const gone = moved(state);
  if (gone) return { result: gone };
  const credit = state.credits.find((c) => c.id === input.creditId);
  if (!credit) return { result: { outcome: "credit_not_found" } };
  const payment = state.payments.find((p) => p.id === credit.sourcePaymentId);
  const computed = compute(state);
  const creditCents = payment?.status === "applied" ? (computed.ledger.payments.get(payment.traceKey)?.creditCents ?? 0) : 0;
  const allocated = state.allocationsOut.filter((a) => a.creditId === credit.id).reduce((n, a) => n + a.amountCents, 0);
  const take = Math.min(Math.max(0, creditCents - allocated), input.maxCents);
  if (take <= 0) return { result: { outcome: "credit_exhausted" } };

  const allocation = { id: newId("alc"), creditId: credit.id, claimId: input.targetClaimId, lifecycleId: input.targetLifecycleId, amountCents: take, createdAt: now, reversedAt: null };
  const withAllocation: LifecycleState = { ...state, allocationsOut: [...state.allocationsOut, allocation] };
  const left = creditCents - allocated - take;
  const { state: next, writes } = ledgerChanges(db, withAllocation, compute(withAllocation), now);
  return {
    result: { outcome: "reserved", allocationId: allocation.id, allocatedCents: take, creditRemainingCents: left },
    next,
    writes: [
    db.insert(creditAllocations).values(allocation),
    ...writes,
    domainEventInsert(db, allocation.id, {
      type: "patient_credit.allocated",
      claimId: input.targetClaimId,
      lifecycleId: input.targetLifecycleId,
      payload: { creditId: credit.id, allocationId: allocation.id, claimId: input.targetClaimId, amount: centsToAmount(take), creditRemaining: centsToAmount(left) },
    }, now),
    ],
  };
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
export function reversePayment(db: Db, state: LifecycleState, traceKey: string, now = nowIso()): Step<ReversalResult> {
  const lifecycleId = state.lifecycleId;
  const gone = moved(state);
  if (gone) return { result: gone };
  const payment = state.payments.find((p) => p.traceKey === traceKey);
  if (!payment) return { result: { outcome: "payment_not_found" } };
  const credit = state.credits.find((c) => c.sourcePaymentId === payment.id);
  if (payment.status === "reversed") {
    const allocations = credit ? state.allocationsReversed.filter((a) => a.creditId === credit.id) : [];
    return { result: { outcome: "reversed", reversal: reversalOutcome(lifecycleId, payment, credit?.amountCents ?? 0, allocations) } };
  }
  const allocations = credit ? state.allocationsOut.filter((a) => a.creditId === credit.id) : [];
  const reversed: LifecycleState = {
    ...state,
    payments: state.payments.map((p) => (p.id === payment.id ? { ...p, status: "reversed" as const, reversedAt: now } : p)),
    credits: state.credits.map((c) => (c.id === credit?.id ? { ...c, remainingCents: 0, status: "void", updatedAt: now } : c)),
    allocationsOut: state.allocationsOut.filter((a) => !allocations.includes(a)),
    allocationsReversed: [...state.allocationsReversed, ...allocations.map((a) => ({ ...a, reversedAt: now }))],
  };
  const ctx = reversed.reconciliation;
  const creditCents = credit?.amountCents ?? 0;
  const outcome = reversalOutcome(lifecycleId, payment, creditCents, allocations);
  const { state: next, writes } = ledgerChanges(db, reversed, compute(reversed), now);
  return {
    result: { outcome: "reversed", reversal: outcome },
    next,
    writes: [
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
    ...writes,
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
    ],
  };
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
