import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { coalescingBatches } from "../../src/db/coalesce";
import { compiled, everyColumn, excluded } from "../../src/db/compiled";
import { claimLifecycles, claimResponses, claims, patientCredits, patientPaymentDetails, patients } from "../../src/db/schema";
import { countingD1 } from "../helpers/d1-count";

// src/db/compiled.ts on the real local D1: a statement built once and bound per use is the statement its
// builder would have run (same SQL, same encoded values, same typed rows), alone and in batches.

const db = database(env.DB);
let seq = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${++seq}`;

// the same statements, as builders (per use) and compiled (once)
type LifecycleValues = { id: string; billId: string | null; provisional: boolean; now: string };
const insertLifecycleBuilt = (v: LifecycleValues) =>
  db.insert(claimLifecycles).values({ id: v.id, billId: v.billId, responsibilityProvisional: v.provisional, createdAt: v.now }).returning();
const insertLifecycle = compiled((d, v: LifecycleValues) =>
  d.insert(claimLifecycles).values({ id: v.id, billId: v.billId, responsibilityProvisional: v.provisional, createdAt: v.now }).returning(),
);
const lifecycleById = compiled((d, v: { id: string }) => d.select().from(claimLifecycles).where(eq(claimLifecycles.id, v.id)));
const setProvisional = compiled((d, v: { id: string; provisional: boolean }) =>
  d.update(claimLifecycles).set({ responsibilityProvisional: v.provisional }).where(eq(claimLifecycles.id, v.id)),
);
const creditsOfLifecycle = compiled((d, v: { lifecycleId: string }) =>
  d
    .select({ credit: patientCredits })
    .from(patientCredits)
    .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
    .where(eq(patientPaymentDetails.lifecycleId, v.lifecycleId)),
);
const remitsMatching = compiled((d, v: { lifecycleId: string; kind: string; atLeast: number }) =>
  d
    .select({ id: claimResponses.id })
    .from(claimResponses)
    .where(and(eq(claimResponses.lifecycleId, v.lifecycleId), eq(claimResponses.kind, v.kind), sql`${claimResponses.paymentCents} >= ${v.atLeast}`)),
);

describe("compiled statements", () => {
  it("an insert with returning gives the builder's typed row, values encoded by their columns (a boolean stored as 1)", async () => {
    const id = uid("lc");
    const [row] = await insertLifecycle(db, { id, billId: null, provisional: true, now: "2026-11-24T00:00:00.000Z" });
    expect(row).toMatchObject({ id, billId: null, responsibilityProvisional: true, createdAt: "2026-11-24T00:00:00.000Z" });
    const raw = await env.DB.prepare("SELECT responsibility_provisional AS p, bill_id AS b FROM claim_lifecycles WHERE id = ?").bind(id).first();
    expect(raw).toEqual({ p: 1, b: null });
    // the builder, for the same values, gives the same row
    const other = uid("lc");
    const [built] = await insertLifecycleBuilt({ id: other, billId: null, provisional: true, now: "2026-11-24T00:00:00.000Z" });
    expect({ ...built, id }).toEqual(row);
  });

  it("a select and an update, awaited alone and in one batch beside a builder, in order", async () => {
    const id = uid("lc");
    await insertLifecycle(db, { id, billId: "B-1", provisional: false, now: "2026-11-24T00:00:00.000Z" });
    const updated = await setProvisional(db, { id, provisional: true });
    expect((updated as D1Result).meta.changes).toBe(1);
    const [read, , readAgain, fromBuilder] = await db.batch([
      lifecycleById(db, { id }),
      setProvisional(db, { id, provisional: false }),
      lifecycleById(db, { id }),
      db.select({ bill: claimLifecycles.billId }).from(claimLifecycles).where(eq(claimLifecycles.id, id)),
    ]);
    expect(read[0]?.responsibilityProvisional).toBe(true);
    expect(readAgain[0]?.responsibilityProvisional).toBe(false);
    expect(fromBuilder).toEqual([{ bill: "B-1" }]);
  });

  it("a join selecting a whole table gives nested rows, like the builder", async () => {
    const lifecycleId = uid("lc");
    await insertLifecycle(db, { id: lifecycleId, billId: null, provisional: false, now: "2026-11-24T00:00:00.000Z" });
    const patientId = uid("pat");
    await db.insert(patients).values({ id: patientId, system: "fhir-patient", externalId: patientId });
    const claimId = uid("clm");
    await db.insert(claims).values({ id: claimId, lifecycleId, patientId, createdAt: "2026-11-24T00:00:00.000Z", updatedAt: "2026-11-24T00:00:00.000Z" });
    const paymentId = uid("pay");
    await db.insert(patientPaymentDetails).values({
      id: paymentId,
      traceKey: `trace:${paymentId}`,
      claimId,
      lifecycleId,
      patientId,
      billId: "B-2",
      amountCents: 500,
      appliedCents: 0,
      excessCents: 500,
      paymentDate: "2026-11-24",
      source: "cair",
      createdAt: "2026-11-24T00:00:00.000Z",
    });
    await db.insert(patientCredits).values({ id: uid("cr"), patientId, sourcePaymentId: paymentId, amountCents: 500, remainingCents: 500, status: "unallocated", createdAt: "2026-11-24T00:00:00.000Z", updatedAt: "2026-11-24T00:00:00.000Z" });
    const viaCompiled = await creditsOfLifecycle(db, { lifecycleId });
    const viaBuilder = await db
      .select({ credit: patientCredits })
      .from(patientCredits)
      .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
      .where(eq(patientPaymentDetails.lifecycleId, lifecycleId));
    expect(viaCompiled).toHaveLength(1);
    expect(viaCompiled).toEqual(viaBuilder);
    const [inBatch] = await db.batch([creditsOfLifecycle(db, { lifecycleId })]);
    expect(inBatch).toEqual(viaBuilder);
  });

  it("its SQL and bound values are the builder's, whatever the values (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: null }), fc.boolean(), fc.string(), (id, billId, provisional, now) => {
        const v = { id, billId, provisional, now };
        expect(insertLifecycle(db, v).toSQL()).toEqual(insertLifecycleBuilt(v).toSQL());
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer(), (lifecycleId, kind, atLeast) => {
        const built = db
          .select({ id: claimResponses.id })
          .from(claimResponses)
          .where(and(eq(claimResponses.lifecycleId, lifecycleId), eq(claimResponses.kind, kind), sql`${claimResponses.paymentCents} >= ${atLeast}`));
        expect(remitsMatching(db, { lifecycleId, kind, atLeast }).toSQL()).toEqual(built.toSQL());
      }),
    );
  });

  it("everyColumn names each column of a whole row: the insert is the builder's for the same row", () => {
    const insertCredit = compiled((d, v: typeof patientCredits.$inferSelect) => d.insert(patientCredits).values(everyColumn(patientCredits, v)));
    const row = { id: "crd-1", patientId: null, sourcePaymentId: "pay-1", amountCents: 250, remainingCents: 250, status: "unallocated" as const, createdAt: "t1", updatedAt: "t2" };
    expect(insertCredit(db, row).toSQL()).toEqual(db.insert(patientCredits).values(row).toSQL());
    // a row missing a column is refused at bind time, not written with a hole
    expect(() => insertCredit(db, { ...row, patientId: undefined as unknown as null }).toSQL()).toThrow(/No value for placeholder "patientId"/);
  });

  it("excluded: an upsert's update takes the row the insert proposed, each value bound once", async () => {
    const upsert = compiled((d, v: LifecycleValues) =>
      d
        .insert(claimLifecycles)
        .values({ id: v.id, billId: v.billId, responsibilityProvisional: v.provisional, createdAt: v.now })
        .onConflictDoUpdate({ target: claimLifecycles.id, set: excluded(claimLifecycles, ["billId", "responsibilityProvisional"]) }),
    );
    const id = uid("lc");
    await upsert(db, { id, billId: "BILL-FIRST", provisional: false, now: "t1" });
    const second = upsert(db, { id, billId: "BILL-SECOND", provisional: true, now: "t2" });
    // the update names the proposed row, so nothing is bound twice
    expect(second.toSQL().sql).toContain('set "bill_id" = excluded."bill_id", "responsibility_provisional" = excluded."responsibility_provisional"');
    expect(second.toSQL().params).toEqual(db.insert(claimLifecycles).values({ id, billId: "BILL-SECOND", responsibilityProvisional: true, createdAt: "t2" }).toSQL().params);
    await second;
    const [row] = await lifecycleById(db, { id });
    // the conflicting row took the second values, except the column the update leaves alone
    expect(row).toMatchObject({ id, billId: "BILL-SECOND", responsibilityProvisional: true, createdAt: "t1" });
    // a key that is not a column of the table is refused, not turned into SQL
    expect(() => excluded(claimLifecycles, ["nope" as "billId"])).toThrow(/nope is not a column/);
  });

  it("runs on the binding it is given: a coalescing binding merges concurrent compiled batches into one round trip", async () => {
    const ids = [uid("lc"), uid("lc"), uid("lc")];
    const { db: counted, calls } = countingD1(env.DB);
    const coalesced = database(coalescingBatches(counted));
    const results = await Promise.all(
      ids.map((id) => coalesced.batch([insertLifecycle(coalesced, { id, billId: null, provisional: false, now: "2026-11-24T00:00:00.000Z" }), lifecycleById(coalesced, { id })])),
    );
    expect(calls).toEqual(['batch of 6: insert into "claim_lifecycles" ("id", "b']);
    expect(results.map(([, [row]]) => row?.id)).toEqual(ids);
  });

  it("a value left out throws before anything runs; stand-ins cannot be spread", async () => {
    const id = uid("lc");
    const { db: counted, calls } = countingD1(env.DB);
    const countedDb = database(counted);
    await expect(async () => lifecycleById(countedDb, {} as { id: string }).then()).rejects.toThrow(/No value for placeholder "id"/);
    expect(calls).toEqual([]);
    const spreading = compiled((d, v: { id: string }) => d.select().from(claimLifecycles).where(eq(claimLifecycles.id, { ...v }.id)));
    expect(() => spreading(db, { id })).toThrow(/stand-ins have no keys/);
  });

  it("a build that computes a value itself (an id, a time) is refused, not frozen into every use", () => {
    const computing = compiled((d, v: { billId: string }) => d.insert(claimLifecycles).values({ id: `lc-${Math.random()}`, billId: v.billId, createdAt: "t" }));
    expect(() => computing(db, { billId: "B" })).toThrow(/twice gave different constants/);
  });
});
