import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClaimLifecycle } from "../../src/lifecycle/claim-lifecycle";
import { loadState, saveState } from "../../src/lifecycle/state-store";
import { serializeState, type LifecycleState } from "../../src/lifecycle/store";
import { paymentInput as input, project, remit, scrub } from "../helpers/lifecycle";

// Issue 17: the lifecycle object keeps its payments, credits and allocations one row each in its SQLite
// (src/lifecycle/state-store.ts), so an operation writes what it changed and no stored value grows with the
// lifecycle (a Durable Object's SQLite refuses values over 2 MB; the local runtime does not enforce that, so
// the sizes are asserted here).

const stubOf = (lifecycleId: string) => env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lifecycleId));
const d1 = async <T = any>(sql: string, ...params: unknown[]) => (await env.DB.prepare(sql).bind(...params).all<T>()).results;

async function lifecycleOwing(billId: string, prCents: number): Promise<string> {
  const patient = `pt-${billId}`;
  await project("cair.claim_scrubber", scrub({ claimId: `c-${billId}`, billId, patient, created: "2024-10-01" }));
  await project("cair.claim_response", remit({ id: `r-${billId}`, claimId: `c-${billId}`, patient, prCents }));
  const [row] = await d1<{ id: string }>("SELECT id FROM claim_lifecycles WHERE bill_id = ?", billId);
  return row!.id;
}


/** Forgets the object's in-memory copy, as an evicted object would, so the next call reads its SQLite. */
const evict = (object: ClaimLifecycle) => Object.assign(object as unknown as Record<string, unknown>, { state: null, storedRows: null });

/** The largest value the object's SQLite holds for its state, and how many rows. */
function stateSizes(sql: SqlStorage) {
  const core = sql.exec<{ n: number }>("SELECT max(length(state)) AS n FROM lifecycle_state").one().n;
  const { rows, largest } = sql.exec<{ rows: number; largest: number | null }>("SELECT count(*) AS rows, max(length(row)) AS largest FROM lifecycle_rows").one();
  return { core: Number(core), rows: Number(rows), largest: Number(largest ?? 0) };
}

