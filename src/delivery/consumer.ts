import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { recordDomainEvents } from "../claims/write";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { compiled } from "../db/compiled";
import { database, nowIso } from "../db/client";
import { readDomainEventPayload } from "../ingest/archive";
import { readLimited, RESPONSE_BODY_LIMIT } from "./response-body";
import { deliveries, deliveryAttempts, domainEvents, subscriptions } from "../db/schema";
import type { DeliveryMessage, Env } from "../env";
import { errorText, log } from "../log";
import { enqueueDeliveries, fanOutSafely } from "./fan-out";
import { maxAttempts, parseSchedule, retryAfterSeconds, retryDelay } from "./schedule";
import { deliverySubscription, invalidateSubscription, signingKeysAt, subscriptionCacheTtl, type DeliverySubscription } from "./subscription-cache";
import { signedHeaders, type SigningVersion } from "./signing";

export const DELIVERIES_QUEUE = "claimgate-deliveries";
export const DELIVERIES_DLQ = "claimgate-deliveries-dlq";


type Outcome =
  | { kind: "done" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "dead" }
  /** Parked behind an earlier delivery of the same lifecycle (ordered subscriptions). */
  | { kind: "waiting" }
  /** Its subscription's rate limit put its slot this far ahead: back to the queue, no attempt spent. */
  | { kind: "throttled"; delaySeconds: number };

/** A throttle slot closer than this is waited for in the consumer; a later one goes back to the queue. */
const MAX_IN_PROCESS_WAIT_MS = 20_000;

class SigningFailed extends Error {}

/**
 * What a subscriber receives: `{type, timestamp, data}`. A thin subscription gets ids and the URL to
 * fetch the full body from (GET /api/deliveries/:id/payload with its fetch token) instead of the data,
 * so PHI leaves the gateway only on a request it can authenticate and audit.
 */
export function deliveryBody(env: Env, payload: "full" | "thin", deliveryId: string, event: typeof domainEvents.$inferSelect, fullData: string | null): string {
  const data =
    payload === "thin"
      ? JSON.stringify({ eventId: event.id, claimId: event.claimId, lifecycleId: event.lifecycleId, fetch: `${(env.PUBLIC_URL ?? "").replace(/\/$/, "")}/api/deliveries/${deliveryId}/payload` })
      : fullData;
  return `{"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(event.occurredAt)},"data":${data}}`;
}

/**
 * The deliveries consumer: one POST per message, sent concurrently (messages of a batch go to mostly
 * different endpoints; ordering, where a subscription asks for it, is enforced per delivery from D1, not
 * by the batch order). The attempts of the whole batch are then recorded in one D1 batch (issue 17), and
 * each message is acked, retried on our own schedule or dead-lettered.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const db = database(env.DB);
  const now = Date.now();
  const loaded = await loadDeliveries(db, [...new Set(batch.messages.map((m) => m.body.deliveryId))]);
  // each subscription once per batch: the sends below run at once, and a cold cache would otherwise read
  // one subscription (and open its keys) once per message
  const subscriptionIds = [...new Set([...loaded.values()].map((l) => l.delivery.subscriptionId))];
  const subs = new Map(await Promise.all(subscriptionIds.map(async (id) => [id, await subscriptionOf(env, db, id)] as const)));
  const attempts = await Promise.all(
    batch.messages.map((m) =>
      sendAttempt(env, db, m.body.deliveryId, now, loaded, subs).catch((e: unknown) => {
        log.error("delivery.consumer_error", { deliveryId: m.body.deliveryId, error: errorText(e) });
        return null;
      }),
    ),
  );
  try {
    await recordAttempts(db, attempts.filter((a): a is Attempt => a !== null));
  } catch (e) {
    // nothing of the batch was recorded: every message goes back (a subscriber may see a send twice)
    log.error("delivery.record_failed", { deliveries: batch.messages.length, error: errorText(e) });
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  await Promise.all(
    batch.messages.map(async (message, i) => {
      const attempt = attempts[i];
      const { deliveryId } = message.body;
      if (!attempt) return message.retry({ delaySeconds: 30 });
      try {
        await afterAttempt(env, db, attempt, now);
        const { outcome } = attempt;
        if (outcome.kind === "retry" || outcome.kind === "throttled") message.retry({ delaySeconds: outcome.delaySeconds });
        else if (outcome.kind === "dead") {
          // After the last attempt the message goes to the dead letter queue, whose consumer records it.
          await env.DELIVERIES_DLQ.send({ deliveryId }, { contentType: "json" });
          message.ack();
          await releaseNextInOrder(env, db, deliveryId, attempt.order);
        } else {
          message.ack();
          if (outcome.kind === "done") await releaseNextInOrder(env, db, deliveryId, attempt.order);
        }
      } catch (e) {
        log.error("delivery.consumer_error", { deliveryId, error: errorText(e) });
        message.retry({ delaySeconds: 30 });
      }
    }),
  );
}

/** One delivery attempted and recorded (tests and single sends); the consumer batches the recording. */
export async function attemptDelivery(env: Env, db: Db, deliveryId: string, now = Date.now()): Promise<Outcome> {
  const attempt = await sendAttempt(env, db, deliveryId, now);
  await recordAttempts(db, [attempt]);
  await afterAttempt(env, db, attempt, now);
  return attempt.outcome;
}

