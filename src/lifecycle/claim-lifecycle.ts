import { DurableObject } from "cloudflare:workers";
import { database, nowIso } from "../db/client";
import { fanOutCoalesced } from "../delivery/fan-out";
import { nonNegativeVar, type Env } from "../env";
import { errorText, log } from "../log";
import * as ops from "./operations";
import { append, flushOutbox, initOutbox, oldestPendingAt, pendingCount, sendShared, type Flushed, type SendBatch } from "./outbox";
import { initStateStore, loadState, saveState, type StoredRows } from "./state-store";
import { loadLifecycle, type LifecycleState } from "./store";

export type { MoneySummary, PaymentInput, PaymentOutcome, PaymentResult, ReserveInput, ReserveResult, ReversalOutcome, ReversalResult, DueResult, Moved } from "./operations";

const FLUSH_DELAY_MS = 100;
const FLUSH_INTERVAL_MS = 1_000;
/** How long after a failed flush the alarm tries again: doubling from the first, up to the most. */
const FLUSH_RETRY_FIRST_MS = 2_000;
const FLUSH_RETRY_MOST_MS = 60_000;

export type FlushNowResult = ({ outcome: "flushed"; entries: number } | { outcome: "refused"; error: string }) & { pending: number };

export interface OutboxStatus {
  pending: number;
  oldestAt: string | null;
  /** While the alarm's flushes fail: how many in a row, what D1 said last (no bound values), the next try. */
  failing: { inARow: number; lastError: string; nextTryAt: string } | null;
}

/**
 * One object per claim lifecycle, the authority for that lifecycle's patient money (issue 17). It keeps
 * the lifecycle's state (its claims and remits as the projection last told it, its payments, credits and
 * allocations) in its own SQLite and answers payments from there, with no D1 round trip. Each operation
 * stores its next state and queues its D1 statements in the outbox (src/lifecycle/outbox.ts) in one
 * transaction, then the alarm flushes the outbox to D1 in order, exactly once, and fans out the domain
 * events it wrote; D1 follows within moments.
 *
 * The projection tells the object when the facts change (`reconcile` after a remit or a claim version,
 * `seal` before a merge folds it into another lifecycle): it flushes first, so D1 holds everything this
 * object decided, then reloads the facts from D1. A reconcile, and the operations other lifecycles read
 * right after (credit reservations, reversals), send their own writes before they answer.
 *
 * Operations run strictly one at a time (a promise chain: flushes and loads are outside I/O, during which
 * a Durable Object would otherwise start the next request). The surface speaks domain outcomes, never HTTP.
 */
