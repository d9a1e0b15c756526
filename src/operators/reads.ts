import { and, asc, desc, eq, gte, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import {
  claimLifecycles,
  claimResponses,
  claims,
  deliveries,
  deliveryAttempts,
  DELIVERY_STATUSES,
  domainEvents,
  events,
  EVENT_STATUSES,
  patientCredits,
  patientPaymentDetails,
  patients,
  paymentReconciliations,
  scrubResults,
} from "../db/schema";
import { centsToAmount } from "../domain/money";

/**
 * What operators read, one query per question, shared by the admin API and the console: the console's
 * pages and the API's answers cannot disagree about which events, deliveries or claims a filter finds.
 */

/** Cursor pages over (created at, id), newest first: the rows older than `cursor` (`at|id`). */
function olderThan(at: SQLiteColumn, id: SQLiteColumn, cursor: string | undefined) {
  if (!cursor) return undefined;
  const [cursorAt, cursorId] = cursor.split("|") as [string, string | undefined];
  return or(lt(at, cursorAt), and(eq(at, cursorAt), lt(id, cursorId ?? "")));
}

/** The next page's cursor: the last row's `at|id` when the page is full. */
const nextCursor = <R>(rows: R[], limit: number, key: (r: R) => string) => (rows.length === limit && rows.length > 0 ? key(rows[rows.length - 1]!) : null);

export interface EventFilter {
  source?: string | undefined;
  kind?: string | undefined;
  /** A substring of the produced event type (e.g. `remit`). */
  type?: string | undefined;
  status?: (typeof EVENT_STATUSES)[number] | undefined;
  /** Events that produced something for this claim (our id). */
  claim?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Cursor: events with a smaller id (ids sort by arrival). */
  before?: string | undefined;
  limit: number;
}

/** Raw partner events without bodies, newest first; `nextBefore` continues the list. */
export async function listEvents(db: Db, f: EventFilter) {
  const rows = await db
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
        f.source ? eq(events.sourceId, f.source) : undefined,
        f.kind ? eq(events.kind, f.kind) : undefined,
        f.type ? sql`${events.eventType} LIKE ${`%${f.type}%`}` : undefined,
        f.status ? eq(events.status, f.status) : undefined,
        f.since ? gte(events.receivedAt, f.since) : undefined,
        f.until ? lte(events.receivedAt, f.until) : undefined,
        f.before ? lt(events.id, f.before) : undefined,
        f.claim
          ? or(
              inArray(events.id, db.select({ id: domainEvents.sourceEventId }).from(domainEvents).where(eq(domainEvents.claimId, f.claim))),
              inArray(events.id, db.select({ id: patientPaymentDetails.eventId }).from(patientPaymentDetails).where(eq(patientPaymentDetails.claimId, f.claim))),
            )
          : undefined,
      ),
    )
    .orderBy(desc(events.id))
    .limit(f.limit);
  return { data: rows, nextBefore: nextCursor(rows, f.limit, (e) => e.id) };
}

/**
 * What a partner event produced: the domain events it recorded, and for a payment event the payment it
 * brought, with its claim, lifecycle and credit (whose own domain events are listed with it).
 */