/** What one message came to: its outcome, and the rows recording the attempt (when one was made). */
interface Attempt {
  outcome: Outcome;
  /** Known once the subscription was read: whether a later delivery of the lifecycle may wait on this one. */
  order?: { ordered: boolean; subscriptionId: string; lifecycleId: string | null };
  record?: { writes: BatchItem<"sqlite">[]; subscriptionId: string; ok: boolean; gone: boolean; at: string };
}

/**
 * The attempts' rows, and each subscription's health once per batch (not once per delivery): any success
 * in the batch clears its failing run and sets the last success; only failures start a run (or keep it).
 */
async function recordAttempts(db: Db, attempts: Attempt[]) {
  const records = attempts.flatMap((a) => (a.record ? [a.record] : []));
  if (records.length === 0) return;
  const health = new Map<string, { success: string | null; failure: string | null }>();
  for (const r of records) {
    const h = health.get(r.subscriptionId) ?? { success: null, failure: null };
    if (r.ok) h.success = h.success && h.success > r.at ? h.success : r.at;
    else h.failure = h.failure && h.failure < r.at ? h.failure : r.at;
    health.set(r.subscriptionId, h);
  }
  const writes: BatchItem<"sqlite">[] = [
    ...records.flatMap((r) => r.writes),
    ...[...health].map(([id, h]) =>
      h.success
        ? db.update(subscriptions).set({ failingSince: null, lastSuccessAt: h.success }).where(eq(subscriptions.id, id))
        : db.update(subscriptions).set({ failingSince: sql`coalesce(${subscriptions.failingSince}, ${h.failure})` }).where(eq(subscriptions.id, id)),
    ),
  ];
  await db.batch(writes as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

/** After the attempt is recorded: a 410 disables the subscription; a long failing run warns, then disables. */
async function afterAttempt(env: Env, db: Db, attempt: Attempt, now: number) {
  const r = attempt.record;
  if (!r) return;
  if (r.gone) await disableSubscription(env, db, r.subscriptionId, "endpoint answered 410 Gone");
  else if (!r.ok) await disableIfFailingTooLong(env, db, r.subscriptionId, now);
}

type Loaded = { delivery: typeof deliveries.$inferSelect; event: typeof domainEvents.$inferSelect | null };

/** Deliveries with the events they carry, by id, in one round trip (a queue batch's worth: ≤ 90 ids). */
async function loadDeliveries(db: Db, ids: string[]): Promise<Map<string, Loaded>> {
  const map = new Map<string, Loaded>();
  for (let i = 0; i < ids.length; i += 90) {
    const rows = await db
      .select({ delivery: deliveries, event: domainEvents })
      .from(deliveries)
      .leftJoin(domainEvents, eq(domainEvents.id, deliveries.domainEventId))
      .where(inArray(deliveries.id, ids.slice(i, i + 90)));
    for (const r of rows) map.set(r.delivery.id, r);
  }
  return map;
}

const subscriptionOf = (env: Env, db: Db, id: string) => deliverySubscription(db, env.SECRETS_KEY, id, subscriptionCacheTtl(env.SUBSCRIPTION_CACHE_TTL_SECONDS));

async function sendAttempt(env: Env, db: Db, deliveryId: string, now: number, loaded?: Map<string, Loaded>, subs?: Map<string, DeliverySubscription | null>): Promise<Attempt> {
  const found = loaded ? loaded.get(deliveryId) : (await loadDeliveries(db, [deliveryId])).get(deliveryId);
  const delivery = found?.delivery;
  if (!delivery || delivery.status !== "pending") return { outcome: { kind: "done" } };
  const cached = subs?.has(delivery.subscriptionId) ? subs.get(delivery.subscriptionId)! : await subscriptionOf(env, db, delivery.subscriptionId);
  const sub = cached?.row;
  if (!sub || !sub.active) {
    await db
      .update(deliveries)
      .set({ status: "cancelled", lastError: sub ? "subscription disabled" : "subscription deleted", updatedAt: nowIso() })
      .where(eq(deliveries.id, deliveryId));
    return { outcome: { kind: "done" } };
  }

  // Ordered subscriptions: a later event of a lifecycle waits while an earlier one is still pending.
  // The waiting delivery is parked (not enqueued) and released when the earlier one is delivered or
  // dead (releaseNextInOrder); the minute sweep re-checks parked ones as a fallback. Dead or cancelled
  // earlier deliveries do not block: they wait for an operator's replay instead.
  if (sub.ordered && delivery.lifecycleId) {
    const [earlier] = await db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.subscriptionId, sub.id),
          eq(deliveries.lifecycleId, delivery.lifecycleId),
          eq(deliveries.status, "pending"),
          or(lt(deliveries.createdAt, delivery.createdAt), and(eq(deliveries.createdAt, delivery.createdAt), lt(deliveries.id, delivery.id))),
        ),
      )
      .limit(1);
    if (earlier) {
      await db.update(deliveries).set({ enqueuedAt: null, lastError: "waiting for an earlier delivery of this claim lifecycle" }).where(eq(deliveries.id, deliveryId));
      return { outcome: { kind: "waiting" } };
    }
  }

  const event = found.event;
  if (!event) throw new Error(`domain event ${delivery.domainEventId} missing`);
  // a full body needs the payload (in R2 once archived: a replay); a thin one only names the event
  const stored = sub.payload === "full" ? await readDomainEventPayload(env, event) : null;
  if (stored?.kind === "missing") {
    await db
      .update(deliveries)
      .set({ status: "dead", deadAt: nowIso(), nextAttemptAt: null, lastError: "PAYLOAD_GONE: the event's payload is no longer stored", updatedAt: nowIso() })
      .where(eq(deliveries.id, deliveryId));
    log.warn("delivery.payload_gone", { deliveryId, domainEventId: event.id });
    return { outcome: { kind: "done" } };
  }
  const body = new TextEncoder().encode(deliveryBody(env, sub.payload, delivery.id, event, stored?.text ?? null));
  // Everything that reads storage comes before the slot is reserved: after it, only signing and the send,
  // so D1's latency under load does not push one send late and the next one closer to it than 1/rate.
  const keys = signingKeysAt(cached);
  // A throttled subscription waits for its slot; one far ahead goes back to the queue with that delay.
  if (sub.rateLimit) {
    const waitMs = await env.SUBSCRIPTION_THROTTLE.get(env.SUBSCRIPTION_THROTTLE.idFromName(sub.id)).reserve(sub.rateLimit);
    if (waitMs > MAX_IN_PROCESS_WAIT_MS) return { outcome: { kind: "throttled", delaySeconds: Math.ceil(waitMs / 1000) } };
    if (waitMs > 0) await scheduler.wait(waitMs);
  }
  const attempt = delivery.attempts + 1;
  const timeoutMs = Number(env.DELIVERY_TIMEOUT_MS ?? "15000") || 15_000;
  const started = Date.now();
  let status: number | null = null;
  let responseBody: string | null = null;
  let error: string | null = null;
  let retryAfter: number | null = null;
  try {
    // A secret that cannot sign is an attempt that failed, recorded like any other, never a silent pending.
    const headers = await signedHeaders(keys, JSON.parse(sub.signing) as SigningVersion[], delivery.id, Math.floor(now / 1000), body).catch((e) => {
      throw new SigningFailed(errorText(e));
    });
    const res = await fetch(sub.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    responseBody = await readLimited(res, RESPONSE_BODY_LIMIT);
    if (status === 429 || status === 503) retryAfter = retryAfterSeconds(res.headers.get("retry-after"), now);
    if (status >= 300 && status < 400) error = `redirect to ${res.headers.get("location") ?? "?"} not followed`;
  } catch (e) {
    error =
      e instanceof SigningFailed
        ? `SIGNING_FAILED: ${e.message}`
        : e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")
          ? `timeout after ${timeoutMs} ms`
          : errorText(e);
  }
  const latencyMs = Date.now() - started;
  const at = nowIso();
  const ok = status !== null && status >= 200 && status < 300;
  const schedule = parseSchedule(env.DELIVERY_RETRY_SCHEDULE);
  const gone = status === 410;
  const last = !ok && (gone || attempt >= maxAttempts(schedule));
  const delaySeconds = ok || last ? null : (retryAfter ?? retryDelay(schedule, attempt));

  const writes: BatchItem<"sqlite">[] = [
    recordAttempt(db, { deliveryId, statusCode: status, latencyMs, responseBody, error, at }),
    ok
      ? markDelivered(db, { deliveryId, attempts: attempt, statusCode: status, at })
      : db
          .update(deliveries)
          .set({
            attempts: attempt,
            lastStatusCode: status,
            lastError: error ?? `HTTP ${status}`,
            updatedAt: at,
            ...(last ? { status: "dead" as const, deadAt: at, nextAttemptAt: null } : {}),
            ...(delaySeconds !== null ? { nextAttemptAt: new Date(now + delaySeconds * 1000).toISOString() } : {}),
          })
          .where(eq(deliveries.id, deliveryId)),
  ];
  // a failed attempt is worth a line; a delivered one is recorded by its attempt row (debug adds the line)
  (ok ? log.debug : log.info)("delivery.attempt", { deliveryId, subscriptionId: sub.id, attempt, status, latencyMs, ok });
  const outcome: Outcome = ok ? { kind: "done" } : last ? { kind: "dead" } : { kind: "retry", delaySeconds: delaySeconds! };
  return { outcome, record: { writes, subscriptionId: sub.id, ok, gone, at }, order: { ordered: sub.ordered, subscriptionId: sub.id, lifecycleId: delivery.lifecycleId } };
}

