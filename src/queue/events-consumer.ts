import { eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { database, nowIso } from "../db/client";
import { coalescingBatches } from "../db/coalesce";
import { events } from "../db/schema";
import type { Env, EventMessage } from "../env";
import { errorText, log } from "../log";
import { domainEventInsert, markEventProcessed } from "../claims/write";
import { fanOutCoalesced } from "../delivery/fan-out";
import { lifecycleStub, reconcileThroughObject } from "../payments/service";
import { reconcileUnheld } from "../lifecycle/unheld";
import { adapterFor } from "../partners/registry";
import { ProjectionRefused } from "../partners/types";
import { zodDetails } from "../errors";

export const EVENTS_QUEUE = "claimgate-events";
export const EVENTS_DLQ = "claimgate-events-dlq";

/**
 * How many events of one batch are projected at once: the whole batch (wrangler.toml's max_batch_size),
 * so every projection's steps line up and share their round trips (src/db/coalesce.ts). 6 at a time gave
 * 114.5 events/s end to end, 25 gave 135 (bench/delivery.mjs, same machine); later, batches of 50 instead
 * of 25 gave 318.8 events/s against 267.5 (2,000 events, same code otherwise). Kept equal by test/unit/queue-config-unit.test.ts.
 */
export const PROJECTION_CONCURRENCY = 50;

/** How many lifecycle objects reconcile at once (those the projection cannot bring in line itself). */
const RECONCILE_CONCURRENCY = 6;

/** Backoff between projection retries: 5 s, 10 s, 20 s … capped at 5 minutes. */
export const projectionRetryDelay = (attempts: number) => Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));

/**
 * The events queue consumer: project each raw event into the claim model, then ack; failures retry.
 *
 * Ordering: queues do not promise order, and a remit can reach us before its claim. Instead of ordering
 * delivery, every projection is order-independent: claims are found or created by identifier (placeholders
 * merge when their claim arrives), status changes carry the partner's time and never move a status back,
 * line sets carry a version and only a newer one replaces them, and a ClaimResponse row keeps its latest
 * version. Any arrival order ends in the same state (test/integration/claims-integration.test.ts).
 * Money that depends on order (patient payments) goes through the lifecycle's Durable Object instead.
 */
export async function consumeEvents(batch: MessageBatch<EventMessage>, env: Env): Promise<void> {
  // the batch's concurrent projections share each step's round trip (src/db/coalesce.ts)
  const db = database(coalescingBatches(env.DB));
  const outcomes = await processEvents(
    env,
    db,
    batch.messages.map((m) => m.body.eventId),
  );
  for (const message of batch.messages) {
    const { eventId } = message.body;
    const error = outcomes.get(eventId);
    if (error === undefined) {
      message.ack();
      continue;
    }
    log.warn("events.projection_failed", { eventId, attempt: message.attempts, error });
    await db.update(events).set({ lastError: error }).where(eq(events.id, eventId)).catch(() => {});
    message.retry({ delaySeconds: projectionRetryDelay(message.attempts) });
  }
}

/**
 * One event, as an operator's Reprocess needs it; throws what its projection threw. The operator sees
 * the outcome at once: a payment it recorded is flushed to D1 (with the event's processed status) first.
 */
export async function processEvent(env: Env, db: Db, eventId: string): Promise<void> {
  const error = (await processEvents(env, db, [eventId], { rethrow: true, settle: true })).get(eventId);
  if (error !== undefined) throw new Error(error);
}

/**
 * A batch of events (issue 17: the events consumer works per batch, not per message): one statement
 * counts the attempt of every event and loads them all; the pending ones are projected, a few at once
 * (projections of one batch may touch the same claim, and each is order-independent); the lifecycles
 * they changed reconcile once each; what they produced and their `processed` statuses are written in one
 * atomic D1 batch; fan-out runs once. Returns the events whose projection threw, with the error (their
 * messages are retried; the others are done).
 *
 * Idempotent: only a pending event is projected; one already processed (or kept invalid, or failed and
 * waiting for an operator) is acknowledged as it is. A payload today's schema refuses ends `invalid` with
 * its errors, and a projection that can never succeed (ProjectionRefused) ends `failed` with its reason:
 * both visible and reprocessable, neither retried in silence. Anything else is retried by the queue.
 */
