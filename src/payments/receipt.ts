import { eq } from "drizzle-orm";
import { database, nowIso } from "../db/client";
import { events } from "../db/schema";
import { markEventProcessed } from "../claims/write";
import { fanOutSafely } from "../delivery/fan-out";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { authenticate, ingest, parseAndValidate, withEvent } from "../ingest/ingest";
import { paymentRequest } from "../partners/cair-patient-payment/adapter";
import { reversalBody, type PatientPaymentBody } from "../partners/cair-patient-payment/schema";
import type { ResolvedSource } from "../sources/repository";
import type { PaymentOutcome, ReversalOutcome } from "../lifecycle/operations";
import { applyPatientPayment, reversePatientPayment, traceClaimOf, type AppliedPayment } from "./service";
import { traceClaimsWithEvents } from "./trace-claims";

type Later = (work: Promise<unknown>) => void;
type RequestLine = { method: string; url: string };

/**
 * A Cair patient payment as received: verified and stored like any partner event, then applied at once in
 * the claim lifecycle's Durable Object, because the partner needs the applied amount in the answer. The
 * event ends `processed` (with the payment, through the lifecycle's outbox); a business refusal (unknown claim, no remit yet) ends it `failed` so the sweep
 * leaves it and a partner retry (a duplicate) applies it then; anything else leaves it pending, and the
 * sweep applies it through the events consumer.
 */
export async function receivePatientPayment(env: Env, source: ResolvedSource, headers: Headers, body: Uint8Array, later: Later, request: RequestLine): Promise<PaymentOutcome> {
  const db = database(env.DB);
  // its trace id is taken in the batch that stores the event: stored and taken commit together
  const stored = await ingest(env, source, headers, body, later, {
    enqueue: false,
    request,
    writesWithEvent: (payload) => {
      const claim = traceClaimOf(paymentRequest(payload as PatientPaymentBody, null));
      return claim ? withEvent(traceClaimsWithEvents, claim) : null;
    },
  });
  let applied: AppliedPayment;
  try {
    applied = await applyPatientPayment(env, db, paymentRequest(stored.payload as PatientPaymentBody, stored.eventId), stored.withEventAnswer);
  } catch (e) {
    const refused = e instanceof ApiError && e.status < 500;
    await db
      .update(events)
      .set({ lastError: e instanceof ApiError ? e.code : "INTERNAL_ERROR", ...(refused ? { status: "failed" as const } : {}) })
      .where(eq(events.id, stored.eventId))
      .catch(() => {});
    throw e;
  }
  // A payment recorded now marks its event processed through the lifecycle's outbox, with the payment
  // row; a repeat's event is done here.
  if (!applied.recorded) {
    await markEventProcessed(db, { eventId: stored.eventId, eventType: "patient_payment.applied", at: nowIso() });
  }
  return applied.payment;
}

/** A reversal by trace id: verified, validated, then undone in the lifecycle's object (its unallocated credit first). */
export async function receivePaymentReversal(env: Env, source: ResolvedSource, headers: Headers, body: Uint8Array, later: Later, request: RequestLine): Promise<ReversalOutcome> {
  await authenticate(source, headers, body, request);
  const { data } = parseAndValidate(body, reversalBody);
  const db = database(env.DB);
  const outcome = await reversePatientPayment(env, db, data.paymentTraceId);
  later(fanOutSafely(env, db));
  return outcome;
}