/** On an ordered subscription, enqueues the oldest parked delivery of the same lifecycle. */
async function releaseNextInOrder(env: Env, db: Db, deliveryId: string, known?: Attempt["order"]) {
  // an attempt already knows whether its subscription is ordered; a message that found its delivery done looks it up
  const [d] = known
    ? [known]
    : await db
        .select({ subscriptionId: deliveries.subscriptionId, lifecycleId: deliveries.lifecycleId, ordered: subscriptions.ordered })
        .from(deliveries)
        .innerJoin(subscriptions, eq(subscriptions.id, deliveries.subscriptionId))
        .where(eq(deliveries.id, deliveryId));
  if (!d?.ordered || !d.lifecycleId) return;
  const [next] = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.subscriptionId, d.subscriptionId), eq(deliveries.lifecycleId, d.lifecycleId), eq(deliveries.status, "pending"), isNull(deliveries.enqueuedAt)))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id))
    .limit(1);
  if (next) await enqueueDeliveries(env, db, [next.id]);
}

/**
 * Svix-style: a subscription whose deliveries have only failed for an hour (SUBSCRIPTION_FAILING_AFTER_SECONDS)
 * gets one `subscription.failing` for operational subscribers (once per run of failures: the run's start is
 * in the event's key), and one failing for the whole window is disabled.
 */
