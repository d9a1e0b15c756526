import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index";
import type { PaymentInput } from "../../src/lifecycle/claim-lifecycle";
import { call } from "./api";
import { rows } from "./db";
import { CLAIM_ID_SYSTEM, remitFor, scrubPayload } from "./fixtures";

export const GROUP = "https://x12.org/codes/claim-adjustment-group-codes";
export const PAYMENT_SECRET = "lifecycle-payment-secret";

let seq = 0;

/**
 * Stores a partner event as ingest would (verification is tested elsewhere) and runs the events queue
 * consumer on it at once, through createMessageBatch/getQueueResult: no background consumer, no sleeping,
 * so a test decides the exact order in which projections happen.
 */
export async function project(kind: "cair.claim_response" | "cair.claim_scrubber", payload: unknown): Promise<string> {
  const id = `evt_test_${Date.now().toString(36)}_${++seq}`;
  await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, ?, ?, ?, ?, '{}', ?)")
    .bind(id, `test-${kind}`, kind, id, JSON.stringify(payload), new Date().toISOString())
    .run();
  const batch = createMessageBatch("claimgate-events", [{ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { eventId: id } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages, `projection of ${kind} ${id}`).toEqual([]);
  const [event] = await rows<{ status: string; last_error: string | null }>("SELECT status, last_error FROM events WHERE id = ?", id);
  expect(event?.status, event?.last_error ?? "").toBe("processed");
  return id;
}

export interface ClaimSpec {
  claimId: string;
  billId: string;
  patient: string;
  created: string;
  /** FHIR Claim id of the version this one replaces (Claim.related prior). */
  replaces?: string;
  frequency?: "7" | "8";
}

export const scrub = (c: ClaimSpec) =>
  scrubPayload({
    claimId: c.claimId,
    billId: c.billId,
    runId: `run-${c.claimId}`,
    edit: (claim) => {
      claim.patient.reference = `Patient/${c.patient}`;
      claim.created = c.created;
      if (c.replaces) claim.related = [{ claim: { reference: `Claim/${c.replaces}` }, relationship: { coding: [{ code: "prior" }] } }];
      if (c.frequency) {
        claim.supportingInfo.push({ sequence: 9, category: { coding: [{ code: "claim-frequency" }] }, code: { coding: [{ code: c.frequency }] } });
      }
    },
  });

export interface RemitSpec {
  id: string;
  claimId: string;
  patient: string;
  /** Patient responsibility as a PR line (negative in a reversal). */
  prCents: number;
  benefitCents?: number;
  payer?: string;
  identifier?: string;
  lastUpdated?: string;
  created?: string;
  status?: "active" | "cancelled" | "entered-in-error" | "draft";
  outcome?: "complete" | "partial" | "queued" | "error";
  billId?: string;
  cob?: { sequence: number; of: number };
}

const dollars = (cents: number) => cents / 100;

/** A ClaimResponse with one PR-2 line; a negative `prCents` (with negative benefit) is an 835-style reversal. */
export const remit = (r: RemitSpec) =>
  remitFor({
    crId: r.id,
    claimId: r.claimId,
    ...(r.billId ? { billId: r.billId } : {}),
    edit: (cr) => {
      cr.patient.reference = `Patient/${r.patient}`;
      cr.status = r.status ?? "active";
      cr.outcome = r.outcome ?? "complete";
      cr.created = r.created ?? "2024-11-01";
      if (r.lastUpdated) cr.meta = { lastUpdated: r.lastUpdated };
      cr.insurer = { reference: `Organization/${r.payer ?? "payer-1"}` };
      cr.identifier = [
        { system: "https://payer.example/remit-id", value: r.identifier ?? r.id },
        ...(r.billId ? [{ system: CLAIM_ID_SYSTEM, value: r.billId }] : []),
      ];
      if (r.cob) cr.insurance = Array.from({ length: r.cob.of }, (_, i) => ({ sequence: i + 1, focal: i + 1 === r.cob!.sequence, coverage: { reference: `Coverage/c${i + 1}` } }));
      const sign = r.prCents < 0 ? -1 : 1;
      const benefit = (r.benefitCents ?? 10000) * sign;
      cr.item = [
        {
          itemSequence: 1,
          adjudication: [
            { category: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/adjudication", code: "benefit" }] }, amount: { value: dollars(benefit), currency: "USD" } },
            { category: { coding: [{ system: GROUP, code: "PR" }] }, reason: { coding: [{ code: "2" }] }, amount: { value: dollars(r.prCents), currency: "USD" } },
          ],
        },
      ];
      cr.payment = { ...cr.payment, amount: { value: dollars(benefit), currency: "USD" } };
    },
  });

/** What a lifecycle object's applyPayment takes, for a test calling the object directly (paid 2025-01-02 by cair). */
export const paymentInput = (lifecycleId: string, billId: string, cents: number, traceId: string): PaymentInput => ({
  lifecycleId,
  billId,
  traceKey: `trace:${traceId}`,
  traceId,
  amountCents: cents,
  paymentDate: "2025-01-02",
  paymentMethod: null,
  source: "cair",
  eventId: null,
});

export const pay = (body: { billId: string; paymentAmount: number; paymentTraceId: string; paymentDate?: string }) =>
  call("POST", "/api/webhooks/patient-payment", { json: body, headers: { "X-API-KEY": PAYMENT_SECRET } });

export interface LifecycleSnapshot {
  responsibility: number | null;
  provisional: boolean;
  applied: number;
  paidOnClaims: number[];
  payments: Record<string, { applied: number; credit: number; creditRow: { amount: number; remaining: number; status: string } | null }>;
  creditEvents: Record<string, number>;
}

/** The money of the lifecycle a bill names, keyed by what the test chose (trace ids), never by our ids. */
export async function snapshot(billId: string): Promise<LifecycleSnapshot> {
  const [lc] = await rows<any>("SELECT * FROM claim_lifecycles WHERE bill_id = ?", billId);
  if (!lc) throw new Error(`no lifecycle for ${billId}`);
  const claims = await rows<any>("SELECT patient_paid_cents AS paid FROM claims WHERE claim_lifecycle_id = ? ORDER BY patient_paid_cents", lc.id);
  const payments = await rows<any>(
    `SELECT p.trace_id, p.id, p.applied_cents, p.excess_cents, c.amount_cents AS c_amount, c.remaining_cents AS c_remaining, c.status AS c_status
     FROM patient_payment_details p LEFT JOIN patient_credits c ON c.source_payment_id = p.id
     WHERE p.claim_lifecycle_id = ? AND p.status = 'applied' ORDER BY p.trace_id`,
    lc.id,
  );
  const events = await rows<any>(
    "SELECT p.trace_id, count(*) AS n FROM domain_events d JOIN patient_payment_details p ON p.id = d.source_event_id WHERE d.type = 'patient_credit.created' AND p.claim_lifecycle_id = ? GROUP BY p.trace_id",
    lc.id,
  );
  return {
    responsibility: lc.responsibility_cents,
    provisional: !!lc.responsibility_provisional,
    applied: lc.applied_cents,
    paidOnClaims: claims.map((c) => c.paid),
    payments: Object.fromEntries(
      payments.map((p) => [
        p.trace_id,
        {
          applied: p.applied_cents,
          credit: p.excess_cents,
          creditRow: p.c_amount === null ? null : { amount: p.c_amount, remaining: p.c_remaining, status: p.c_status },
        },
      ]),
    ),
    creditEvents: Object.fromEntries(events.map((e) => [e.trace_id, e.n])),
  };
}
