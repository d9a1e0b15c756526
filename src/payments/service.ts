import { eq } from "drizzle-orm";
import { claimOfBill } from "../claims/read";
import type { LifecycleHooks } from "../claims/resolve";
import { database, type Db } from "../db/client";
import { claimLifecycles, patientPaymentDetails } from "../db/schema";
import { centsToDecimalString } from "../domain/money";
import { paymentTraceKey } from "../domain/payment";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { isolateCache } from "../isolate-cache";
import type { FlushNowResult } from "../lifecycle/claim-lifecycle";
import { type PaymentOutcome, type PaymentResult, type ReversalOutcome } from "../lifecycle/operations";
import { reconcileUnheld } from "../lifecycle/unheld";
import { claimTrace, releaseTrace, traceHolder, type TraceClaim, type TraceClaimInput } from "./trace-claims";

export interface PatientPaymentRequest {
  billId: string;
  amountCents: number;
  /** YYYY-MM-DD or an ISO date-time */
  paymentDate: string;
  paymentMethod: string | null;
  traceId: string | null;
  source: "cair" | "stripe";
  /** The stored partner event the payment came in. */
  eventId: string | null;
}

export const lifecycleStub = (env: Env, lifecycleId: string) => env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lifecycleId));

/** How many merges a caller follows before giving up (a lifecycle merged while a call was on its way). */
const MAX_MOVES = 3;

/** The claim a bill id names (the lifecycle's latest claim), or 404 CLAIM_NOT_FOUND. */
export async function claimForBill(db: Db, billId: string) {
  const claim = await claimOfBill(db, billId);
  if (!claim) throw claimNotFound(billId);
  return claim;
}

const claimNotFound = (billId: string) => new ApiError(404, "CLAIM_NOT_FOUND", `No claim has the claim-id identifier ${billId}.`);

/**
 * Which lifecycle a bill id names, per isolate: a payment needs no D1 read to find its lifecycle object.
 * Safe to keep for a while because the object checks: a lifecycle merged away answers `moved` (with where
 * to), and one that does not hold the bill answers `claim_not_found`, and either way the entry is read again.
 */
const billLifecycles = isolateCache<string>(10_000);
const BILL_CACHE_TTL_SECONDS = 300;

const lifecycleForBill = (db: Db, billId: string) => billLifecycles.get(billId, BILL_CACHE_TTL_SECONDS, async () => (await claimForBill(db, billId)).lifecycleId);

const traceConflict = (traceId: string | null, r: { billId: string; amountCents: number }) =>
  new ApiError(
    409,
    "TRACE_ID_CONFLICT",
    `The paymentTraceId ${traceId ?? ""} was already used for a payment of ${centsToDecimalString(r.amountCents)} on another bill or with another amount; a trace id names one payment.`,
  );

export interface AppliedPayment {
  payment: PaymentOutcome;
  /** False when the trace id had been applied before and this is its first answer again. */
  recorded: boolean;
}

/** The trace id a payment takes (null without one: its key then names bill and amount, so only its own lifecycle could hold it). */
export function traceClaimOf(req: Pick<PatientPaymentRequest, "traceId" | "billId" | "amountCents" | "paymentDate" | "paymentMethod">): TraceClaimInput | null {
  return req.traceId ? { traceKey: paymentTraceKey(req), billId: req.billId, amountCents: req.amountCents } : null;
}

/**
 * Applies the payment in its lifecycle's Durable Object, which answers from the money it holds (no D1
 * on the way; D1 follows through the object's outbox). A trace id names one payment globally
 * (src/payments/trace-claims.ts): seen before with the same bill and amount, the first answer comes back;
 * with another bill or amount it is 409 TRACE_ID_CONFLICT. `taken` is the trace claim already made with
 * the payment's event; without it (a payment re-applied from its stored event) it is made here.
 */
export async function applyPatientPayment(env: Env, db: Db, req: PatientPaymentRequest, taken?: TraceClaim | null): Promise<AppliedPayment> {
  const claim = traceClaimOf(req);
  const traceKey = claim?.traceKey ?? paymentTraceKey(req);
  let registered = false;
  try {
    if (claim) {
      const outcome = taken ?? (await claimTrace(env.DB, claim));
      if (outcome.outcome === "conflict") throw traceConflict(req.traceId, outcome);
      registered = outcome.outcome === "new";
    }
    return await applyInLifecycle(env, db, req, traceKey);
  } catch (e) {
    // a refused payment gives its trace id back, so the id may name this or another bill later
    if (registered && claim && e instanceof ApiError) await releaseTrace(db, claim);
    throw e;
  }
}

