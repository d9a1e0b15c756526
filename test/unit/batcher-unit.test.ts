import { describe, expect, it, vi } from "vitest";
import { Batcher } from "../../src/ingest/batcher";

/** A batcher whose run doubles each item and records the batches it was given. */
function doubling(limits: ConstructorParameters<typeof Batcher<number, number>>[1], fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  const leaders: Promise<unknown>[] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    batches.push(items);
    await new Promise((r) => setTimeout(r, 5));
    if (fail?.(items)) throw new Error(`batch ${items.join(",")} failed`);
    return items.map((i) => i * 2);
  }, limits);
  const submit = (i: number) => batcher.submit(i, (work) => leaders.push(work));
  return { batches, leaders, submit };
}

describe("Batcher (group commit)", () => {
  it("runs a lone item at once and groups the items that arrive while a batch is in flight", async () => {
    const { batches, leaders, submit } = doubling({ maxItems: 10 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(i)));
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7]]);
    expect(leaders).toHaveLength(1);
    await Promise.all(leaders);
    // idle again: the next caller leads a new run
    expect(await submit(9)).toBe(18);
    expect(leaders).toHaveLength(2);
  });

  it("keeps batches within maxItems and maxWeight; an item heavier than the limit runs alone", async () => {
    const { batches, submit } = doubling({ maxItems: 3, weight: (i) => i, maxWeight: 10 });
    await Promise.all([0, 1, 2, 3, 4, 5, 50, 6].map(submit));
    expect(batches).toEqual([[0], [1, 2, 3], [4, 5], [50], [6]]);
  });

  it("a failed batch rejects its own callers only", async () => {
    const { batches, submit } = doubling({ maxItems: 2 }, (items) => items.includes(2));
    const settled = await Promise.allSettled([1, 2, 3, 4, 5].map(submit));
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled", "fulfilled"]);
  });

  it("a leader hands over after maxRounds and no waiting item is left without a runner", async () => {
    const { batches, leaders, submit } = doubling({ maxItems: 1, maxRounds: 2 });
    const first = [1, 2, 3, 4].map(submit);
    const results = await Promise.all(first);
    expect(results).toEqual([2, 4, 6, 8]);
    expect(batches.flat().sort()).toEqual([1, 2, 3, 4]);
    await Promise.all(leaders);
  });

  /** A batcher whose batches finish when the test says so (gate n releases the n-th batch). */
  function gated(lingerMs?: number) {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push(items);
        await new Promise<void>((r) => gates.push(r));
        return items.map((i) => i * 2);
      },
      { maxItems: 10, ...(lingerMs ? { lingerMs } : {}) },
    );
    const submit = (i: number) => batcher.submit(i, () => {});
    const running = (n: number) => vi.waitFor(() => expect(batches).toHaveLength(n));
    return { batches, gates, submit, running };
  }

  // 0 runs alone; 1 and 2 arrive while it runs; 3 arrives while [1, 2] runs; 4 and 5 arrive 10 ms after
  // [1, 2] is done
  async function arrivals({ batches, gates, submit, running }: ReturnType<typeof gated>) {
    const all = [submit(0)];
    await running(1);
    all.push(submit(1), submit(2));
    gates[0]!();
    await running(2);
    all.push(submit(3));
    gates[1]!();
    await new Promise((r) => setTimeout(r, 10));
    all.push(submit(4), submit(5));
    // every later batch finishes as soon as it starts, until all six items ran
    let released = 2;
    while (released < batches.length || batches.flat().length < 6) {
      await vi.waitFor(() => expect(gates.length).toBeGreaterThan(released));
      gates[released++]!();
    }
    return Promise.all(all);
  }

  it("under load the leader lingers for more items before a batch less than half full; a run's first batch never waits", async () => {
    const g = gated(200);
    expect(await arrivals(g)).toEqual([0, 2, 4, 6, 8, 10]);
    // the last batch held two items, so 3 waited for company and 4 and 5 joined it
    expect(g.batches).toEqual([[0], [1, 2], [3, 4, 5]]);
  });

  it("without lingerMs the same arrivals run as they come", async () => {
    const g = gated();
    expect(await arrivals(g)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(g.batches).toEqual([[0], [1, 2], [3], [4, 5]]);
  });

  it("the leader runs whenIdle once no item is left, inside its own waitUntil", async () => {
    const idle: number[][] = [];
    const leaders: Promise<unknown>[] = [];
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 5));
        return items;
      },
      { maxItems: 10, whenIdle: async () => void idle.push(batches.flat()) },
    );
    await Promise.all([1, 2, 3].map((i) => batcher.submit(i, (work) => leaders.push(work))));
    await Promise.all(leaders);
    expect(leaders).toHaveLength(1);
    expect(idle).toEqual([[1, 2, 3]]);
  });
});