describe("the lifecycle object's state, row by row", () => {
  it("a lifecycle of 250 payments stores no value that grows with it, and an evicted object answers the same from its SQLite", async () => {
    const lc = await lifecycleOwing("SS-1", 100_000);
    const stub = stubOf(lc);
    const sizes: ReturnType<typeof stateSizes>[] = [];
    for (let i = 0; i < 250; i++) {
      const r = await stub.applyPayment(input(lc, "SS-1", 500 + i, `ss-1-${i}`));
      expect(r.outcome).toBe("applied");
      if (i === 9 || i === 249) sizes.push(await runInDurableObject(stub, (_o, state) => stateSizes(state.storage.sql)));
    }
    const [ten, all] = sizes;
    // every payment is its own row (and those over the responsibility a credit row too)
    expect(all!.rows).toBeGreaterThan(250);
    // the small value (facts and figures) does not grow with payments (only its figures' digits may), and no
    // row is more than one payment
    expect(all!.core - ten!.core).toBeLessThan(20);
    expect(all!.core).toBeLessThan(8_000);
    expect(all!.largest).toBeLessThan(2_000);

    const before = await stub.summary(lc);
    const after = await runInDurableObject(stub, (object) => {
      evict(object);
      return object.summary(lc);
    });
    expect(after).toEqual(before);
    expect(before).toMatchObject({ paymentCount: 250, appliedCents: 100_000 });
    // and it goes on from there: the next payment is all credit, and a repeat is the first answer again
    const next = await runInDurableObject(stub, (object) => {
      evict(object);
      return object.applyPayment(input(lc, "SS-1", 700, "ss-1-next"));
    });
    expect(next).toMatchObject({ outcome: "applied", payment: { appliedCents: 0, excessCents: 700 } });
    const again = await runInDurableObject(stub, (object) => {
      evict(object);
      return object.applyPayment(input(lc, "SS-1", 500, "ss-1-0"));
    });
    expect(again).toMatchObject({ outcome: "applied", recorded: false, payment: { amountCents: 500 } });
  });

  it("stores what changed: rows changed, removed, reordered or added all read back as saved, and saved rows are frozen", async () => {
    const lc = await lifecycleOwing("SS-2", 3_000);
    const stub = stubOf(lc);
    for (let i = 0; i < 5; i++) await stub.applyPayment(input(lc, "SS-2", 1_000, `ss-2-${i}`));
    await runInDurableObject(stub, (object, state) => {
      const sql = state.storage.sql;
      evict(object);
      const loaded = loadState(sql)!;
      expect(loaded.state.payments).toHaveLength(5);
      expect(loaded.state.credits).toHaveLength(2);
      const next: LifecycleState = structuredClone(loaded.state);
      next.payments[1]!.status = "reversed"; // changed in place
      next.payments.splice(3, 1); // removed from the middle
      next.credits.reverse(); // reordered
      next.allocationsIn.push({ id: "cal_x", creditId: "crd_x", claimId: "clm_x", lifecycleId: lc, amountCents: 5, createdAt: "2025-01-01T00:00:00Z", reversedAt: null });
      next.patientPaid = new Map([["pat_x", 7]]);
      const stored = state.storage.transactionSync(() => saveState(sql, loaded.stored, next));
      const reread = loadState(sql)!;
      expect(serializeState(reread.state)).toBe(serializeState(next));
      expect(reread.stored).toEqual(stored);
      // a saved row cannot be changed in place behind the store's back (it would not be written)
      expect(() => {
        (reread.state.payments[0] as { amountCents: number }).amountCents = 1;
      }).toThrow(TypeError);
      // a save with nothing changed writes nothing but the small value
      const rowsBefore = sql.exec("SELECT kind, pos, row FROM lifecycle_rows ORDER BY kind, pos").toArray();
      state.storage.transactionSync(() => saveState(sql, stored, reread.state));
      expect(sql.exec("SELECT kind, pos, row FROM lifecycle_rows ORDER BY kind, pos").toArray()).toEqual(rowsBefore);
    });
  });

  it("an object that kept its state in the earlier single value reads it, and the next operation rewrites it row by row", async () => {
    const lc = await lifecycleOwing("SS-3", 2_000);
    const stub = stubOf(lc);
    await stub.applyPayment(input(lc, "SS-3", 1_500, "ss-3-a"));
    await runInDurableObject(stub, (object, state) => {
      const sql = state.storage.sql;
      // as an object deployed before this change stored it: everything in lifecycle_state, no rows
      const whole = loadState(sql)!.state;
      sql.exec("DELETE FROM lifecycle_rows");
      sql.exec("UPDATE lifecycle_state SET state = ? WHERE id = 1", serializeState(whole));
      evict(object);
    });
    expect(await stub.summary(lc)).toMatchObject({ appliedCents: 1_500, paymentCount: 1 });
    expect(await stub.applyPayment(input(lc, "SS-3", 1_000, "ss-3-b"))).toMatchObject({ outcome: "applied", payment: { appliedCents: 500, excessCents: 500 } });
    const reread = await runInDurableObject(stub, (object, state) => {
      expect(JSON.parse(state.storage.sql.exec<{ state: string }>("SELECT state FROM lifecycle_state").one().state).payments).toBeUndefined();
      evict(object);
      return object.summary(lc);
    });
    expect(reread).toMatchObject({ appliedCents: 2_000, creditCents: 500, paymentCount: 2 });
  });

  it("what the object's SQLite holds is always what it answers from: any sequence of payments, repeats and reversals (fast-check)", async () => {
    let run = 0;
    const op = fc.oneof(
      fc.record({ kind: fc.constant("pay" as const), cents: fc.integer({ min: 1, max: 4_000 }), day: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant("repeat" as const), nth: fc.nat() }),
      fc.record({ kind: fc.constant("reverse" as const), nth: fc.nat() }),
      fc.record({ kind: fc.constant("evict" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 6_000 }), fc.array(op, { minLength: 1, maxLength: 10 }), async (owedCents, ops) => {
        const bill = `SS-P${++run}`;
        const lc = await lifecycleOwing(bill, owedCents);
        const stub = stubOf(lc);
        const paid: { traceId: string; cents: number }[] = [];
        for (const o of ops) {
          if (o.kind === "pay") {
            const traceId = `${bill}-${paid.length}`;
            const r = await stub.applyPayment({ ...input(lc, bill, o.cents, traceId), paymentDate: `2025-01-0${o.day}` });
            expect(r.outcome).toBe("applied");
            paid.push({ traceId, cents: o.cents });
          } else if (o.kind === "repeat" && paid.length) {
            const p = paid[o.nth % paid.length]!;
            expect(await stub.applyPayment(input(lc, bill, p.cents, p.traceId))).toMatchObject({ outcome: "applied", recorded: false });
          } else if (o.kind === "reverse" && paid.length) {
            await stub.reversePayment({ lifecycleId: lc, traceKey: `trace:${paid[o.nth % paid.length]!.traceId}` });
          } else if (o.kind === "evict") {
            await runInDurableObject(stub, (object) => void evict(object));
          }
          // the invariant: read back from SQLite, the state is the one held in memory
          await runInDurableObject(stub, (object, state) => {
            const held = (object as unknown as { state: LifecycleState | null }).state;
            if (held === null) return; // evicted: the next operation reads it back
            expect(loadState(state.storage.sql)!.state).toEqual(held);
          });
        }
      }),
      { numRuns: 15, endOnFailure: true },
    );
  }, 120_000);
});
