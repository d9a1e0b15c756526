import { and, desc, eq, gte, inArray, lte, lt, or } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../db/client";
import { deliveries, domainEvents, events, EVENT_STATUSES, patientCredits, patientPaymentDetails } from "../../db/schema";
import { centsToAmount } from "../../domain/money";
import { fanOutSafely } from "../../delivery/fan-out";
import { reprocessEvent } from "../../queue/reprocess";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { limitParam, statusFilter, timeBound } from "../list-query";

/** Raw partner events: listed without payloads; one event shows its payload (to admins only). */
export const adminEvents = new Hono<AppContext>();

/** GET /admin/events?source=&kind=&status=&claim=&since=&until=&limit=&before= (newest first; `before` pages; status pending|processed|failed|invalid) */
adminEvents.get("/", async (c) => {
  const q = c.req.query();
  const status = statusFilter(q.status, EVENT_STATUSES);
  const since = timeBound(q.since, "since");
  const until = timeBound(q.until, "until");
  const limit = limitParam(q.limit, 1000);
  const rows = await database(c.env.DB)
    .select({
      id: events.id,
      sourceId: events.sourceId,
      kind: events.kind,
      status: events.status,
      eventType: events.eventType,
      receivedAt: events.receivedAt,
      enqueuedAt: events.enqueuedAt,
      processedAt: events.processedAt,
      attempts: events.attempts,
      lastError: events.lastError,
    })
    .from(events)
    .where(
      and(
        q.source ? eq(events.sourceId, q.source) : undefined,
        q.kind ? eq(events.kind, q.kind) : undefined,
        status ? eq(events.status, status) : undefined,
        since ? gte(events.receivedAt, since) : undefined,
        until ? lte(events.receivedAt, until) : undefined,
        q.before ? lt(events.id, q.before) : undefined,
        // events that produced something for this claim (our id)
        q.claim
          ? or(
              inArray(events.id, database(c.env.DB).select({ id: domainEvents.sourceEventId }).from(domainEvents).where(eq(domainEvents.claimId, q.claim))),
              inArray(events.id, database(c.env.DB).select({ id: patientPaymentDetails.eventId }).from(patientPaymentDetails).where(eq(patientPaymentDetails.claimId, q.claim))),
            )
          : undefined,
      ),
    )
    .orderBy(desc(events.id))
    .limit(limit);
  return c.json({ data: rows, nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null });
});

/** GET /admin/events/:id — the event with its payload, what it produced and where that was delivered. */
adminEvents.get("/:id", async (c) => {
  const db = database(c.env.DB);
  const [event] = await db.select().from(events).where(eq(events.id, c.req.param("id")));
  if (!event) throw new ApiError(404, "EVENT_NOT_FOUND", `No event ${c.req.param("id")}.`);
  const { produced, payments } = await eventProducts(db, event.id);
  const sent = produced.length
    ? await db.select().from(deliveries).where(inArray(deliveries.domainEventId, produced.map((p) => p.id)))
    : [];
  return c.json({
    ...event,
    headers: JSON.parse(event.headers) as Record<string, string>,
    ...storedBody(event.body),
    body: undefined,
    validationErrors: event.validationErrors ? (JSON.parse(event.validationErrors) as unknown) : null,
    produced,
    payments,
    deliveries: sent,
  });
});

/** POST /admin/events/:id/reprocess — validate again with today's schema and, if valid, project once. */
adminEvents.post("/:id/reprocess", async (c) => {
  const db = database(c.env.DB);
  const outcome = await reprocessEvent(c.env, db, c.req.param("id"));
  c.executionCtx.waitUntil(fanOutSafely(c.env, db));
  return c.json(outcome);
});

/** The body as JSON when it is JSON (an invalid event may hold any text). */
export function storedBody(body: string): { payload: unknown } | { payloadText: string } {
  try {
    return { payload: JSON.parse(body) as unknown };
  } catch {
    return { payloadText: body };
  }
}

/**
 * What a partner event produced: the domain events it recorded, and for a payment event the payment it
 * brought, with its claim, lifecycle and credit (whose own domain events are listed with it).
 */
export async function eventProducts(db: ReturnType<typeof database>, eventId: string) {
  const paymentRows = await db
    .select({ p: patientPaymentDetails, creditId: patientCredits.id })
    .from(patientPaymentDetails)
    .leftJoin(patientCredits, eq(patientCredits.sourcePaymentId, patientPaymentDetails.id))
    .where(eq(patientPaymentDetails.eventId, eventId));
  const sources = [eventId, ...paymentRows.map((r) => r.p.id)];
  const produced = await db
    .select({ id: domainEvents.id, type: domainEvents.type, claimId: domainEvents.claimId, lifecycleId: domainEvents.lifecycleId, occurredAt: domainEvents.occurredAt })
    .from(domainEvents)
    .where(inArray(domainEvents.sourceEventId, sources));
  const payments = paymentRows.map(({ p, creditId }) => ({
    paymentId: p.id,
    claimId: p.claimId,
    claimLifecycleId: p.lifecycleId,
    status: p.status,
    amount: centsToAmount(p.amountCents),
    amountSetOnClaim: centsToAmount(p.appliedCents),
    excessAmount: centsToAmount(p.excessCents),
    creditId,
  }));
  return { produced, payments };
}
