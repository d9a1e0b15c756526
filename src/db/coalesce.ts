/**
 * A D1 binding whose concurrent batches share round trips: the `batch` calls made in one turn of the
 * event loop go to D1 as one batch, and each caller gets its own statements' results.
 *
 * Why: a D1 round trip costs about as much as a whole small request (bench/round-trip-cost.mjs), while
 * more statements in one batch cost little. The events consumer projects a message batch's events
 * concurrently, and their projections issue the same sequence of batches (claim resolution's reads, the
 * remit's writes, …), so they line up: with this, a message batch's projections pay each step's round
 * trip once, not once per event (issue 17, item 3), without each projection being rewritten in phases.
 *
 * What each caller keeps: its batch is still atomic and its statements still run in order, with nothing
 * of another caller's in between. What changes: D1 runs the combined batch as one transaction, so one
 * caller's failing statement (a unique index hit by a concurrent creator) would roll back the others'
 * too; then each caller's batch is run again by itself (nothing of the combined one committed), and only
 * the failing caller sees its error. Concurrent callers had no order among them, so the combined order
 * (that of their calls) is one they could have had anyway.
 *
 * Only `batch` is coalesced. A single statement (`first`, `all`, `raw`, `run`) keeps its own round trip:
 * its `raw()` rows are positional, while a batch's rows are objects keyed by column name (a join selecting
 * two columns of the same name would lose one).
 *
 * Use it for one invocation's concurrent work (its promises never cross requests).
 */
export function coalescingBatches(d1: D1Database, maxStatements = MAX_STATEMENTS): D1Database {
  type Waiting = { statements: D1PreparedStatement[]; resolve: (r: D1Result[]) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];

  // (a binding that throws instead of rejecting still settles every caller)
  const alone = (w: Waiting) => Promise.resolve().then(() => d1.batch(w.statements)).then(w.resolve, w.reject);

  const send = async (group: Waiting[]) => {
    if (group.length === 1) return alone(group[0]!);
    let results: D1Result[];
    try {
      results = await d1.batch(group.flatMap((w) => w.statements));
    } catch {
      // nothing of the combined batch committed: each caller's batch alone, so only the failing one fails
      await Promise.all(group.map(alone));
      return;
    }
    let at = 0;
    for (const w of group) {
      w.resolve(results.slice(at, at + w.statements.length));
      at += w.statements.length;
    }
  };

  const flush = () => {
    const all = waiting;
    waiting = [];
    // groups of whole callers, each within maxStatements (a caller larger than that goes alone)
    const groups: Waiting[][] = [];
    let group: Waiting[] = [];
    let size = 0;
    for (const w of all) {
      if (group.length > 0 && size + w.statements.length > maxStatements) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(w);
      size += w.statements.length;
    }
    if (group.length > 0) groups.push(group);
    for (const g of groups) void send(g);
  };

  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) =>
          new Promise<D1Result[]>((resolve, reject) => {
            // the first call of a turn schedules the flush after every call this turn makes
            if (waiting.length === 0) setTimeout(flush, 0);
            waiting.push({ statements, resolve, reject });
          });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Statements per combined batch: enough for a message batch's step (25 events × a few statements). */
const MAX_STATEMENTS = 200;
