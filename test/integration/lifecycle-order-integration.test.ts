import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createSource } from "../helpers/api";
import { PAYMENT_SECRET, pay, project, remit, scrub, snapshot, type LifecycleSnapshot } from "../helpers/lifecycle";

// The money of a claim lifecycle is a function of what it received, not of arrival order (CONTRACT.md
// "Money rules"). Random sets of claim versions (an original, a correction naming it as prior, a claim that
// arrives as a remit first and merges in later), remits (originals, corrections by identifier and
// lastUpdated, drafts, 835-style reversals, withdrawals) and payments are applied in random orders through
// the real queue consumer, Durable Object and D1; every order must end in the same ledger.

beforeAll(async () => {
  await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [PAYMENT_SECRET] });
});

type Version = "v1" | "v2" | "m";
interface RemitGen {
  version: Version;
  identity: string;
  prCents: number;
  day: number;
  draft: boolean;
}
interface Scenario {
  correction: boolean;
  merged: boolean;
  remits: RemitGen[];
  reversals: number[];
  withdrawals: number[];
  payments: { cents: number; day: number }[];
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    correction: fc.boolean(),
    merged: fc.boolean(),
    remits: fc.array(
      fc.record({
        version: fc.constantFrom<Version>("v1", "v2", "m"),
        identity: fc.constantFrom("ICN-1", "ICN-2", "ICN-3"),
        prCents: fc.integer({ min: 0, max: 9000 }),
        day: fc.integer({ min: 1, max: 28 }),
        draft: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    payments: fc.array(fc.record({ cents: fc.integer({ min: 100, max: 7000 }), day: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 }),
  })
  .chain((s) => {
    // remits only name versions the scenario has; the first remit is an adjudicated original on v1
    const remits = s.remits.map((r, i) => ({
      ...r,
      version: i === 0 ? ("v1" as const) : r.version === "v2" && !s.correction ? ("v1" as const) : r.version === "m" && !s.merged ? ("v1" as const) : r.version,
      draft: i === 0 ? false : r.draft,
    }));
    const indices = remits.map((_, i) => i);
    return fc.record({
      correction: fc.constant(s.correction),
      merged: fc.constant(s.merged),
      remits: fc.constant(remits),
      payments: fc.constant(s.payments),
      reversals: fc.subarray(indices),
      // the first remit is never withdrawn, so the lifecycle always has something adjudicated
      withdrawals: fc.subarray(indices.slice(1)),
    });
  });

type Step = { kind: "scrub" | "remit"; payload: unknown } | { kind: "pay"; body: { billId: string; paymentAmount: number; paymentTraceId: string; paymentDate: string } };

/** The steps of one scenario for one run; ids carry the run's prefix so runs never meet. */
function steps(s: Scenario, p: string): Step[] {
  const bill = `${p}-BILL`;
  const patient = `${p}-pt`;
  const claim = (v: Version) => `${p}-${v}`;
  const out: Step[] = [{ kind: "scrub", payload: scrub({ claimId: claim("v1"), billId: bill, patient, created: "2024-10-01" }) }];
  if (s.correction) out.push({ kind: "scrub", payload: scrub({ claimId: claim("v2"), billId: bill, patient, created: "2024-10-10", replaces: claim("v1") }) });
  if (s.merged) out.push({ kind: "scrub", payload: scrub({ claimId: claim("m"), billId: bill, patient, created: "2024-09-15" }) });
  const at = (day: number, hour = 0) => `2024-11-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00Z`;
  s.remits.forEach((r, i) => {
    const base = { claimId: claim(r.version), patient, identifier: `${p}-${r.identity}`, lastUpdated: at(r.day) };
    out.push({ kind: "remit", payload: remit({ ...base, id: `${p}-r${i}`, prCents: r.prCents, ...(r.draft ? { status: "draft" as const } : {}) }) });
    if (s.reversals.includes(i) && r.prCents > 0) out.push({ kind: "remit", payload: remit({ ...base, id: `${p}-r${i}-rev`, prCents: -r.prCents, lastUpdated: at(r.day, 12) }) });
    if (s.withdrawals.includes(i)) out.push({ kind: "remit", payload: remit({ ...base, id: `${p}-r${i}`, prCents: r.prCents, status: "cancelled", lastUpdated: at(r.day, 18) }) });
  });
  s.payments.forEach((pmt, i) => {
    out.push({ kind: "pay", body: { billId: bill, paymentAmount: pmt.cents / 100, paymentTraceId: `${p}-t${i}`, paymentDate: `2025-01-0${pmt.day}` } });
  });
  return out;
}

/** Runs the steps in order; a payment refused for want of its claim or a remit is retried at the end, as partners do. */
async function runSteps(list: Step[]): Promise<void> {
  const later: Step[] = [];
  for (const step of list) {
    if (step.kind === "pay") {
      const res = await pay(step.body);
      if (res.status === 404 || (res.status === 409 && res.body.error.code === "NO_CLAIM_RESPONSE")) later.push(step);
      else expect(res.status, JSON.stringify(res.body)).toBe(200);
    } else {
      await project(step.kind === "scrub" ? "cair.claim_scrubber" : "cair.claim_response", step.payload);
    }
  }
  for (const step of later) {
    if (step.kind !== "pay") continue;
    const res = await pay(step.body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

/** The snapshot without the run's prefix; a credit of 0 (taken back by its own claim) is no credit. */
function normalized(s: LifecycleSnapshot, p: string) {
  const strip = (k: string) => k.slice(p.length + 1);
  const payments = Object.fromEntries(
    Object.entries(s.payments).map(([k, v]) => [strip(k), { ...v, creditRow: v.creditRow && v.creditRow.amount > 0 ? v.creditRow : null }]),
  );
  // patient_credit.created is history: exactly once for a payment that ends with credit
  const creditEvents = Object.fromEntries(Object.entries(s.creditEvents).filter(([k]) => (s.payments[k]?.credit ?? 0) > 0).map(([k, n]) => [strip(k), n]));
  return { ...s, payments, creditEvents };
}

let run = 0;

describe("lifecycle money is a function of the set of facts (fast-check through the Durable Object and D1)", () => {
  it("every arrival order ends in the same ledger, and never applies more than the responsibility", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario.chain((s) => {
          const n = steps(s, "x").length;
          const order = fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n });
          return fc.tuple(fc.constant(s), order, order);
        }),
        async ([s, orderA, orderB]) => {
          const results = [];
          for (const order of [Array.from({ length: orderA.length }, (_, i) => i), orderA, orderB]) {
            const p = `PR${++run}`;
            const list = steps(s, p);
            await runSteps(order.map((i) => list[i]!));
            const snap = await snapshot(`${p}-BILL`);
            const amounts = s.payments.map((x) => x.cents);
            const total = amounts.reduce((a, b) => a + b, 0);
            // invariants of every order
            expect(Object.values(snap.payments).reduce((n, x) => n + x.applied, 0)).toBe(snap.applied);
            for (const [i, cents] of amounts.entries()) {
              const mine = snap.payments[`${p}-t${i}`]!;
              expect(mine.applied + mine.credit).toBe(cents);
              expect(mine.creditRow?.amount ?? 0).toBe(mine.credit);
            }
            expect(snap.paidOnClaims.every((x) => x === snap.applied)).toBe(true);
            expect(snap.applied).toBe(Math.min(total, snap.applied));
            if (!snap.provisional) expect(snap.applied).toBe(Math.min(total, snap.responsibility ?? 0));
            results.push(normalized(snap, p));
          }
          expect(results[1]).toEqual(results[0]);
          expect(results[2]).toEqual(results[0]);
        },
      ),
      { numRuns: 30, endOnFailure: true },
    );
  }, 240_000);
});