export async function processEvents(env: Env, db: Db, eventIds: string[], opts: { rethrow?: boolean; settle?: boolean } = {}): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  const unique = [...new Set(eventIds)];
  const loaded = unique.length
    ? await db
        .update(events)
        .set({ attempts: sql`${events.attempts} + 1` })
        .where(inArray(events.id, unique))
        .returning()
    : [];
  const byId = new Map(loaded.map((e) => [e.id, e]));
  const pending: (typeof events.$inferSelect)[] = [];
  for (const eventId of unique) {
    const event = byId.get(eventId);
    if (!event) log.warn("events.unknown_event", { eventId });
    else if (event.status === "pending") pending.push(event);
  }
  // Projections of a batch run at once and share their D1 round trips. That is safe
  // for the same reason concurrent consumer invocations are: every projection is order-independent and
  // its claim resolution retries on the unique index, and money changes go through the lifecycle's object.
  const finished: Finished[] = [];
  await eachAtMost(pending, PROJECTION_CONCURRENCY, async (event) => {
    try {
      const done = await projectEvent(env, db, event, opts.settle ?? false);
      if (done) finished.push(done);
    } catch (e) {
      if (opts.rethrow) throw e;
      failed.set(event.id, errorText(e));
    }
  });
  const reconciled = await reconcileNamed(env, db, finished, failed, opts.rethrow ?? false);
  await recordFinished(db, reconciled, failed, opts.rethrow ?? false);
  // (only events recorded: a failed one's domain events were not written)
  if (reconciled.some((f) => f.produced > 0 && !failed.has(f.eventId))) await fanOutCoalesced(env, db);
  return failed;
}

/** Runs `fn` on every item, at most `limit` at a time (a rejection stops the run and is thrown). */
async function eachAtMost<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A projected event's last writes: the domain events it produced and its `processed` status. */
interface Finished {
  eventId: string;
  produced: number;
  statements: BatchItem<"sqlite">[];
  /** Lifecycles that must reconcile (from D1, or by their objects) before this event counts as processed. */
  reconcile: string[];
}

/**
 * Reconciles every lifecycle the batch's projections named once (not once per event: a remit storm on one
 * bill costs one reload per batch, not one per remit): those no object holds in two D1 round trips for
 * all of them, the others by their objects, a few lifecycles at once. An
 * event whose lifecycle failed to reconcile is not recorded: it fails and is retried. Returns the rest.
 */
async function reconcileNamed(env: Env, db: Db, finished: Finished[], failed: Map<string, string>, rethrow: boolean): Promise<Finished[]> {
  const lifecycles = [...new Set(finished.flatMap((f) => f.reconcile))];
  const errors = new Map<string, string>();
  // those no object holds yet, all at once from D1 (src/lifecycle/unheld.ts); the rest by their objects
  const held = await reconcileUnheld(db, lifecycles);
  await eachAtMost(held, RECONCILE_CONCURRENCY, async (id) => {
    try {
      await reconcileThroughObject(env, id);
    } catch (e) {
      if (rethrow) throw e;
      errors.set(id, errorText(e));
    }
  });
  if (errors.size === 0) return finished;
  return finished.filter((f) => {
    const error = f.reconcile.map((id) => errors.get(id)).find((e) => e !== undefined);
    if (error !== undefined) failed.set(f.eventId, error);
    return error === undefined;
  });
}

/**
 * Records every projected event of the batch in one atomic D1 batch (issue 17: one round trip per message
 * batch, not per event): what each produced and its processed status land together, or none does and
 * the queue retries them (projections are idempotent). Should that batch fail, each event is tried alone,
 * so one event D1 refuses fails by itself and the others are done.
 */
