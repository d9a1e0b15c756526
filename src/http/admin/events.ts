import { and, desc, eq, gte, inArray, lte, lt, or } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../db/client";
import { deliveries, domainEvents, events } from "../../db/schema";
import type { AppContext } from "../../env";
import { ApiError } from "../../errors";
import { limitParam, statusFilter, timeBound } from "../list-query";

const STATUSES = ["pending", "processed", "failed"] as const;

/** Raw partner events: listed without payloads; one event shows its payload (to admins only). */
export const adminEvents = new Hono<AppContext>();

/** GET /admin/events?source=&kind=&status=&claim=&since=&until=&limit=&before= (newest first; `before` pages) */
adminEvents.get("/", async (c) => {
  const q = c.req.query();
  const status = statusFilter(q.status, STATUSES);
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
          ? inArray(events.id, database(c.env.DB).select({ id: domainEvents.sourceEventId }).from(domainEvents).where(eq(domainEvents.claimId, q.claim)))
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
  const produced = await db
    .select({ id: domainEvents.id, type: domainEvents.type, claimId: domainEvents.claimId, lifecycleId: domainEvents.lifecycleId, occurredAt: domainEvents.occurredAt })
    .from(domainEvents)
    .where(or(eq(domainEvents.sourceEventId, event.id)));
  const sent = produced.length
    ? await db.select().from(deliveries).where(inArray(deliveries.domainEventId, produced.map((p) => p.id)))
    : [];
  return c.json({
    ...event,
    headers: JSON.parse(event.headers) as Record<string, string>,
    payload: JSON.parse(event.body) as unknown,
    body: undefined,
    produced,
    deliveries: sent,
  });
});