export async function eventProducts(db: Db, eventId: string) {
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

/** One raw event (with its stored body), what it produced and where that went; null when unknown. */
export async function eventWithProducts(db: Db, id: string) {
  const [event] = await db.select().from(events).where(eq(events.id, id));
  if (!event) return null;
  const { produced, payments } = await eventProducts(db, event.id);
  const sent = produced.length ? await db.select().from(deliveries).where(inArray(deliveries.domainEventId, produced.map((p) => p.id))) : [];
  return { event, produced, payments, deliveries: sent };
}

export interface DeliveryFilter {
  subscription?: string | undefined;
  status?: (typeof DELIVERY_STATUSES)[number] | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Cursor: deliveries created before this `createdAt|id` (the previous page's nextBefore). */
  before?: string | undefined;
  limit: number;
}

/** Deliveries, newest first; `nextBefore` continues the list. */
export async function listDeliveries(db: Db, f: DeliveryFilter) {
  const rows = await db
    .select()
    .from(deliveries)
    .where(
      and(
        f.subscription ? eq(deliveries.subscriptionId, f.subscription) : undefined,
        f.status ? eq(deliveries.status, f.status) : undefined,
        f.since ? gte(deliveries.createdAt, f.since) : undefined,
        f.until ? lte(deliveries.createdAt, f.until) : undefined,
        olderThan(deliveries.createdAt, deliveries.id, f.before),
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(f.limit);
  return { data: rows, nextBefore: nextCursor(rows, f.limit, (d) => `${d.createdAt}|${d.id}`) };
}

/** A delivery and its attempts, oldest first; null when unknown. */
export async function deliveryWithAttempts(db: Db, id: string) {
  const [delivery] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  if (!delivery) return null;
  const attempts = await db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, delivery.id)).orderBy(asc(deliveryAttempts.id));
  return { delivery, attempts };
}

/** A claim's FHIR PaymentReconciliation resources, in payment order. */
export async function claimReconciliations(db: Db, claimId: string): Promise<unknown[]> {
  const rows = await db
    .select({ resource: paymentReconciliations.resource })
    .from(paymentReconciliations)
    .where(eq(paymentReconciliations.claimId, claimId))
    .orderBy(asc(paymentReconciliations.paymentId));
  return rows.map((r) => JSON.parse(r.resource) as unknown);
}

/** Delivery counts per subscription and status, and the latest raw events: the overview's figures. */
export async function overviewCounts(db: Db) {
  const [deliveryCounts, latestEvents] = await Promise.all([
    db
      .select({ subscriptionId: deliveries.subscriptionId, status: deliveries.status, n: sql<number>`count(*)` })
      .from(deliveries)
      .groupBy(deliveries.subscriptionId, deliveries.status),
    db.select().from(events).orderBy(desc(events.id)).limit(10),
  ]);
  return { deliveryCounts, latestEvents };
}

/**
 * What the claim page shows beyond the read model: the claim's patient, every remit of its lifecycle in
 * version order, and the latest scrub's rules and edits in full.
 */
export async function claimPageFacts(db: Db, claimId: string, lifecycleId: string) {
  const [patient, remits, scrub] = await Promise.all([
    db.select({ patientId: claims.patientId }).from(claims).where(eq(claims.id, claimId)),
    db.select().from(claimResponses).where(eq(claimResponses.lifecycleId, lifecycleId)).orderBy(asc(claimResponses.versionAt), asc(claimResponses.id)),
    db.select().from(scrubResults).where(eq(scrubResults.claimId, claimId)).orderBy(desc(scrubResults.receivedAt)).limit(1),
  ]);
  const s = scrub[0];
  return {
    patientId: patient[0]?.patientId ?? null,
    remits,
    scrub: s
      ? {
          id: s.id,
          rulesApplied: JSON.parse(s.rulesApplied) as { id: string; text?: string }[],
          rulesFlagged: JSON.parse(s.rulesFlagged) as { id: string; text?: string }[],
          edits: JSON.parse(s.edits) as { difference: string; rationale: string }[],
        }
      : null,
  };
}

/** Raw partner events behind a claim: its remits, scrubs, status changes, payments and produced events. */
export function contributingEvents(db: Db, claimId: string, lifecycleId: string) {
  const ids = sql`(
    SELECT event_id FROM claim_responses WHERE claim_lifecycle_id = ${lifecycleId}
    UNION SELECT event_id FROM scrub_results WHERE claim_id = ${claimId}
    UNION SELECT event_id FROM claim_status_history WHERE claim_id = ${claimId}
    UNION SELECT event_id FROM patient_payment_details WHERE claim_lifecycle_id = ${lifecycleId} AND event_id IS NOT NULL
    UNION SELECT source_event_id FROM domain_events WHERE claim_id = ${claimId}
  )`;
  return db
    .select({ id: events.id, kind: events.kind, status: events.status, receivedAt: events.receivedAt })
    .from(events)
    .where(sql`${events.id} IN ${ids}`)
    .orderBy(asc(events.receivedAt))
    .limit(200);
}

/** The last 24 hours of delivery attempts and accepted/invalid events, and the counts needing attention. */
export async function activitySince(db: Db, since: string) {
  const [attempts, accepted, counts] = await Promise.all([
    db
      .select({ subscriptionId: deliveries.subscriptionId, at: deliveryAttempts.at, statusCode: deliveryAttempts.statusCode, latencyMs: deliveryAttempts.latencyMs })
      .from(deliveryAttempts)
      .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
      .where(sql`${deliveryAttempts.at} >= ${since}`)
      .limit(50_000),
    db
      .select({ sourceId: events.sourceId, hour: sql<string>`substr(${events.receivedAt}, 1, 13)`, status: events.status, n: sql<number>`count(*)` })
      .from(events)
      .where(sql`${events.receivedAt} >= ${since}`)
      .groupBy(events.sourceId, sql`substr(${events.receivedAt}, 1, 13)`, events.status),
    db.select({ status: events.status, n: sql<number>`count(*)` }).from(events).where(sql`${events.status} != 'processed'`).groupBy(events.status),
  ]);
  return { attempts, accepted, counts };
}

export interface ClaimListFilter {
  /** A patient reference: `Patient/<id>`, a partner's patient id, or ours. */
  patient?: string | undefined;
  status?: string | undefined;
  /** Cursor: claims created before this `createdAt|id`. */
  before?: string | undefined;
  limit: number;
}

/**
 * Claims, newest first, optionally of one patient (matched by the external id any partner used, or ours):
 * the console's Claims page. No PHI in the answer: ids, status, money, dates.
 */
export async function listClaims(db: Db, f: ClaimListFilter) {
  const reference = f.patient?.trim().replace(/^Patient\//, "");
  const rows = await db
    .select({
      id: claims.id,
      lifecycleId: claims.lifecycleId,
      billId: claimLifecycles.billId,
      status: claims.status,
      payerId: claims.payerId,
      totalChargeCents: claims.totalChargeCents,
      patientPaidCents: claims.patientPaidCents,
      responsibilityCents: claimLifecycles.responsibilityCents,
      serviceDate: claims.serviceDate,
      createdAt: claims.createdAt,
    })
    .from(claims)
    .innerJoin(claimLifecycles, eq(claimLifecycles.id, claims.lifecycleId))
    .where(
      and(
        // the claim's own patient, or its lifecycle's (a remit names the patient of a claim that came without one)
        reference
          ? or(
              inArray(claims.patientId, db.select({ id: patients.id }).from(patients).where(or(eq(patients.externalId, reference), eq(patients.id, reference)))),
              inArray(claimLifecycles.patientId, db.select({ id: patients.id }).from(patients).where(or(eq(patients.externalId, reference), eq(patients.id, reference)))),
            )
          : undefined,
        f.status ? eq(claims.status, f.status) : undefined,
        olderThan(claims.createdAt, claims.id, f.before),
      ),
    )
    .orderBy(desc(claims.createdAt), desc(claims.id))
    .limit(f.limit);
  return {
    data: rows.map((r) => ({
      id: r.id,
      lifecycleId: r.lifecycleId,
      billId: r.billId,
      status: r.status,
      payerId: r.payerId,
      totalCharge: centsToAmount(r.totalChargeCents),
      patientResponsibility: r.responsibilityCents === null ? null : centsToAmount(r.responsibilityCents),
      patientPaid: centsToAmount(r.patientPaidCents),
      serviceDate: r.serviceDate,
      createdAt: r.createdAt,
    })),
    nextBefore: nextCursor(rows, f.limit, (c) => `${c.createdAt}|${c.id}`),
  };
}