async function recordFinished(db: Db, finished: Finished[], failed: Map<string, string>, rethrow: boolean): Promise<void> {
  if (finished.length === 0) return;
  const all = finished.flatMap((f) => f.statements);
  try {
    await db.batch(all as unknown as [never, ...never[]]);
  } catch (e) {
    if (rethrow) throw e;
    if (finished.length === 1) {
      failed.set(finished[0]!.eventId, errorText(e));
      return;
    }
    log.warn("events.batch_record_failed", { events: finished.length, error: errorText(e) });
    for (const f of finished) {
      try {
        await db.batch(f.statements as unknown as [never, ...never[]]);
      } catch (one) {
        failed.set(f.eventId, errorText(one));
      }
    }
  }
  // recorded by the event's row (status, processed_at); debug adds the line
  for (const f of finished) if (!failed.has(f.eventId)) log.debug("events.processed", { eventId: f.eventId, produced: f.produced });
}

/** Projects one loaded pending event; returns its last writes (null when it is settled otherwise: invalid, refused, recorded by a lifecycle). */
async function projectEvent(env: Env, db: Db, event: typeof events.$inferSelect, settle: boolean): Promise<Finished | null> {
  const eventId = event.id;
  const adapter = adapterFor(event.kind);
  if (!adapter) throw new Error(`no adapter for kind ${event.kind}`);
  // The payload was validated at ingest; parsing again yields the typed (defaulted) value.
  const raw: unknown = JSON.parse(event.body);
  const parsed = adapter.schema.safeParse(raw);
  if (!parsed.success) {
    const details = zodDetails(parsed.error);
    log.warn("events.invalid_at_projection", { eventId, kind: event.kind });
    await db
      .update(events)
      .set({ status: "invalid", validationErrors: JSON.stringify(details), lastError: `PAYLOAD_INVALID: ${details[0]?.path ?? ""} ${details[0]?.message ?? ""}`.trim() })
      .where(eq(events.id, eventId));
    return null;
  }
  const payload = parsed.data;
  let result;
  try {
    result = await adapter.project(
      {
        env,
        db,
        raw,
        event: {
          id: event.id,
          sourceId: event.sourceId,
          kind: event.kind,
          receivedAt: event.receivedAt,
          headers: JSON.parse(event.headers) as Record<string, string>,
        },
      },
      payload,
    );
  } catch (e) {
    if (!(e instanceof ProjectionRefused)) throw e;
    log.warn("events.projection_refused", { eventId, code: e.code });
    await db.update(events).set({ status: "failed", lastError: `${e.code}: ${e.message}` }).where(eq(events.id, eventId));
    return null;
  }
  if (result.processedByLifecycle && result.produced.length === 0) {
    log.info("events.processed_by_lifecycle", { eventId, kind: event.kind, lifecycleId: result.processedByLifecycle });
    if (settle) await lifecycleStub(env, result.processedByLifecycle).flush();
    return null;
  }
  const eventType = result.produced.map((p) => p.type).join(",") || null;
  const at = nowIso();
  return {
    eventId,
    produced: result.produced.length,
    reconcile: result.reconcile ?? [],
    statements: [
      ...result.produced.map((p) => domainEventInsert(db, event.id, p, at)),
      markEventProcessed(db, { eventId, eventType, at }),
    ],
  };
}

/** Dead letters of the events queue: the event is marked failed (visible to operators), never dropped. */
export async function consumeEventsDeadLetters(batch: MessageBatch<EventMessage>, env: Env): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    const { eventId } = message.body;
    try {
      await db
        .update(events)
        .set({ status: "failed", lastError: sql`coalesce(${events.lastError}, 'dead-lettered')` })
        .where(eq(events.id, eventId));
      log.error("events.dead_lettered", { eventId });
      message.ack();
    } catch (e) {
      log.error("events.dead_letter_record_failed", { eventId, error: errorText(e) });
      message.retry({ delaySeconds: 30 });
    }
  }
}