export class ClaimLifecycle extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private state: LifecycleState | null = null;
  /** The rows of `state` as its SQLite holds them (src/lifecycle/state-store.ts); null: write them all next. */
  private storedRows: StoredRows | null = null;
  private flushing: Promise<Flushed> | null = null;
  /** When the alarm last flushed (in memory; an evicted object starts at 0): see nextFlushAt. */
  private lastFlushAt = 0;
  /**
   * While the alarm's flushes fail: how many in a row, the last error and the retry it set (the back-off;
   * in memory: an evicted object starts again from the first retry delay). Null once a drain lands.
   */
  private flushFailure: { inARow: number; error: string; nextTryAt: number } | null = null;

  /** How a flush reaches D1: with the flushes of the isolate's other lifecycle objects due at the same time. */
  private readonly send: SendBatch;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.send = sendShared(env.DB, (work) => ctx.waitUntil(work));
    const sql = ctx.storage.sql;
    initStateStore(sql);
    initOutbox(sql);
  }

  applyPayment(input: ops.PaymentInput): Promise<ops.PaymentResult> {
    return this.serial(async () => {
      const step = ops.applyPayment(this.db, await this.current(input.lifecycleId), input);
      this.commit(step);
      if (step.result.outcome === "applied" && step.writes) {
        // recorded by its payment row and its domain event; the line is detail (LOG_LEVEL=debug), as for
        // accepted events: one JSON line per payment was 8 % of the payments path's JavaScript (profile)
        log.debug("payment.applied", { paymentId: step.result.payment.paymentId, lifecycleId: input.lifecycleId, amountCents: input.amountCents, appliedCents: step.result.payment.appliedCents });
      }
      return step.result;
    });
  }

  /**
   * After a remit, a claim version, a merge or a reversal elsewhere: reload the facts, and the ledger
   * follows them. D1 first gets what this object decided (so the load sees it); what the new facts change
   * goes through the outbox like any operation's writes, sent before it answers.
   */
  reconcile(lifecycleId: string): Promise<ops.MoneySummary | ops.Moved> {
    return this.serial(async () => {
      await this.drain();
      const step = ops.reconcile(this.db, await loadLifecycle(this.db, lifecycleId));
      // sent at once rather than by the alarm: the projection that asked marks its event processed next,
      // and D1's figures should already be the new facts' by then (and no alarm round is spent on it)
      this.commit(step, "now");
      await this.drainNow();
      return step.result;
    });
  }

  /**
   * Before a merge folds this lifecycle into `into`: D1 gets everything this object decided, and from now
   * on it answers `moved` (a reconcile reloads from D1 and lifts this if the merge never happened).
   */
  seal(lifecycleId: string, into: string): Promise<void> {
    return this.serial(async () => {
      await this.drain();
      const state = await this.current(lifecycleId);
      this.commit({ result: null, next: { ...state, mergedInto: into } });
    });
  }

  due(lifecycleId: string): Promise<ops.DueResult> {
    return this.serial(async () => ops.due(await this.current(lifecycleId)));
  }

  reserveCredit(input: ops.ReserveInput): Promise<ops.ReserveResult> {
    return this.serial(async () => {
      const step = ops.reserveCredit(this.db, await this.current(input.lifecycleId), input);
      this.commit(step, "now");
      // the target lifecycle reconciles from D1 next: the allocation must be there
      await this.drainNow();
      return step.result;
    });
  }

  reversePayment(input: { lifecycleId: string; traceKey: string }): Promise<ops.ReversalResult> {
    return this.serial(async () => {
      const step = ops.reversePayment(this.db, await this.current(input.lifecycleId), input.traceKey);
      this.commit(step, "now");
      // lifecycles whose allocations it reversed reconcile from D1 next
      await this.drainNow();
      if (step.result.outcome === "reversed" && step.writes) log.info("payment.reversed", { paymentId: step.result.reversal.paymentId, lifecycleId: input.lifecycleId });
      return step.result;
    });
  }

  summary(lifecycleId: string): Promise<ops.MoneySummary | ops.Moved> {
    return this.serial(async () => ops.summary(await this.current(lifecycleId)));
  }

  /**
   * Sends the outbox to D1 now and fans out the domain events it wrote (the alarm, tests); resolves when it
   * is empty. Returns how many entries D1 applied. A flush that wrote no domain event (a reconcile moving
   * figures) has nothing to fan out and skips it.
   */
  async flush(): Promise<number> {
    const flushed = await this.drain();
    await this.fanOutIfWritten(flushed);
    return flushed.entries;
  }

  /**
   * Sends the outbox to D1, without fanning out: the operations that drain before answering are called by
   * the projection (which fans out once per batch) or by routes that fan out after them.
   */
  private async drain(): Promise<Flushed> {
    const total: Flushed = { entries: 0, domainEvents: 0 };
    // One flush at a time: a caller arriving during one waits for it, then sends what came after it.
    while (pendingCount(this.ctx.storage.sql) > 0) {
      // entries are only queued with a stored state, so a woken object finds its lifecycle there
      this.flushing ??= flushOutbox(this.ctx.storage.sql, this.env.DB, this.stored()!.lifecycleId, nowIso, this.send).finally(() => (this.flushing = null));
      const flushed = await this.flushing;
      total.entries += flushed.entries;
      total.domainEvents += flushed.domainEvents;
    }
    // D1 took everything (by the alarm or by an operation that drains first): any back-off is over
    this.flushFailure = null;
    return total;
  }

  /**
   * Sends what an operation just queued, before it answers, and fans out the domain events it wrote (a
   * credit a reconcile created); should D1 fail, the alarm keeps trying (nothing stays unsent).
   */
  private async drainNow(): Promise<void> {
    let flushed: Flushed;
    try {
      flushed = await this.drain();
    } catch (e) {
      await this.wakeToFlush();
      throw e;
    }
    await this.fanOutIfWritten(flushed);
  }

  /** Fan-out, when the flush wrote domain events (one that only moved figures has nothing to send). */
  private async fanOutIfWritten(flushed: Flushed): Promise<void> {
    if (flushed.domainEvents > 0) await fanOutCoalesced(this.env, database(this.env.DB));
  }

  /**
   * An operator's "try now", after fixing what D1 refused: the outbox is sent at once, whatever the back-off,
   * and the answer says whether D1 took it. A success ends the back-off; a refusal leaves the retry as it was.
   */
  async flushNow(): Promise<FlushNowResult> {
    try {
      const entries = await this.flush();
      return { outcome: "flushed", entries, pending: pendingCount(this.ctx.storage.sql) };
    } catch (e) {
      return { outcome: "refused", error: errorText(e), pending: pendingCount(this.ctx.storage.sql) };
    }
  }

  outboxStatus(): OutboxStatus {
    const sql = this.ctx.storage.sql;
    const pending = pendingCount(sql);
    const failure = this.flushFailure;
    return {
      pending,
      oldestAt: oldestPendingAt(sql),
      failing: failure && pending > 0 ? { inARow: failure.inARow, lastError: failure.error, nextTryAt: new Date(failure.nextTryAt).toISOString() } : null,
    };
  }

  override async alarm(): Promise<void> {
    this.lastFlushAt = Date.now();
    try {
      await this.flush();
    } catch (e) {
      // An entry D1 refuses for good (a constraint, a statement too large) would otherwise be retried, and
      // logged, every two seconds for as long as it stays; a D1 outage ends without waiting more than a minute.
      const inARow = (this.flushFailure?.inARow ?? 0) + 1;
      const retryMs = flushRetryDelay(inARow);
      const failure = (this.flushFailure = { inARow, error: errorText(e), nextTryAt: Date.now() + retryMs });
      log.error("lifecycle.flush_failed", { lifecycleId: this.lifecycleIdForLogs(), failedInARow: inARow, retryMs, error: failure.error });
      await this.ctx.storage.setAlarm(failure.nextTryAt);
    }
  }

  /**
   * Stores the step's next state and queues its statements, atomically; the alarm flushes them, unless the
   * caller drains itself right after ("now").
   */
  private commit(step: ops.Step<unknown>, flush: "alarm" | "now" = "alarm"): void {
    if (!step.next) return;
    const next = step.next;
    const sql = this.ctx.storage.sql;
    this.storedRows = this.ctx.storage.transactionSync(() => {
      const stored = saveState(sql, this.storedRows, next);
      append(sql, step.writes ?? [], nowIso());
      return stored;
    });
    this.state = next;
    if (step.writes?.length && flush === "alarm") void this.wakeToFlush();
  }

  /** Sets the alarm for the next flush (nextFlushAt), unless one is due sooner. */
  private async wakeToFlush(): Promise<void> {
    const at = nextFlushAt({
      now: Date.now(),
      lastFlushAt: this.lastFlushAt,
      delayMs: nonNegativeVar(this.env.LIFECYCLE_FLUSH_DELAY_MS, FLUSH_DELAY_MS),
      intervalMs: nonNegativeVar(this.env.LIFECYCLE_FLUSH_INTERVAL_MS, FLUSH_INTERVAL_MS),
    });
    const move = alarmMove({ current: await this.ctx.storage.getAlarm(), at, backingOff: this.flushFailure !== null });
    if (move !== null) await this.ctx.storage.setAlarm(move);
  }

  /** The state this object holds; the first operation on a lifecycle loads it from D1. */
  private async current(lifecycleId: string): Promise<LifecycleState> {
    const stored = this.stored();
    if (stored) return stored;
    const loaded = await loadLifecycle(this.db, lifecycleId);
    // an id D1 does not know stays unknown here too (it answers `moved` to nowhere)
    if (loaded.exists) this.commit({ result: null, next: loaded });
    return loaded;
  }

  private stored(): LifecycleState | null {
    if (this.state) return this.state;
    const loaded = loadState(this.ctx.storage.sql);
    if (!loaded) return null;
    // Woken with entries still queued (a runtime that died before its alarm ran): arm the alarm again.
    // Whatever touches the lifecycle next, such as the sweep re-projecting a payment event still pending, does this.
    if (pendingCount(this.ctx.storage.sql) > 0) void this.wakeToFlush();
    this.storedRows = loaded.stored;
    return (this.state = loaded.state);
  }

  private lifecycleIdForLogs(): string {
    return this.state?.lifecycleId ?? this.ctx.id.toString();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private get db() {
    return database(this.env.DB);
  }
}