async function disableIfFailingTooLong(env: Env, db: Db, subscriptionId: string, now: number) {
  const window = Number(env.SUBSCRIPTION_DISABLE_AFTER_SECONDS ?? "432000") || 432_000;
  const warnAfter = Number(env.SUBSCRIPTION_FAILING_AFTER_SECONDS ?? "3600") || 3600;
  const [sub] = await db.select({ failingSince: subscriptions.failingSince, active: subscriptions.active }).from(subscriptions).where(eq(subscriptions.id, subscriptionId));
  if (!sub?.active || !sub.failingSince) return;
  const failingFor = now - Date.parse(sub.failingSince);
  // the warning always comes first, even when the disabling window is the shorter one
  if (failingFor >= Math.min(warnAfter, window) * 1000) {
    const recorded = await recordDomainEvents(db, `failing:${subscriptionId}:${sub.failingSince}`, [
      { type: "subscription.failing", claimId: null, lifecycleId: null, payload: { subscriptionId, reason: `every delivery failed since ${sub.failingSince}` } },
    ]);
    if (recorded.length) {
      log.warn("subscription.failing", { subscriptionId, since: sub.failingSince });
      await fanOutSafely(env, db);
    }
  }
  if (failingFor >= window * 1000) {
    await disableSubscription(env, db, subscriptionId, `every delivery failed since ${sub.failingSince}`);
  }
}

