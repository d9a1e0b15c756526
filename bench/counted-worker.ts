// bench/delivery's Worker: the real one (src/index.ts), with its D1 round trips counted. Each call that
// goes to D1 (a statement's first/all/run/raw, or one batch) is one round trip; locally one costs about
// what a hello-world request does (bench/results/delivery.json, d1RoundTrips), so the count per event is
// the cost model of the projection path. GET /__bench/d1-round-trips answers the counts by the first
// statement's SQL and starts over. Counted per isolate, for everything the Worker runs there: requests,
// queue consumers and the Durable Objects. GET /__bench/fanned-out counts the domain events fanned out.
import { env } from "cloudflare:workers";
import worker from "../src/index";

export { ClaimLifecycle, SubscriptionThrottle } from "../src/index";

const counts = new Map<string, number>();
const label = (sql: unknown) => String(sql ?? "").replace(/\s+/g, " ").slice(0, 70);
const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

// The binding's classes are not exported; their prototypes are reached through the binding itself.
const db = (env as unknown as { DB: D1Database }).DB;
const dbProto = Object.getPrototypeOf(db);
const statementProto = Object.getPrototypeOf(db.prepare("SELECT 1"));
const batch = dbProto.batch;
dbProto.batch = function (statements: { statement?: string }[]) {
  add(`batch of ${statements.length}: ${label(statements[0]?.statement)}`);
  return batch.call(this, statements);
};
for (const method of ["first", "all", "run", "raw"]) {
  const original = statementProto[method];
  statementProto[method] = function (this: { statement?: string }, ...args: unknown[]) {
    add(label(this.statement));
    return original.apply(this, args);
  };
}

/**
 * What one D1 round trip costs next to a request that does nothing (bench/round-trip-cost.mjs): an empty
 * answer, one statement, five statements one after another, and five in one batch.
 */
const probes: Record<string, () => Promise<unknown>> = {
  "/__bench/probe/empty": async () => null,
  "/__bench/probe/one": () => db.prepare("SELECT 1").first(),
  "/__bench/probe/five-sequential": async () => {
    for (let i = 0; i < 5; i++) await db.prepare("SELECT 1").first();
  },
  "/__bench/probe/five-in-one-batch": () => db.batch(Array.from({ length: 5 }, () => db.prepare("SELECT 1"))),
};

export default {
  ...worker,
  async fetch(request: Request, env: never, ctx: ExecutionContext) {
    const path = new URL(request.url).pathname;
    if (path === "/__bench/d1-round-trips") {
      const body = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
      counts.clear();
      return Response.json(body);
    }
    if (path === "/__bench/fanned-out") {
      // domain events fanned out (their deliveries created and enqueued): where the "end to end" ends
      const row = await db.prepare("SELECT count(*) AS n FROM domain_events WHERE fanned_out_at IS NOT NULL").first<{ n: number }>();
      return Response.json({ fannedOut: row?.n ?? 0 });
    }
    const probe = probes[path];
    if (probe) {
      await probe();
      return new Response("ok");
    }
    return worker.fetch(request, env, ctx);
  },
};