/**
 * When the outbox's next flush is due: `delayMs` (LIFECYCLE_FLUSH_DELAY_MS, 100 ms) after the operation
 * (rounded up to the next multiple of it),
 * so a quiet lifecycle's D1 follows within moments; but no sooner than `intervalMs`
 * (LIFECYCLE_FLUSH_INTERVAL_MS, 1 s) after the last flush, so a busy lifecycle flushes at most once a
 * second and its payments share one alarm, one D1 batch and one fan-out. Each flush costs about as much
 * whatever it carries: at 20 lifecycles under load, flushes every 100 ms carried ~1.4 payments each and
 * the payments bench ran 0.20 of baseline; at most one a second per lifecycle, 0.24–0.26 (2026-11-24).
 */
export function nextFlushAt(t: { now: number; lastFlushAt: number; delayMs: number; intervalMs: number }): number {
  const at = Math.max(t.now + t.delayMs, t.lastFlushAt + t.intervalMs);
  // On a grid of `delayMs` (at most that much later): the objects whose flushes fall due in the same moment
  // send them together (sendShared, src/lifecycle/outbox.ts), instead of each at its own millisecond.
  return t.delayMs > 0 ? Math.ceil(at / t.delayMs) * t.delayMs : at;
}

/** The delay before the alarm tries a flush again after `failedInARow` failures: 2 s, 4 s, 8 s, … up to 60 s. */
export function flushRetryDelay(failedInARow: number): number {
  return Math.min(FLUSH_RETRY_MOST_MS, FLUSH_RETRY_FIRST_MS * 2 ** Math.max(0, Math.min(failedInARow - 1, 30)));
}

/**
 * Where an operation moves the alarm (null: it stays): to `at` when none is set or `at` is sooner; but while
 * flushes are failing the retry's back-off stands, and what comes meanwhile queues behind the entry D1 refuses.
 */
export function alarmMove(t: { current: number | null; at: number; backingOff: boolean }): number | null {
  if (t.current === null) return t.at;
  if (t.backingOff) return null;
  return t.current > t.at ? t.at : null;
}
