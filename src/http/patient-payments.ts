import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { database, nowIso } from "../db/client";
import { events } from "../db/schema";
import { centsToAmount } from "../domain/money";
import type { AppContext, Env } from "../env";
import { ApiError } from "../errors";
import { authenticate, ingest, parseAndValidate } from "../ingest/ingest";
import { paymentRequest } from "../partners/cair-patient-payment/adapter";
import { reversalBody, type PatientPaymentBody } from "../partners/cair-patient-payment/schema";
import { applyPatientPayment, reversePatientPayment } from "../payments/service";
import type { ResolvedSource } from "../sources/repository";
import { fanOutSafely } from "../delivery/fan-out";
import { readJsonBody } from "../ingest/read-body";
import { loadEnabledSource } from "./load-source";

/** The source every patient payment is authenticated against (any verification scheme). */
export const PATIENT_PAYMENTS_SOURCE = "patient-payments";

async function paymentSource(env: Env): Promise<ResolvedSource> {
  const source = await loadEnabledSource(env, PATIENT_PAYMENTS_SOURCE);
  if (source.kind !== "cair.patient_payment") {
    throw new ApiError(404, "SOURCE_NOT_FOUND", `Source "${PATIENT_PAYMENTS_SOURCE}" must have kind cair.patient_payment.`);
  }
  return source;
}

export const patientPayments = new Hono<AppContext>({ strict: false });

/**
 * The Cair patient-payment webhook: verified and stored like any partner event, then applied at once in
 * the claim lifecycle's Durable Object, because the partner needs the applied amount in the answer.
 */
patientPayments.post("/", async (c) => {
  const source = await paymentSource(c.env);
  const body = await readJsonBody(c.req.raw);
  const db = database(c.env.DB);
  const stored = await ingest(c.env, source, c.req.raw.headers, body, (work) => c.executionCtx.waitUntil(work), { enqueue: false, request: { method: c.req.method, url: c.req.url } });
  let outcome;
  try {
    outcome = await applyPatientPayment(c.env, db, paymentRequest(stored.payload as PatientPaymentBody, stored.eventId));
  } catch (e) {
    // A business refusal (unknown claim, no remit yet) is final for this attempt: the event is marked
    // failed so the outbox sweep leaves it; a partner retry finds it (duplicate) and applies it then.
    // Anything else leaves it pending, and the sweep applies it through the events consumer.
    const refused = e instanceof ApiError && e.status < 500;
    await db
      .update(events)
      .set({ lastError: e instanceof ApiError ? e.code : "INTERNAL_ERROR", ...(refused ? { status: "failed" as const } : {}) })
      .where(eq(events.id, stored.eventId))
      .catch(() => {});
    throw e;
  }
  await db
    .update(events)
    .set({ status: "processed", eventType: "patient_payment.applied", processedAt: nowIso(), lastError: null })
    .where(eq(events.id, stored.eventId));
  c.executionCtx.waitUntil(fanOutSafely(c.env, db));
  return c.json({
    success: true,
    message: "Payment processed successfully",
    data: {
      claimId: outcome.claimId,
      claimLifecycleId: outcome.claimLifecycleId,
      amountSetOnClaim: centsToAmount(outcome.appliedCents),
      ...(outcome.excessCents > 0 ? { excessAmount: centsToAmount(outcome.excessCents) } : {}),
    },
  });
});

/** Undoes a payment's application (its unallocated credit first), serialized in the same object. */
patientPayments.post("/reversal", async (c) => {
  const source = await paymentSource(c.env);
  const body = await readJsonBody(c.req.raw);
  await authenticate(source, c.req.raw.headers, body, { method: c.req.method, url: c.req.url });
  const { data } = parseAndValidate(body, reversalBody);
  const db = database(c.env.DB);
  const outcome = await reversePatientPayment(c.env, db, data.paymentTraceId);
  c.executionCtx.waitUntil(fanOutSafely(c.env, db));
  return c.json({
    success: true,
    message: "Payment reversed successfully",
    data: {
      claimId: outcome.claimId,
      claimLifecycleId: outcome.claimLifecycleId,
      amountRemovedFromClaim: centsToAmount(outcome.removedFromClaimCents),
      creditVoided: centsToAmount(outcome.creditVoidedCents),
      creditAlreadyAllocated: centsToAmount(outcome.creditAlreadyAllocatedCents),
    },
  });
});
