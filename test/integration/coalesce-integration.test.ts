import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { coalescingBatches } from "../../src/db/coalesce";
import { countingD1 } from "../helpers/d1-count";

// src/db/coalesce.ts on the real local D1: concurrent batches share a round trip, each caller keeps its
// own results, atomicity and errors.

beforeAll(async () => {
  await env.DB.prepare("CREATE TABLE IF NOT EXISTS coalesce_probe (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").run();
});

const values = async (prefix: string) =>
  (await env.DB.prepare("SELECT k, v FROM coalesce_probe WHERE k LIKE ? ORDER BY k").bind(`${prefix}%`).all<{ k: string; v: number }>()).results;

describe("coalescingBatches", () => {
  it("batches made in one turn go to D1 as one, and each caller gets its own results in order", async () => {
    const { db: counted, calls } = countingD1(env.DB);
    const d1 = coalescingBatches(counted);
    const results = await Promise.all(
      [1, 2, 3].map((n) => d1.batch([d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES (?, ?)").bind(`a-${n}`, n), d1.prepare("SELECT ? AS n, (SELECT v FROM coalesce_probe WHERE k = ?) AS v").bind(n, `a-${n}`)])),
    );
    expect(calls).toEqual(["batch of 6: INSERT INTO coalesce_probe (k, v) VALUES"]);
    expect(results.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(results.map((r) => r[1]!.results[0])).toEqual([{ n: 1, v: 1 }, { n: 2, v: 2 }, { n: 3, v: 3 }]);
    // a batch made later (after awaiting) is a round trip of its own
    await d1.batch([d1.prepare("SELECT 1")]);
    expect(calls).toHaveLength(2);
  });

  it("one caller's failure fails that caller only: its batch is undone, the others' are kept", async () => {
    await env.DB.prepare("INSERT INTO coalesce_probe (k, v) VALUES ('b-taken', 0)").run();
    const { db: counted, calls } = countingD1(env.DB);
    const d1 = coalescingBatches(counted);
    const settled = await Promise.allSettled([
      d1.batch([d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES ('b-1', 1)")]),
      // its first statement is fine, its second hits the primary key: neither stays
      d1.batch([d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES ('b-2', 2)"), d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES ('b-taken', 9)")]),
      d1.batch([d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES ('b-3', 3)")]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toContain("UNIQUE constraint failed");
    expect(await values("b-")).toEqual([{ k: "b-1", v: 1 }, { k: "b-3", v: 3 }, { k: "b-taken", v: 0 }]);
    // the combined try, then each caller alone
    expect(calls).toHaveLength(4);
  });

  it("combined batches stay within the statement limit, whole callers each", async () => {
    const { db: counted, calls } = countingD1(env.DB);
    const d1 = coalescingBatches(counted, 4);
    await Promise.all([3, 2, 2, 5].map((n, i) => d1.batch(Array.from({ length: n }, (_, j) => d1.prepare("SELECT ? AS c, ? AS s").bind(i, j)))));
    expect(calls.map((c) => c.split(":")[0]).sort()).toEqual(["batch of 3", "batch of 4", "batch of 5"]);
  });

  it("single statements are not held back (they keep their own round trip)", async () => {
    const { db: counted, calls } = countingD1(env.DB);
    const d1 = coalescingBatches(counted);
    expect(await d1.prepare("SELECT 41 + 1 AS n").first("n")).toBe(42);
    expect(calls).toEqual(["SELECT 41 + 1 AS n"]);
  });

  it("a binding that throws (instead of rejecting) still settles every caller, with the error", async () => {
    const broken = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return () => {
          throw new Error("D1_ERROR: connection reset");
        };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const d1 = coalescingBatches(broken);
    const settled = await Promise.allSettled([1, 2].map(() => d1.batch([d1.prepare("SELECT 1")])));
    expect(settled.map((s) => (s.status === "rejected" ? String(s.reason) : "fulfilled"))).toEqual(["Error: D1_ERROR: connection reset", "Error: D1_ERROR: connection reset"]);
  });

  it("property: whatever the callers and whichever fail, each gets what its batch alone would have given", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // callers, each inserting 1–4 keys of its own; some keys were taken before (a unique-index hit)
        fc.array(fc.record({ keys: fc.integer({ min: 1, max: 4 }), hitsTaken: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 2, max: 12 }),
        async (callers, maxStatements) => {
          const prefix = `p${++run}-`;
          await env.DB.prepare("INSERT INTO coalesce_probe (k, v) VALUES (?, -1)").bind(`${prefix}taken`).run();
          const d1 = coalescingBatches(env.DB, maxStatements);
          const batches = callers.map((c, i) => [
            ...Array.from({ length: c.keys }, (_, j) => d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES (?, ?)").bind(`${prefix}${i}-${j}`, i)),
            ...(c.hitsTaken ? [d1.prepare("INSERT INTO coalesce_probe (k, v) VALUES (?, ?)").bind(`${prefix}taken`, i)] : []),
            // what this caller's batch sees of its own writes, in its own results
            d1.prepare("SELECT count(*) AS n FROM coalesce_probe WHERE v = ? AND k LIKE ?").bind(i, `${prefix}%`),
          ]);
          const settled = await Promise.allSettled(batches.map((b) => d1.batch(b)));
          settled.forEach((s, i) => {
            expect(s.status).toBe(callers[i]!.hitsTaken ? "rejected" : "fulfilled");
            if (s.status === "fulfilled") {
              expect(s.value).toHaveLength(batches[i]!.length);
              expect(s.value[s.value.length - 1]!.results).toEqual([{ n: callers[i]!.keys }]);
            }
          });
          const kept = (await values(prefix)).filter((r) => r.v >= 0);
          const expected = callers.flatMap((c, i) => (c.hitsTaken ? [] : Array.from({ length: c.keys }, (_, j) => ({ k: `${prefix}${i}-${j}`, v: i }))));
          expect(kept).toEqual(expected.sort((a, b) => (a.k < b.k ? -1 : 1)));
        },
      ),
      { numRuns: 40 },
    );
  });
});