export async function disableSubscription(env: Env, db: Db, subscriptionId: string, reason: string) {
  const rows = await db
    .update(subscriptions)
    .set({ active: false, disabledReason: reason, updatedAt: nowIso() })
    .where(and(eq(subscriptions.id, subscriptionId), eq(subscriptions.active, true)))
    .returning({ id: subscriptions.id });
  if (rows.length === 0) return;
  invalidateSubscription(subscriptionId);
  log.warn("subscription.disabled", { subscriptionId, reason });
  await recordDomainEvents(db, `disable:${subscriptionId}:${nowIso()}`, [
    { type: "subscription.disabled", claimId: null, lifecycleId: null, payload: { subscriptionId, reason } },
  ]);
  await fanOutSafely(env, db);
}

/**
 * Dead letters: the delivery is marked dead (visible, replayable); nothing is dropped silently. A delivery
 * the consumer already marked dead needs nothing more; one still pending (the consumer kept crashing) is
 * marked dead unless it changed after the message was dead-lettered (an operator replayed it meanwhile).
 */
export async function consumeDeliveryDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    const { deliveryId } = message.body;
    try {
      const at = nowIso();
      await db
        .update(deliveries)
        .set({ status: "dead", deadAt: at, nextAttemptAt: null, lastError: sql`coalesce(${deliveries.lastError}, 'dead-lettered')`, updatedAt: at })
        .where(and(eq(deliveries.id, deliveryId), eq(deliveries.status, "pending"), lte(deliveries.updatedAt, new Date(message.timestamp).toISOString())));
      log.error("delivery.dead_lettered", { deliveryId });
      message.ack();
    } catch (e) {
      log.error("delivery.dead_letter_record_failed", { deliveryId, error: errorText(e) });
      message.retry({ delaySeconds: 30 });
    }
  }
}

// Every delivery records its attempt, and most are delivered: both built once per isolate (src/db/compiled.ts).
const recordAttempt = compiled((db, v: { deliveryId: string; statusCode: number | null; latencyMs: number; responseBody: string | null; error: string | null; at: string }) =>
  db.insert(deliveryAttempts).values({
    deliveryId: v.deliveryId,
    // attempt rows are numbered over the whole history (a replay starts a new retry budget, not a new count)
    attempt: sql`(SELECT count(*) + 1 FROM ${deliveryAttempts} WHERE ${deliveryAttempts.deliveryId} = ${v.deliveryId})`,
    statusCode: v.statusCode,
    latencyMs: v.latencyMs,
    responseBody: v.responseBody,
    error: v.error,
    at: v.at,
  }),
);
const markDelivered = compiled((db, v: { deliveryId: string; attempts: number; statusCode: number | null; at: string }) =>
  db
    .update(deliveries)
    .set({ attempts: v.attempts, lastStatusCode: v.statusCode, lastError: null, updatedAt: v.at, status: "delivered", deliveredAt: v.at, nextAttemptAt: null })
    .where(eq(deliveries.id, v.deliveryId)),
);