/** The payment in its bill's lifecycle object, following merges and a stale bill → lifecycle entry. */
async function applyInLifecycle(env: Env, db: Db, req: PatientPaymentRequest, traceKey: string): Promise<AppliedPayment> {
  let lifecycleId = await lifecycleForBill(db, req.billId);
  let fresh = false;
  for (let move = 0; move <= MAX_MOVES; move++) {
    const result: PaymentResult = await lifecycleStub(env, lifecycleId).applyPayment({
      lifecycleId,
      billId: req.billId,
      traceKey,
      traceId: req.traceId,
      amountCents: req.amountCents,
      paymentDate: req.paymentDate,
      paymentMethod: req.paymentMethod,
      source: req.source,
      eventId: req.eventId,
    });
    switch (result.outcome) {
      case "applied":
        return { payment: result.payment, recorded: result.recorded };
      case "no_claim_response":
        throw new ApiError(409, "NO_CLAIM_RESPONSE", "The claim has no ClaimResponse yet, so the patient's responsibility is unknown.");
      case "trace_conflict":
        throw traceConflict(req.traceId, result);
      case "claim_not_found":
      case "moved": {
        billLifecycles.invalidate(req.billId);
        if (result.outcome === "moved" && result.lifecycleId) {
          lifecycleId = result.lifecycleId;
          continue;
        }
        // the cached lifecycle no longer holds the bill: read it again once
        if (fresh) throw claimNotFound(req.billId);
        fresh = true;
        lifecycleId = await lifecycleForBill(db, req.billId);
        continue;
      }
    }
  }
  throw new ApiError(503, "LIFECYCLE_MOVING", "The claim's lifecycle is being merged; retry.", undefined, { "Retry-After": "1" });
}

/** Recomputes a lifecycle's ledger from its facts (after a remit, a claim version or a merge). */
export async function reconcileLifecycle(env: Env, lifecycleId: string): Promise<void> {
  // a lifecycle no object holds yet (no money) is brought in line without waking one (src/lifecycle/unheld.ts)
  const [left] = await reconcileUnheld(database(env.DB), [lifecycleId]);
  if (left) await reconcileThroughObject(env, left);
}

/** The lifecycle's object reloads its facts and moves its ledger (following merges). */
export async function reconcileThroughObject(env: Env, lifecycleId: string): Promise<void> {
  let id: string | null = lifecycleId;
  for (let move = 0; id && move <= MAX_MOVES; move++) {
    const result = await lifecycleStub(env, id).reconcile(id);
    id = "outcome" in result ? result.lifecycleId : null;
  }
}

/** Undoes a payment by its trace id; lifecycles its credit was allocated to give that money back. */
export async function reversePatientPayment(env: Env, db: Db, traceId: string): Promise<ReversalOutcome> {
  const traceKey = `trace:${traceId}`;
  // payment_traces knows the payment's bill at once (the payment row follows through the lifecycle's
  // outbox); the payment row is the fallback (a bill no longer found).
  const known = await traceHolder(db, traceKey);
  let lifecycleId: string | null = known ? await lifecycleForBill(db, known.billId).catch(() => null) : null;
  if (!lifecycleId) {
    const [payment] = await db.select({ lifecycleId: patientPaymentDetails.lifecycleId }).from(patientPaymentDetails).where(eq(patientPaymentDetails.traceKey, traceKey));
    lifecycleId = payment?.lifecycleId ?? null;
  }
  for (let move = 0; lifecycleId && move <= MAX_MOVES; move++) {
    const result = await lifecycleStub(env, lifecycleId).reversePayment({ lifecycleId, traceKey });
    if (result.outcome === "moved") {
      lifecycleId = result.lifecycleId;
      continue;
    }
    if (result.outcome === "payment_not_found") break;
    for (const other of result.reversal.allocationLifecycles) await reconcileLifecycle(env, other);
    return result.reversal;
  }
  throw new ApiError(404, "PAYMENT_NOT_FOUND", `No payment with trace id ${traceId}.`);
}

/** How far D1 is behind a lifecycle's object: its outbox entries not flushed yet, and the oldest's time. */
export const lifecycleOutbox = (env: Env, lifecycleId: string) => lifecycleStub(env, lifecycleId).outboxStatus();

/**
 * An operator's "send it to D1 now" for a lifecycle whose flushes D1 refused (once the cause is fixed),
 * instead of waiting out the object's back-off. 404 LIFECYCLE_NOT_FOUND for a lifecycle D1 does not know
 * (its object would be a new, empty one).
 */
export async function flushLifecycleNow(env: Env, db: Db, lifecycleId: string): Promise<FlushNowResult> {
  const [known] = await db.select({ id: claimLifecycles.id }).from(claimLifecycles).where(eq(claimLifecycles.id, lifecycleId));
  if (!known) throw new ApiError(404, "LIFECYCLE_NOT_FOUND", `No claim lifecycle ${lifecycleId}.`);
  return lifecycleStub(env, lifecycleId).flushNow();
}

/** What resolving a claim tells the lifecycle objects around a merge (src/claims/resolve.ts). */
export const lifecycleHooks = (env: Env): LifecycleHooks => ({
  beforeFold: (drop, into) => lifecycleStub(env, drop).seal(drop, into),
  afterFold: (into) => reconcileLifecycle(env, into),
  factsChanged: (lifecycleId) => reconcileLifecycle(env, lifecycleId),
});

export const today = () => new Date().toISOString().slice(0, 10);
