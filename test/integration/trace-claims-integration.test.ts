import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { claimTrace, releaseTrace, traceClaimsWithEvents, type TraceClaimInput } from "../../src/payments/trace-claims";
import { database } from "../../src/db/client";
import { call, createSource } from "../helpers/api";
import { count } from "../helpers/db";
import { PAYMENT_SECRET, project, remit, scrub } from "../helpers/lifecycle";

// A payment trace id names one payment across every lifecycle (CONTRACT "Payments"). It is taken in D1's
// payment_traces, in the same batch that stores the payment's event (src/payments/trace-claims.ts).

/** The claims of one D1 batch, as the ingest batch runs them, answered in order. */
async function inOneBatch(claims: TraceClaimInput[]) {
  return traceClaimsWithEvents.read(await env.DB.batch(traceClaimsWithEvents.statements(env.DB, claims)), claims);
}

const claim = (key: string, billId: string, amountCents: number): TraceClaimInput => ({ traceKey: `trace:${key}`, billId, amountCents });

describe("taking trace ids", () => {
  it("in one batch, as one after another: the first takes a key, the same bill and amount again is the same payment, anything else a conflict", async () => {
    expect(await inOneBatch([claim("tc-a", "B1", 100), claim("tc-a", "B1", 100), claim("tc-a", "B2", 100), claim("tc-a", "B1", 101), claim("tc-b", "B1", 5)])).toEqual([
      { outcome: "new" },
      { outcome: "same" },
      { outcome: "conflict", billId: "B1", amountCents: 100 },
      { outcome: "conflict", billId: "B1", amountCents: 100 },
      { outcome: "new" },
    ]);
    // a later batch finds them held
    expect(await inOneBatch([claim("tc-b", "B1", 5), claim("tc-a", "B9", 100)])).toEqual([{ outcome: "same" }, { outcome: "conflict", billId: "B1", amountCents: 100 }]);
  });

  it("a batch larger than one insert's bound parameters: every claim answered, a key repeated across inserts included", async () => {
    const claims = Array.from({ length: 60 }, (_, i) => claim(`tc-many-${i}`, `M${i}`, 100 + i));
    claims.push(claim("tc-many-3", "M3", 103), claim("tc-many-40", "OTHER", 140));
    const answers = await inOneBatch(claims);
    expect(answers.slice(0, 60)).toEqual(Array.from({ length: 60 }, () => ({ outcome: "new" })));
    expect(answers.slice(60)).toEqual([{ outcome: "same" }, { outcome: "conflict", billId: "M40", amountCents: 140 }]);
    expect(await count("payment_traces", "trace_key LIKE 'trace:tc-many-%'")).toBe(60);
  });

  it("a payment D1 holds whose trace id payment_traces lacks (flushed by the earlier code during a deployment) keeps it taken", async () => {
    await env.DB.prepare(
      "INSERT INTO patient_payment_details (id, trace_key, trace_id, claim_id, claim_lifecycle_id, bill_id, amount_cents, applied_cents, excess_cents, payment_date, source, status, created_at) VALUES ('pay_tc_old', 'trace:tc-old', 'tc-old', 'clm_tc_old', 'lc_tc_old', 'OLD-BILL', 2500, 2500, 0, '2025-01-01', 'cair', 'applied', '2025-01-01T00:00:00Z')",
    ).run();
    expect(await count("payment_traces", "trace_key = 'trace:tc-old'")).toBe(0);
    expect(await inOneBatch([claim("tc-old", "NEW-BILL", 2500), claim("tc-old", "OLD-BILL", 2500), claim("tc-new", "NEW-BILL", 1)])).toEqual([
      { outcome: "conflict", billId: "OLD-BILL", amountCents: 2500 },
      { outcome: "same" },
      { outcome: "new" },
    ]);
    expect(await count("payment_traces", "trace_key = 'trace:tc-old' AND bill_id = 'OLD-BILL'")).toBe(1);
  });

  it("claims cut into batches anywhere answer as the same claims one at a time would (fast-check through D1)", async () => {
    let run = 0;
    const claimArb = fc.record({ key: fc.integer({ min: 0, max: 5 }), bill: fc.constantFrom("P", "Q"), cents: fc.constantFrom(100, 200) });
    await fc.assert(
      fc.asyncProperty(fc.array(claimArb, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), async (specs, cuts) => {
        const prefix = `tc-prop-${++run}`;
        const claims = specs.map((c) => claim(`${prefix}-${c.key}`, c.bill, c.cents));
        // the model: one claim at a time against a map of holders
        const held = new Map<string, TraceClaimInput>();
        const expected = claims.map((c) => {
          const holder = held.get(c.traceKey);
          if (!holder) return held.set(c.traceKey, c), { outcome: "new" };
          return holder.billId === c.billId && holder.amountCents === c.amountCents ? { outcome: "same" } : { outcome: "conflict", billId: holder.billId, amountCents: holder.amountCents };
        });
        const answers = [];
        let at = 0;
        for (const size of [...cuts, claims.length]) {
          if (at >= claims.length) break;
          answers.push(...(await inOneBatch(claims.slice(at, at + size))));
          at += size;
        }
        expect(answers).toEqual(expected);
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });

  it("a release gives back only the holder's own claim", async () => {
    expect(await claimTrace(env.DB, claim("tc-r", "R1", 700))).toEqual({ outcome: "new" });
    await releaseTrace(database(env.DB), claim("tc-r", "R2", 700));
    await releaseTrace(database(env.DB), claim("tc-r", "R1", 701));
    expect(await claimTrace(env.DB, claim("tc-r", "R2", 700))).toEqual({ outcome: "conflict", billId: "R1", amountCents: 700 });
    await releaseTrace(database(env.DB), claim("tc-r", "R1", 700));
    expect(await claimTrace(env.DB, claim("tc-r", "R2", 700))).toEqual({ outcome: "new" });
  });
});

describe("a payment's event and its trace id commit together", () => {
  beforeAll(async () => {
    await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [PAYMENT_SECRET] });
    await project("cair.claim_scrubber", scrub({ claimId: "c-TC-1", billId: "TC-1", patient: "pt-TC-1", created: "2024-10-01" }));
    await project("cair.claim_response", remit({ id: "r-TC-1", claimId: "c-TC-1", patient: "pt-TC-1", prCents: 5000 }));
  });

  const pay = (traceId: string, dollars = 10) =>
    call("POST", "/api/webhooks/patient-payment", { json: { billId: "TC-1", paymentAmount: dollars, paymentTraceId: traceId, paymentDate: "2025-01-01" }, headers: { "X-API-KEY": PAYMENT_SECRET } });

  it("when D1 refuses the trace id, the event is not stored either (503, the partner retries); the retry stores and applies it once", async () => {
    const events = () => count("events", "source_id = 'patient-payments'");
    const before = await events();
    await env.DB.prepare("CREATE TRIGGER refuse_trace BEFORE INSERT ON payment_traces WHEN NEW.trace_key = 'trace:tc-atomic' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END").run();
    try {
      const refused = await pay("tc-atomic");
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("STORAGE_UNAVAILABLE");
      expect(await events()).toBe(before);
      expect(await count("payment_traces", "trace_key = 'trace:tc-atomic'")).toBe(0);
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_trace").run();
    }
    const retried = await pay("tc-atomic");
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ amountSetOnClaim: 10 });
    expect(await events()).toBe(before + 1);
    expect(await count("payment_traces", "trace_key = 'trace:tc-atomic'")).toBe(1);
  });

  it("concurrent repeats of one trace id with another amount: one is applied, the others are 409 TRACE_ID_CONFLICT, and the id stays the applied one's", async () => {
    const answers = await Promise.all([pay("tc-race", 7), pay("tc-race", 8), pay("tc-race", 9)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
    const applied = answers.find((a) => a.status === 200)!;
    const [held] = (await env.DB.prepare("SELECT amount_cents FROM payment_traces WHERE trace_key = 'trace:tc-race'").all<{ amount_cents: number }>()).results;
    expect(held!.amount_cents).toBe(Math.round(applied.body.data.amountSetOnClaim * 100)); // under the responsibility: all applied
  });
});
