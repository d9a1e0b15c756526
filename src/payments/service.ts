import { eq } from "drizzle-orm";
import { findClaimByIdentifier } from "../claims/read";
import { CLAIM_ID_SYSTEM } from "../claims/resolve";
import type { Db } from "../db/client";
import { claims, patientPaymentDetails } from "../db/schema";
import { centsToDecimalString } from "../domain/money";
import { paymentTraceKey } from "../domain/payment";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { answerFor, type Moved, type PaymentOutcome, type PaymentResult, type ReversalOutcome } from "../lifecycle/operations";

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
  const claimId = await findClaimByIdentifier(db, CLAIM_ID_SYSTEM, billId);
  const [claim] = claimId
    ? await db.select({ id: claims.id, lifecycleId: claims.lifecycleId, patientId: claims.patientId }).from(claims).where(eq(claims.id, claimId))
    : [];
  if (!claim) throw new ApiError(404, "CLAIM_NOT_FOUND", `No claim has the claim-id identifier ${billId}.`);
  return claim;
}

const traceConflict = (traceId: string | null, r: { billId: string; amountCents: number }) =>
  new ApiError(
    409,
    "TRACE_ID_CONFLICT",
    `The paymentTraceId ${traceId ?? ""} was already used for a payment of ${centsToDecimalString(r.amountCents)} on another bill or with another amount; a trace id names one payment.`,
  );

function paymentOrThrow(result: PaymentResult, traceId: string | null): PaymentOutcome | Moved {
  switch (result.outcome) {
    case "applied":
      return result.payment;
    case "no_claim_response":
      throw new ApiError(409, "NO_CLAIM_RESPONSE", "The claim has no ClaimResponse yet, so the patient's responsibility is unknown.");
    case "trace_conflict":
      throw traceConflict(traceId, result);
    case "moved":
      return result;
  }
}

/**
 * Looks the claim up by bill id and applies the payment in its lifecycle's Durable Object. A trace id
 * names one payment globally: seen before with the same bill and amount, the first answer comes back;
 * with another bill or amount it is 409 TRACE_ID_CONFLICT.
 */
export async function applyPatientPayment(env: Env, db: Db, req: PatientPaymentRequest): Promise<PaymentOutcome> {
  const traceKey = paymentTraceKey(req);
  const [seen] = await db.select().from(patientPaymentDetails).where(eq(patientPaymentDetails.traceKey, traceKey));
  if (seen) {
    const r = paymentOrThrow(answerFor(seen, req), req.traceId);
    if (!("outcome" in r)) return r;
  }
  for (let move = 0; move <= MAX_MOVES; move++) {
    const claim = await claimForBill(db, req.billId);
    const result = await lifecycleStub(env, claim.lifecycleId).applyPayment({
      lifecycleId: claim.lifecycleId,
      claimId: claim.id,
      billId: req.billId,
      patientId: claim.patientId,
      traceKey,
      traceId: req.traceId,
      amountCents: req.amountCents,
      paymentDate: req.paymentDate,
      paymentMethod: req.paymentMethod,
      source: req.source,
      eventId: req.eventId,
    });
    const r = paymentOrThrow(result as PaymentResult, req.traceId);
    if (!("outcome" in r)) return r;
  }
  throw new ApiError(503, "LIFECYCLE_MOVING", "The claim's lifecycle is being merged; retry.", undefined, { "Retry-After": "1" });
}

/** Recomputes a lifecycle's ledger from its facts (after a remit, a claim version or a merge). */
export async function reconcileLifecycle(env: Env, lifecycleId: string): Promise<void> {
  let id: string | null = lifecycleId;
  for (let move = 0; id && move <= MAX_MOVES; move++) {
    const result = await lifecycleStub(env, id).reconcile(id);
    id = "outcome" in result ? result.lifecycleId : null;
  }
}

/** Undoes a payment by its trace id; lifecycles its credit was allocated to give that money back. */
export async function reversePatientPayment(env: Env, db: Db, traceId: string): Promise<ReversalOutcome> {
  const traceKey = `trace:${traceId}`;
  for (let move = 0; move <= MAX_MOVES; move++) {
    const [payment] = await db
      .select({ lifecycleId: patientPaymentDetails.lifecycleId })
      .from(patientPaymentDetails)
      .where(eq(patientPaymentDetails.traceKey, traceKey));
    if (!payment) break;
    const result = await lifecycleStub(env, payment.lifecycleId).reversePayment({ lifecycleId: payment.lifecycleId, traceKey });
    if (result.outcome === "moved") continue;
    if (result.outcome === "payment_not_found") break;
    for (const other of result.reversal.allocationLifecycles) await reconcileLifecycle(env, other);
    return result.reversal;
  }
  throw new ApiError(404, "PAYMENT_NOT_FOUND", `No payment with trace id ${traceId}.`);
}

export const today = () => new Date().toISOString().slice(0, 10);
