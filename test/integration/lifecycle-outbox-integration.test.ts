import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createSource } from "../helpers/api";
import { count } from "../helpers/db";
import { PAYMENT_SECRET, paymentInput as input, project, remit, scrub } from "../helpers/lifecycle";
import { alarmMove, flushRetryDelay, nextFlushAt } from "../../src/lifecycle/claim-lifecycle";
import { append, flushOutbox, sendShared, type StoredStatement } from "../../src/lifecycle/outbox";
import { database, nowIso } from "../../src/db/client";
import { domainEventInsert } from "../../src/claims/write";

// Issue 17, item 2: the lifecycle's Durable Object is the authority for its money. It answers from its own
// SQLite, and D1 follows through the object's outbox, flushed by its alarm in order and exactly once.
// The alarm never fires by itself in tests (LIFECYCLE_FLUSH_DELAY_MS is long in vitest.config.ts), so
// each test decides when D1 follows: runDurableObjectAlarm, or the object's flush.

let legacyLifecycle = "";

beforeAll(async () => {
  await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [PAYMENT_SECRET] });
  // a payment D1 held before payment_traces existed (its trace id is not in it until the migration's import runs)
  legacyLifecycle = await lifecycleOwing("OB-LEGACY", 5000);
  const [claim] = await d1<{ id: string }>("SELECT id FROM claims WHERE claim_lifecycle_id = ?", legacyLifecycle);
  await env.DB.prepare(
    "INSERT INTO patient_payment_details (id, trace_key, trace_id, claim_id, claim_lifecycle_id, bill_id, amount_cents, applied_cents, excess_cents, payment_date, source, status, created_at) VALUES ('pay_legacy', 'trace:legacy-1', 'legacy-1', ?, ?, 'OB-LEGACY', 1200, 1200, 0, '2024-01-01', 'cair', 'applied', '2024-01-01T00:00:00Z')",
  )
    .bind(claim!.id, legacyLifecycle)
    .run();
});

/** D1 as it is, without flushing any outbox first (the helpers' rows() flushes). */
const d1 = async <T = any>(sql: string, ...params: unknown[]) => (await env.DB.prepare(sql).bind(...params).all<T>()).results;
const stubOf = (lifecycleId: string) => env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lifecycleId));

async function lifecycleOwing(billId: string, prCents: number | null): Promise<string> {
  const patient = `pt-${billId}`;
  await project("cair.claim_scrubber", scrub({ claimId: `c-${billId}`, billId, patient, created: "2024-10-01" }));
  if (prCents !== null) await project("cair.claim_response", remit({ id: `r-${billId}`, claimId: `c-${billId}`, patient, prCents }));
  const [row] = await d1<{ id: string }>("SELECT id FROM claim_lifecycles WHERE bill_id = ?", billId);
  return row!.id;
}

/**
 * What D1 holds of a lifecycle's payments once its outbox is flushed: each payment's shares (by trace id),
 * how many payment and credit events, and the claims' patient-paid figure.
 */
async function paymentsInD1(lc: string) {
  return {
    payments: (await d1<{ trace_id: string; applied_cents: number; excess_cents: number }>("SELECT trace_id, applied_cents, excess_cents FROM patient_payment_details WHERE claim_lifecycle_id = ? ORDER BY trace_id", lc)).map((r) => [r.trace_id, r.applied_cents, r.excess_cents]),
    events: Object.fromEntries((await d1<{ type: string; n: number }>("SELECT type, count(*) AS n FROM domain_events WHERE claim_lifecycle_id = ? AND type LIKE 'patient_%' GROUP BY type", lc)).map((r) => [r.type, r.n])),
    paid: (await d1<{ paid: number }>("SELECT patient_paid_cents AS paid FROM claims WHERE claim_lifecycle_id = ?", lc)).map((r) => r.paid),
  };
}

