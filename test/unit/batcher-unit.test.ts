import { describe, expect, it } from "vitest";
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
