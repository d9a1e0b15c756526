import { eq } from "drizzle-orm";
import { findClaimByIdentifier } from "../claims/read";
import { CLAIM_ID_SYSTEM } from "../claims/resolve";
import type { Db } from "../db/client";
import { claims, patientPaymentDetails } from "../db/schema";
import { paymentTraceKey } from "../domain/payment";
import type { Env } from "../env";
import { ApiError } from "../errors";
import type { LifecycleResult, PaymentOutcome, ReversalOutcome } from "../lifecycle/claim-lifecycle";

export interface PatientPaymentRequest {
  billId: string;
  amountCents: number;
  /** YYYY-MM-DD or an ISO date-time */
  paymentDate: string;
  paymentMethod: string | null;
  traceId: string | null;
  source: "cair" | "stripe";
}

export const lifecycleStub = (env: Env, lifecycleId: string) => env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lifecycleId));

export function unwrap<T>(result: LifecycleResult<T>): T {
  if (!result.ok) throw new ApiError(result.status, result.code, result.message);
  return result.value;
}

/** The claim a bill id names (the lifecycle's latest claim), or 404 CLAIM_NOT_FOUND. */
export async function claimForBill(db: Db, billId: string) {
  const claimId = await findClaimByIdentifier(db, CLAIM_ID_SYSTEM, billId);
  const [claim] = claimId
    ? await db.select({ id: claims.id, lifecycleId: claims.lifecycleId, patientId: claims.patientId }).from(claims).where(eq(claims.id, claimId))
    : [];
  if (!claim) throw new ApiError(404, "CLAIM_NOT_FOUND", `No claim has the claim-id identifier ${billId}.`);
  return claim;
}

/** Looks the claim up by bill id and applies the payment in its lifecycle's Durable Object. */
export async function applyPatientPayment(env: Env, db: Db, req: PatientPaymentRequest): Promise<PaymentOutcome> {
  const claim = await claimForBill(db, req.billId);
  const result = await lifecycleStub(env, claim.lifecycleId).applyPayment({
    lifecycleId: claim.lifecycleId,
    claimId: claim.id,
    billId: req.billId,
    patientId: claim.patientId,
    traceKey: paymentTraceKey({ ...req, amountCents: req.amountCents }),
    traceId: req.traceId,
    amountCents: req.amountCents,
    paymentDate: req.paymentDate,
    paymentMethod: req.paymentMethod,
    source: req.source,
  });
  return unwrap(result as LifecycleResult<PaymentOutcome>);
}

/** Undoes a payment by its trace id, in the lifecycle's Durable Object. */
export async function reversePatientPayment(env: Env, db: Db, traceId: string): Promise<ReversalOutcome> {
  const traceKey = `trace:${traceId}`;
  const [payment] = await db
    .select({ lifecycleId: patientPaymentDetails.lifecycleId })
    .from(patientPaymentDetails)
    .where(eq(patientPaymentDetails.traceKey, traceKey));
  if (!payment) throw new ApiError(404, "PAYMENT_NOT_FOUND", `No payment with trace id ${traceId}.`);
  const result = await lifecycleStub(env, payment.lifecycleId).reversePayment({ lifecycleId: payment.lifecycleId, traceKey });
  return unwrap(result as LifecycleResult<ReversalOutcome>);
}

export const today = () => new Date().toISOString().slice(0, 10);