/** A signed-in operator's console session cookie. */
async function consoleCookie(): Promise<string> {
  const login = await exports.default.fetch(new Request("https://claimgate.test/console/login", {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://claimgate.test" },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  }));
  return login.headers.get("set-cookie")!.split(";")[0]!;
}

/** The console's page of the lifecycle's (first) claim, as a signed-in operator sees it (the page's own requests, no settling first). */
async function consoleClaimPage(lc: string, cookie?: string): Promise<{ claimId: string; html: string }> {
  const [claim] = await d1<{ id: string }>("SELECT id FROM claims WHERE claim_lifecycle_id = ? ORDER BY created_at LIMIT 1", lc);
  const res = await exports.default.fetch(new Request(`https://claimgate.test/console/claims/${claim!.id}`, { headers: { cookie: cookie ?? (await consoleCookie()) } }));
  return { claimId: claim!.id, html: await res.text() };
}

/** POST /admin/lifecycles/:id/flush as the admin, without the test helpers' settling of every outbox first. */
async function flushNowByApi(lc: string): Promise<{ status: number; body: any }> {
  const res = await exports.default.fetch(new Request(`https://claimgate.test/admin/lifecycles/${lc}/flush`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  return { status: res.status, body: await res.json() };
}

const pay = (billId: string, dollars: number, traceId: string) =>
  call("POST", "/api/webhooks/patient-payment", { json: { billId, paymentAmount: dollars, paymentTraceId: traceId, paymentDate: "2025-01-01" }, headers: { "X-API-KEY": PAYMENT_SECRET } });


describe("the object answers, D1 follows", () => {
  it("the answer is immediate and right; D1 has nothing of it until the alarm flushes the outbox, then all of it", async () => {
    const lc = await lifecycleOwing("OB-1", 5000);
    const res = await pay("OB-1", 80, "ob-1");
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ claimLifecycleId: lc, amountSetOnClaim: 50, excessAmount: 30 });

    expect(await d1("SELECT id FROM patient_payment_details WHERE trace_id = 'ob-1'")).toEqual([]);
    expect(await d1("SELECT patient_paid_cents AS paid FROM claims WHERE claim_lifecycle_id = ?", lc)).toEqual([{ paid: 0 }]);
    const [event] = await d1<{ status: string }>("SELECT status FROM events WHERE source_id = 'patient-payments' ORDER BY received_at DESC LIMIT 1");
    expect(event!.status).toBe("pending");
    expect(await stubOf(lc).outboxStatus()).toMatchObject({ pending: 1 });

    expect(await runDurableObjectAlarm(stubOf(lc))).toBe(true);

    const [payment] = await d1("SELECT id, applied_cents, excess_cents, status FROM patient_payment_details WHERE trace_id = 'ob-1'");
    expect(payment).toMatchObject({ applied_cents: 5000, excess_cents: 3000, status: "applied" });
    expect(await d1("SELECT amount_cents, status FROM patient_credits WHERE source_payment_id = ?", payment.id)).toEqual([{ amount_cents: 3000, status: "unallocated" }]);
    expect(await d1("SELECT patient_paid_cents AS paid FROM claims WHERE claim_lifecycle_id = ?", lc)).toEqual([{ paid: 5000 }]);
    expect((await d1("SELECT type FROM domain_events WHERE source_event_id = ? ORDER BY type", payment.id)).map((r) => r.type)).toEqual(["patient_credit.created", "patient_payment.applied"]);
    expect(await d1("SELECT count(*) AS n FROM payment_reconciliations WHERE payment_id = ?", payment.id)).toEqual([{ n: 1 }]);
    const [processed] = await d1<{ status: string }>("SELECT status FROM events WHERE source_id = 'patient-payments' ORDER BY received_at DESC LIMIT 1");
    expect(processed!.status).toBe("processed");
    expect(await stubOf(lc).outboxStatus()).toEqual({ pending: 0, oldestAt: null, failing: null });
    // the domain events went out: the flush fanned them out (no subscription here, so they are only marked)
    expect(await d1("SELECT count(*) AS n FROM domain_events WHERE source_event_id = ? AND fanned_out_at IS NULL", payment.id)).toEqual([{ n: 0 }]);
  });

  it("a quiet lifecycle's outbox is flushed 100–200 ms after its operation, on a 100 ms grid; a busy one's at most once a second", async () => {
    expect(nextFlushAt({ now: 10_000, lastFlushAt: 0, delayMs: 100, intervalMs: 1_000 })).toBe(10_100);
    expect(nextFlushAt({ now: 10_030, lastFlushAt: 0, delayMs: 100, intervalMs: 1_000 })).toBe(10_200);
    expect(nextFlushAt({ now: 10_000, lastFlushAt: 9_950, delayMs: 100, intervalMs: 1_000 })).toBe(11_000);
    expect(nextFlushAt({ now: 10_000, lastFlushAt: 8_000, delayMs: 100, intervalMs: 1_000 })).toBe(10_100);
    // no delay: no grid
    expect(nextFlushAt({ now: 10_031, lastFlushAt: 0, delayMs: 0, intervalMs: 0 })).toBe(10_031);

    // and the object schedules its alarm so (the suite's own delay keeps alarms from firing: this object
    // gets the defaults)
    const lc = await lifecycleOwing("OB-FLUSH", 5000);
    const stub = stubOf(lc);
    const defaults = (o: unknown) => Object.assign(o as Record<string, unknown>, { env: { ...env, LIFECYCLE_FLUSH_DELAY_MS: "100", LIFECYCLE_FLUSH_INTERVAL_MS: "1000" } });
    const alarmAfter = async (cents: number, traceId: string) =>
      runInDurableObject(stub, async (object, state) => {
        defaults(object);
        const before = Date.now();
        await object.applyPayment(input(lc, "OB-FLUSH", cents, traceId));
        // the alarm is set just behind the answer
        let alarm = await state.storage.getAlarm();
        for (let i = 0; alarm === null && i < 100; i++) alarm = await scheduler.wait(1).then(() => state.storage.getAlarm());
        return { before, alarm: alarm! };
      });
    const quiet = await alarmAfter(100, "ob-flush-1");
    expect(quiet.alarm - quiet.before).toBeGreaterThanOrEqual(100);
    expect(quiet.alarm - quiet.before).toBeLessThan(1_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const flushedAt = Date.now();
    const busy = await alarmAfter(200, "ob-flush-2");
    expect(busy.alarm).toBeGreaterThanOrEqual(flushedAt + 1_000 - 50);
    expect(busy.alarm).toBeLessThan(flushedAt + 1_000 + 500);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await d1("SELECT count(*) AS n FROM patient_payment_details WHERE claim_lifecycle_id = ?", lc)).toEqual([{ n: 2 }]);
  });

  it("an entry sent again after a crash applies nothing twice, and the entries after it still land, in order", async () => {
    const lc = await lifecycleOwing("OB-2", 5000);
    expect((await pay("OB-2", 20, "ob-2a")).status).toBe(200);
    const stub = stubOf(lc);
    const result = await runInDurableObject(stub, async (object, state) => {
      const sql = state.storage.sql;
      const kept = sql.exec<{ seq: number; statements: string; created_at: string }>("SELECT seq, statements, created_at FROM outbox").toArray();
      expect(kept).toHaveLength(1);
      expect(await object.flush()).toBe(1);
      // the object "died" after D1 committed the batch and before it forgot the entry
      for (const r of kept) sql.exec("INSERT INTO outbox (seq, statements, created_at) VALUES (?, ?, ?)", r.seq, r.statements, r.created_at);
      // a later payment moves the first one's share? no: it fills the rest and its excess is credit
      const second = await object.applyPayment(input(lc, "OB-2", 4000, "ob-2b"));
      expect(object.outboxStatus().pending).toBe(2);
      const applied = await object.flush();
      return { second, applied, again: await object.flush() };
    });
    expect(result.second).toMatchObject({ outcome: "applied", payment: { appliedCents: 3000, excessCents: 1000 } });
    expect(result.applied).toBe(1);
    expect(result.again).toBe(0);
    expect(await paymentsInD1(lc)).toEqual({
      payments: [
        ["ob-2a", 2000, 0],
        ["ob-2b", 3000, 1000],
      ],
      events: { "patient_credit.created": 1, "patient_payment.applied": 2 },
      paid: [5000],
    });
    // D1 keeps only the newest markers of a lifecycle
    expect((await d1<{ seq: number }>("SELECT seq FROM lifecycle_outbox_applied WHERE lifecycle_id = ?", lc)).length).toBe(1);
  });

  it("a batch of entries sent again after a crash applies none of them twice: D1 marks a batch's first and last entries, and the last says how far it got", async () => {
    const lc = await lifecycleOwing("OB-3M", 5000);
    const stub = stubOf(lc);
    const markers = () => d1<{ seq: number }>("SELECT seq FROM lifecycle_outbox_applied WHERE lifecycle_id = ? ORDER BY seq", lc);
    const result = await runInDurableObject(stub, async (object, state) => {
      const sql = state.storage.sql;
      for (const [cents, trace] of [[1000, "ob-3m-a"], [1500, "ob-3m-b"], [2000, "ob-3m-c"]] as const) {
        expect(await object.applyPayment(input(lc, "OB-3M", cents, trace))).toMatchObject({ outcome: "applied" });
      }
      const kept = sql.exec<{ seq: number; statements: string; created_at: string }>("SELECT seq, statements, created_at FROM outbox ORDER BY seq").toArray();
      expect(kept).toHaveLength(3);
      expect(await object.flush()).toBe(3);
      const afterFirst = (await markers()).map((m) => m.seq);
      // the object "died" after D1 committed the three and before it forgot them
      for (const r of kept) sql.exec("INSERT INTO outbox (seq, statements, created_at) VALUES (?, ?, ?)", r.seq, r.statements, r.created_at);
      const fourth = await object.applyPayment(input(lc, "OB-3M", 1000, "ob-3m-d"));
      return { seqs: kept.map((r) => Number(r.seq)), afterFirst, fourth, applied: await object.flush(), again: await object.flush() };
    });
    // one marker for the first entry and one for the last, none for the one between
    expect(result.afterFirst).toEqual([result.seqs[0], result.seqs[2]]);
    expect(result.fourth).toMatchObject({ outcome: "applied", payment: { appliedCents: 500, excessCents: 500 } });
    expect(result.applied).toBe(1);
    expect(result.again).toBe(0);
    expect(await paymentsInD1(lc)).toEqual({
      payments: [
        ["ob-3m-a", 1000, 0],
        ["ob-3m-b", 1500, 0],
        ["ob-3m-c", 2000, 0],
        ["ob-3m-d", 500, 500],
      ],
      events: { "patient_credit.created": 1, "patient_payment.applied": 4 },
      paid: [5000],
    });
    // the last batch held the fourth entry alone, and pruned the markers below it
    expect((await markers()).length).toBe(1);
  });

  it("objects flushing at once share D1 batches; one object's refused flush fails that object alone, and the others land once", async () => {
    // the real D1, its batch calls counted (a binding of its own, so a batcher of its own)
    let batches = 0;
    const counted = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return (statements: D1PreparedStatement[]) => (batches++, target.batch(statements));
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ctx = createExecutionContext();
    const send = sendShared(counted, (work) => ctx.waitUntil(work));
    const marker = (lc: string, seq: number): StoredStatement => ({ sql: "INSERT INTO lifecycle_outbox_applied (lifecycle_id, seq, applied_at) VALUES (?, ?, ?)", params: [lc, seq, nowIso()] });
    const flush = (lc: string) => [marker(lc, 1), marker(lc, 2)];
    const held = async (lc: string) => (await d1<{ seq: number }>("SELECT seq FROM lifecycle_outbox_applied WHERE lifecycle_id = ? ORDER BY seq", lc)).map((r) => r.seq);

    // four at once: the first goes at once by itself, the three that came meanwhile in one batch
    const together = await Promise.allSettled(["sh-a", "sh-b", "sh-c", "sh-d"].map((lc) => send(flush(lc))));
    expect(together.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(batches).toBe(2);
    for (const lc of ["sh-a", "sh-b", "sh-c", "sh-d"]) expect(await held(lc)).toEqual([1, 2]);

    // one of them refused (its second statement collides): the shared batch rolls back, each goes again by
    // itself, and only that one fails, with D1's own error and none of its statements kept
    batches = 0;
    const refused = [marker("sh-y", 1), marker("sh-y", 1)];
    const mixed = await Promise.allSettled([send(flush("sh-w")), send(flush("sh-x")), send(refused), send(flush("sh-z"))]);
    expect(mixed.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(String((mixed[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed: lifecycle_outbox_applied/);
    expect(batches).toBe(1 + 1 + 3);
    for (const lc of ["sh-w", "sh-x", "sh-z"]) expect(await held(lc)).toEqual([1, 2]);
    expect(await held("sh-y")).toEqual([]);
    await waitOnExecutionContext(ctx);
  });

  it("two lifecycles' payments flushed at once both land, once; D1 refusing one lifecycle's leaves the other's landed and its own queued", async () => {
    const [a, b] = [await lifecycleOwing("OB-SH-A", 5000), await lifecycleOwing("OB-SH-B", 5000)];
    expect(await stubOf(a).applyPayment(input(a, "OB-SH-A", 1000, "ob-sh-a1"))).toMatchObject({ outcome: "applied" });
    expect(await stubOf(b).applyPayment(input(b, "OB-SH-B", 2000, "ob-sh-b1"))).toMatchObject({ outcome: "applied" });
    await env.DB.prepare(`CREATE TRIGGER refuse_shared BEFORE INSERT ON patient_payment_details WHEN NEW.claim_lifecycle_id = '${b}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).run();
    try {
      const [flushedA, flushedB] = await Promise.allSettled([stubOf(a).flush(), stubOf(b).flush()]);
      expect(flushedA).toEqual({ status: "fulfilled", value: 1 });
      expect(flushedB.status).toBe("rejected");
      expect((await paymentsInD1(a)).payments).toEqual([["ob-sh-a1", 1000, 0]]);
      expect((await paymentsInD1(b)).payments).toEqual([]);
      expect(await stubOf(b).outboxStatus()).toMatchObject({ pending: 1 });
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_shared").run();
    }
    expect(await stubOf(b).flush()).toBe(1);
    expect((await paymentsInD1(b)).payments).toEqual([["ob-sh-b1", 2000, 0]]);
    expect((await paymentsInD1(a)).payments).toEqual([["ob-sh-a1", 1000, 0]]);
  });

  it("an entry longer than one SQLite value is kept in parts, and D1 gets it whole, once", async () => {
    const lc = await lifecycleOwing("OB-PARTS", 5000);
    // payloads with characters outside the BMP, so that a cut could fall inside a surrogate pair
    const note = "payé 💳 ".repeat(40);
    const result = await runInDurableObject(stubOf(lc), async (_object, state) => {
      const sql = state.storage.sql;
      const db = database(env.DB);
      const writes = [1, 2, 3].map((n) => domainEventInsert(db, `ob-parts-${n}`, { type: "patient_payment.applied", claimId: null, lifecycleId: lc, payload: { n, note } }));
      append(sql, writes, nowIso(), 97); // 97 UTF-16 units per value here; 500,000 in the object
      const kept = {
        entries: sql.exec("SELECT count(*) AS n FROM outbox").one().n,
        parts: sql.exec("SELECT count(*) AS n FROM outbox_parts").one().n,
        longest: sql.exec("SELECT max(length(text)) AS n FROM outbox_parts").one().n,
      };
      const flushed = await flushOutbox(sql, env.DB, lc, nowIso);
      const left = { entries: sql.exec("SELECT count(*) AS n FROM outbox").one().n, parts: sql.exec("SELECT count(*) AS n FROM outbox_parts").one().n };
      return { kept, flushed, left };
    });
    expect(result.kept.entries).toBe(1);
    expect(result.kept.parts).toBeGreaterThan(10);
    expect(result.kept.longest).toBeLessThanOrEqual(97);
    expect(result.flushed).toEqual({ entries: 1, domainEvents: 3 });
    expect(result.left).toEqual({ entries: 0, parts: 0 });
    const stored = await d1<{ source_event_id: string; payload: string }>("SELECT source_event_id, payload FROM domain_events WHERE source_event_id LIKE 'ob-parts-%' ORDER BY source_event_id");
    expect(stored.map((r) => [r.source_event_id, JSON.parse(r.payload)])).toEqual([1, 2, 3].map((n) => [`ob-parts-${n}`, { n, note }]));
  });

  it("the object's state survives it: a new instance answers from its SQLite, not from D1", async () => {
    const lc = await lifecycleOwing("OB-5", 1000);
    expect((await pay("OB-5", 4, "ob-5a")).status).toBe(200);
    // D1 has not seen the payment; a second object of the same lifecycle reading D1 would think 10.00 is due
    expect(await d1("SELECT id FROM patient_payment_details WHERE claim_lifecycle_id = ?", lc)).toEqual([]);
    const due = await runInDurableObject(stubOf(lc), async (object, state) => {
      // (its payments are rows of their own: src/lifecycle/state-store.ts)
      expect(state.storage.sql.exec("SELECT row FROM lifecycle_rows WHERE kind = 'payments'").toArray()).toHaveLength(1);
      // forget the in-memory copy, as an evicted object would
      Object.assign(object as unknown as Record<string, unknown>, { state: null, storedRows: null });
      return object.due(lc);
    });
    expect(due).toEqual({ outcome: "due", dueCents: 600 });
  });

  it("a payment projected from the queue leaves its event pending until the object's flush marks it processed with the payment", async () => {
    const lc = await lifecycleOwing("OB-6", 1000);
    const id = "evt_ob6_payment";
    await env.DB.prepare("INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at) VALUES (?, 'patient-payments', 'cair.patient_payment', ?, ?, '{}', ?)")
      .bind(id, id, JSON.stringify({ billId: "OB-6", paymentAmount: 7, paymentTraceId: "ob-6", paymentDate: "2025-01-01" }), new Date().toISOString())
      .run();
    const batch = createMessageBatch("claimgate-events", [{ id: "m-ob6", timestamp: new Date(), attempts: 1, body: { eventId: id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m-ob6"]);
    // applied in the object; D1 has neither the payment nor the event's end yet (a crash here leaves the
    // event pending, and the sweep drives it again)
    expect(await d1("SELECT status FROM events WHERE id = ?", id)).toEqual([{ status: "pending" }]);
    expect(await d1("SELECT id FROM patient_payment_details WHERE trace_id = 'ob-6'")).toEqual([]);
    await runDurableObjectAlarm(stubOf(lc));
    expect(await d1("SELECT status, event_type FROM events WHERE id = ?", id)).toEqual([{ status: "processed", event_type: "patient_payment.applied" }]);
    expect(await d1("SELECT event_id, applied_cents FROM patient_payment_details WHERE trace_id = 'ob-6'")).toEqual([{ event_id: id, applied_cents: 700 }]);
  });

  it("an operator's Reprocess of a refused payment answers processed at once: the object's flush comes first", async () => {
    const lc = await lifecycleOwing("OB-9", null);
    const early = await pay("OB-9", 8, "ob-9");
    expect(early.body.error.code).toBe("NO_CLAIM_RESPONSE");
    const [failed] = await d1<{ id: string }>("SELECT id FROM events WHERE source_id = 'patient-payments' AND status = 'failed' AND last_error = 'NO_CLAIM_RESPONSE'");
    await project("cair.claim_response", remit({ id: "r-OB-9", claimId: "c-OB-9", patient: "pt-OB-9", prCents: 1000 }));
    const res = await call("POST", `/admin/events/${failed!.id}/reprocess`, { admin: true });
    expect(res.body).toMatchObject({ eventId: failed!.id, status: "processed", reprocessed: true });
    expect(await d1("SELECT applied_cents FROM patient_payment_details WHERE trace_id = 'ob-9' AND claim_lifecycle_id = ?", lc)).toEqual([{ applied_cents: 800 }]);
  });

  it("the console's claim page says when D1 is behind the lifecycle's object, and stops saying it once it is not", async () => {
    const lc = await lifecycleOwing("OB-7", 1000);
    expect((await pay("OB-7", 3, "ob-7")).status).toBe(200);
    const page = async () => (await consoleClaimPage(lc)).html;
    expect(await page()).toMatch(/id="outbox-pending">\s*1 change\(s\) of this lifecycle&#39;s money are not in D1 yet/);
    await runDurableObjectAlarm(stubOf(lc));
    const after = await page();
    expect(after).not.toContain("outbox-pending");
    expect(after).toContain("ob-7");
  });
});

describe("what D1 can no longer decide", () => {
  it("a trace id is taken once across lifecycles before D1 has either payment; a refused payment gives it back", async () => {
    await lifecycleOwing("OB-3A", 1000);
    await lifecycleOwing("OB-3B", 1000);
    const both = await Promise.all([pay("OB-3A", 10, "ob-3"), pay("OB-3B", 10, "ob-3")]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.body.error.code).toBe("TRACE_ID_CONFLICT");
    expect(await count("patient_payment_details", "trace_id = 'ob-3'")).toBe(1);

    await lifecycleOwing("OB-3C", null); // a claim with no remit yet
    const refused = await pay("OB-3C", 5, "ob-3c");
    expect(refused.body.error.code).toBe("NO_CLAIM_RESPONSE");
    expect((await pay("OB-3A", 5, "ob-3c")).status).toBe(200);
  });

  it("payments D1 held before payment_traces existed keep their trace ids taken (its migration imports them)", async () => {
    // the legacy payment was written after the migrations ran (beforeAll): run the migration's import again
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0015_payment_traces"))!;
    const imports = migration.queries.filter((q) => q.includes("INSERT OR IGNORE INTO `payment_traces`"));
    expect(imports).toHaveLength(1);
    await env.DB.prepare(imports[0]!).run();
    expect(await d1("SELECT bill_id, amount_cents FROM payment_traces WHERE trace_key = 'trace:legacy-1'")).toEqual([{ bill_id: "OB-LEGACY", amount_cents: 1200 }]);

    await lifecycleOwing("OB-8", 5000);
    const other = await pay("OB-8", 12, "legacy-1");
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("TRACE_ID_CONFLICT");
    // the refusal gave nothing back: the trace id is still the legacy payment's
    expect(await d1("SELECT bill_id FROM payment_traces WHERE trace_key = 'trace:legacy-1'")).toEqual([{ bill_id: "OB-LEGACY" }]);
  });

  it("sealed before a merge: D1 gets the object's payments first, then it forwards; a reconcile lifts a seal whose merge never happened", async () => {
    const a = await lifecycleOwing("OB-4A", 5000);
    const b = await lifecycleOwing("OB-4B", 5000);
    expect((await pay("OB-4A", 10, "ob-4")).status).toBe(200);
    expect(await d1("SELECT id FROM patient_payment_details WHERE trace_id = 'ob-4'")).toEqual([]);
    await stubOf(a).seal(a, b);
    expect(await d1("SELECT claim_lifecycle_id AS lifecycle_id FROM patient_payment_details WHERE trace_id = 'ob-4'")).toEqual([{ lifecycle_id: a }]);
    expect(await stubOf(a).applyPayment(input(a, "OB-4A", 100, "ob-4x"))).toEqual({ outcome: "moved", lifecycleId: b });
    // D1 says a was never merged: reloading from D1 takes the object back
    expect(await stubOf(a).reconcile(a)).toMatchObject({ lifecycleId: a, appliedCents: 1000 });
    expect(await stubOf(a).applyPayment(input(a, "OB-4A", 100, "ob-4y"))).toMatchObject({ outcome: "applied" });
  });

  it("an outbox D1 keeps refusing is retried after 2 s, 4 s, 8 s … (not every 2 s for ever), new payments wait behind it, and it lands once D1 takes it", async () => {
    const lc = await lifecycleOwing("OB-BACKOFF", 5000);
    const stub = stubOf(lc);
    const alarmIn = async () => {
      const at = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
      return at === null ? null : at - Date.now();
    };
    await env.DB.prepare(`CREATE TRIGGER refuse_backoff BEFORE INSERT ON patient_payment_details WHEN NEW.claim_lifecycle_id = '${lc}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).run();
    try {
      expect((await pay("OB-BACKOFF", 10, "ob-bo-1")).status).toBe(200);
      const delays: (number | null)[] = [];
      for (let i = 0; i < 3; i++) {
        expect(await runDurableObjectAlarm(stub)).toBe(true);
        delays.push(await alarmIn());
      }
      const [first, second, third] = delays.map((d) => d ?? -1);
      expect(first).toBeGreaterThan(1_000);
      expect(first).toBeLessThanOrEqual(2_000);
      expect(second).toBeGreaterThan(3_000);
      expect(second).toBeLessThanOrEqual(4_000);
      expect(third).toBeGreaterThan(7_000);
      expect(third).toBeLessThanOrEqual(8_000);
      // a payment meanwhile is answered and queued behind the refused entry
      // (the object directly: the test helpers' requests flush every outbox first, and this one is refused)
      expect(await stub.applyPayment(input(lc, "OB-BACKOFF", 1000, "ob-bo-2"))).toMatchObject({ outcome: "applied" });
      const status = await stub.outboxStatus();
      expect(status).toMatchObject({ pending: 2, failing: { inARow: 3, lastError: expect.stringContaining("refused by the test") } });
      expect(Date.parse(status.failing!.nextTryAt) - Date.now()).toBeGreaterThan(6_000);
      // the operator's claim page says so, and what D1 said, with a button to send it now
      const { html } = await consoleClaimPage(lc);
      expect(html).toMatch(/2 change\(s\) of this lifecycle&#39;s money are not in D1 yet[\s\S]*D1 refused the last 3 attempt\(s\) to write them \([^)]*refused by the test/);
      expect(html).toContain("Send to D1 now");
      // sending now while D1 still refuses: the answer says so, and nothing changes
      const tried = await flushNowByApi(lc);
      expect(tried.status).toBe(200);
      expect(tried.body).toMatchObject({ lifecycleId: lc, outcome: "refused", pending: 2, error: expect.stringContaining("refused by the test") });
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_backoff").run();
    }
    // the cause fixed, the operator sends it from the claim page instead of waiting out the back-off
    const cookie = await consoleCookie();
    const { claimId, html } = await consoleClaimPage(lc, cookie);
    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(html)![1]!;
    const sent = await exports.default.fetch(new Request(`https://claimgate.test/console/claims/${claimId}/flush`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: "https://claimgate.test" },
      body: new URLSearchParams({ csrf }).toString(),
    }));
    expect(sent.status).toBe(303);
    expect(decodeURIComponent(sent.headers.get("location")!)).toContain("flush=flushed (2 change(s))");
    expect(await stub.outboxStatus()).toEqual({ pending: 0, oldestAt: null, failing: null });
    // both are audited, with the operator as actor
    expect(await d1("SELECT action, status FROM audit_log WHERE target IN (?, ?) ORDER BY id", `/admin/lifecycles/${lc}/flush`, `/console/claims/${claimId}/flush`)).toEqual([
      { action: "POST /admin/lifecycles/:id/flush", status: 200 },
      { action: "POST /console/claims/:id/flush", status: 303 },
    ]);
    expect((await flushNowByApi("lc_unknown")).body).toMatchObject({ error: { code: "LIFECYCLE_NOT_FOUND" } });
    expect((await paymentsInD1(lc)).payments).toEqual([
      ["ob-bo-1", 1000, 0],
      ["ob-bo-2", 1000, 0],
    ]);
    // the delays go on doubling up to a minute; an operation during the back-off leaves the retry where it is
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(flushRetryDelay)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(alarmMove({ current: 18_000, at: 11_000, backingOff: true })).toBeNull();
    expect(alarmMove({ current: 18_000, at: 11_000, backingOff: false })).toBe(11_000);
    expect(alarmMove({ current: 9_000, at: 11_000, backingOff: false })).toBeNull();
    expect(alarmMove({ current: null, at: 11_000, backingOff: true })).toBe(11_000);
    // a flush that lands ends the back-off: the next refusal is retried after 2 s again (the alarm's own flush now)
    await env.DB.prepare(`CREATE TRIGGER refuse_backoff BEFORE INSERT ON patient_payment_details WHEN NEW.claim_lifecycle_id = '${lc}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).run();
    try {
      expect(await stub.applyPayment(input(lc, "OB-BACKOFF", 1000, "ob-bo-3"))).toMatchObject({ outcome: "applied" });
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await alarmIn()).toBeLessThanOrEqual(2_000);
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_backoff").run();
    }
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.outboxStatus()).toMatchObject({ pending: 0 });
  });

  it("a reconcile sends its writes before it answers; when D1 refuses them they stay queued and the alarm lands them", async () => {
    const lc = await lifecycleOwing("OB-RC", null);
    const stub = stubOf(lc);
    expect(await stub.summary(lc)).toMatchObject({ responsibilityCents: null });
    // the remit arrives: its projection's reconcile has D1's figures right by the time the event is processed
    await project("cair.claim_response", remit({ id: "r-OB-RC", claimId: "c-OB-RC", patient: "pt-OB-RC", prCents: 4000 }));
    expect(await d1("SELECT responsibility_cents AS r FROM claim_lifecycles WHERE id = ?", lc)).toEqual([{ r: 4000 }]);
    expect(await stub.outboxStatus()).toMatchObject({ pending: 0 });
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBeNull();

    // D1 refuses the next figures: the reconcile fails (the projection would be retried), nothing is lost
    await env.DB.prepare(`CREATE TRIGGER refuse_figures BEFORE UPDATE ON claim_lifecycles WHEN NEW.id = '${lc}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).run();
    try {
      await env.DB.prepare("UPDATE claim_responses SET patient_responsibility_cents = 2500 WHERE id = 'r-OB-RC'").run();
      const refused = await stub.reconcile(lc).then(
        () => null,
        (e: unknown) => String(e),
      );
      expect(refused).toMatch(/refused by the test/);
      expect(await stub.outboxStatus()).toMatchObject({ pending: 1 });
      expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull();
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_figures").run();
    }
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.outboxStatus()).toMatchObject({ pending: 0 });
    expect(await d1("SELECT responsibility_cents AS r FROM claim_lifecycles WHERE id = ?", lc)).toEqual([{ r: 2500 }]);
  });
});
