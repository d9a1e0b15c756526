// The events consumer's cost per event inside workerd, split into the time D1 calls are outstanding and
// the rest (our JavaScript and the runtime's), for message batches of 50 remits of new claims (the
// delivery bench's end-to-end load), beside a hello-world request through the same Worker in the same run.
// Also counts the SQL texts drizzle builds per event (src/db/compiled.ts builds the hot ones once).
// Prints one CONSUMER_RESULT line (bench/cpu.mjs keeps it in bench/results/cpu.json).
import { applyD1Migrations, createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SQLiteDialect } from "drizzle-orm/sqlite-core";
import { it } from "vitest";
import worker from "../../src/index";
import { remitBundle } from "../../test/helpers/fixtures";

const EVENTS = Number(import.meta.env?.BENCH_CONSUMER_EVENTS ?? 500);
const WARM_UP = 100;
const BATCH = 50; // wrangler.toml's max_batch_size for the events queue

/** The real binding, with the time any of its calls is outstanding summed (overlapping calls once). */
function timedD1(d1: D1Database) {
  let outstanding = 0;
  let since = 0;
  const time = { busyMs: 0 };
  const timed = <T>(p: Promise<T>) => {
    if (outstanding++ === 0) since = performance.now();
    return p.finally(() => {
      if (--outstanding === 0) time.busyMs += performance.now() - since;
    });
  };
  const statement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "bind") return (...args: unknown[]) => statement(value.apply(target, args));
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") return (...args: unknown[]) => timed(value.apply(target, args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = new Proxy(d1, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "prepare") return (sql: string) => statement(value.call(target, sql));
      if (prop === "batch") return (statements: D1PreparedStatement[]) => timed(value.call(target, statements));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, time };
}

// every SQL text drizzle builds from a query tree goes through sqlToQuery
let built = 0;
const dialect = SQLiteDialect.prototype as unknown as { sqlToQuery: (...a: unknown[]) => unknown };
const sqlToQuery = dialect.sqlToQuery;
dialect.sqlToQuery = function (this: unknown, ...a: unknown[]) {
  built++;
  return sqlToQuery.apply(this, a);
};

it("events consumer per event", async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  const ids: string[] = [];
  for (let i = 0; i < WARM_UP + EVENTS; i++) {
    const body = remitBundle((cr) => {
      cr.id = `bench-cr-${i}`;
      cr.request.reference = `Claim/bench-claim-${i}`;
      cr.patient.reference = `Patient/bench-patient-${i}`;
    });
    const id = `evt_bench_${i}`;
    await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, 'remit', 'cair.claim_response', ?, ?, '{}', ?)")
      .bind(id, id, JSON.stringify(body), new Date().toISOString())
      .run();
    ids.push(id);
  }
  const { db, time } = timedD1(env.DB);
  const consume = async (eventIds: string[]) => {
    const batch = createMessageBatch("claimgate-events", eventIds.map((id) => ({ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { eventId: id } })));
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: db }, ctx);
    const result = await getQueueResult(batch, ctx);
    if (result.retryMessages.length) throw new Error(`retried: ${JSON.stringify(result.retryMessages)}`);
  };
  for (let i = 0; i < WARM_UP; i += BATCH) await consume(ids.slice(i, i + BATCH));
  time.busyMs = 0;
  built = 0;
  const start = performance.now();
  for (let i = WARM_UP; i < WARM_UP + EVENTS; i += BATCH) await consume(ids.slice(i, i + BATCH));
  const totalMs = performance.now() - start;
  const processed = (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE status = 'processed'").first<{ n: number }>())!.n;
  if (processed !== WARM_UP + EVENTS) throw new Error(`${processed} of ${WARM_UP + EVENTS} events processed`);

  const helloStart = performance.now();
  for (let i = 0; i < 500; i++) await (await worker.fetch(new Request("https://x/health"), env, createExecutionContext())).text();
  const helloMs = (performance.now() - helloStart) / 500;

  const perEvent = (x: number) => Math.round((x / EVENTS) * 1000) / 1000;
  const result = {
    events: EVENTS,
    batchSize: BATCH,
    msPerEvent: perEvent(totalMs),
    d1OutstandingMsPerEvent: perEvent(time.busyMs),
    otherMsPerEvent: perEvent(totalMs - time.busyMs),
    sqlTextsBuiltPerEvent: Math.round((built / EVENTS) * 100) / 100,
    helloWorldMs: Math.round(helloMs * 1000) / 1000,
  };
  console.log(`CONSUMER_RESULT ${JSON.stringify(result)}`);
});
