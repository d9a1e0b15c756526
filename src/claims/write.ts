import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { newId } from "../crypto/ids";
import type { Db } from "../db/client";
import { chunk, nowIso } from "../db/client";
import { compiled } from "../db/compiled";
import { claimDiagnoses, claimLines, claims, claimStatusHistory, domainEvents, events } from "../db/schema";
import { supersedes, type ClaimStatus } from "../domain/claim-status";


export interface StatusChange {
  claimId: string;
  eventId: string;
  to: ClaimStatus;
  /** When the status changed at the partner (ISO instant). */
  at: string;
  source: string;
  message?: string | null;
}

/**
 * Records a status change in the history and applies it when it is not older than the status in force.
 * One round trip (issue 17): the claim as it stands, the history row (its `from` and `applied` computed in
 * SQL from that same row) and the guarded change go in one batch, which D1 runs atomically, so all three
 * see one state. `alongside` are the caller's own statements for the same batch (a remit's row).
 */
export async function applyStatus(db: Db, change: StatusChange, alongside: BatchItem<"sqlite">[] = []): Promise<{ from: string; applied: boolean }> {
  const { claimId, eventId, to, at, source } = change;
  const message = change.message ?? null;
  const v = { claimId, eventId, to, at, source, message, now: nowIso() };
  const [rows] = (await db.batch([
    readStatus(db, v),
    recordStatusChange(db, v),
    changeStatus(db, v),
    ...alongside,
  ] as unknown as [never, ...never[]])) as unknown as [{ status: string; statusAt: string | null }[]];
  const claim = rows[0];
  if (!claim) throw new Error(`claim ${claimId} not found`);
  return { from: claim.status, applied: supersedes(at, claim.statusAt) };
}

// (built once per isolate: every remit and status update runs these, src/db/compiled.ts)
type StatusValues = { claimId: string; eventId: string; to: ClaimStatus; at: string; source: string; message: string | null; now: string };
const readStatus = compiled((db, v: StatusValues) => db.select({ status: claims.status, statusAt: claims.statusAt }).from(claims).where(eq(claims.id, v.claimId)));
const recordStatusChange = compiled((db, v: StatusValues) =>
  db
    .insert(claimStatusHistory)
    .select(
      db
        .select({
          // every column in the table's order (drizzle's insert-select); NULL numbers the row
          id: sql<number>`NULL`.as("id"),
          claimId: claims.id,
          eventId: sql<string>`${v.eventId}`.as("event_id"),
          fromStatus: claims.status,
          toStatus: sql<string>`${v.to}`.as("to_status"),
          source: sql<string>`${v.source}`.as("source"),
          message: sql<string | null>`${v.message}`.as("message"),
          at: sql<string>`${v.at}`.as("at"),
          applied: sql<boolean>`(${claims.statusAt} IS NULL OR ${v.at} >= ${claims.statusAt})`.as("applied"),
        })
        .from(claims)
        .where(eq(claims.id, v.claimId)),
    )
    .onConflictDoNothing(),
);
const changeStatus = compiled((db, v: StatusValues) =>
  db
    .update(claims)
    .set({ status: v.to, statusAt: v.at, updatedAt: v.now })
    // not older than the status in force (the same rule as supersedes()), and not the same change again
    .where(and(eq(claims.id, v.claimId), sql`(${claims.statusAt} IS NULL OR ${claims.statusAt} <= ${v.at})`, sql`NOT (${claims.statusAt} IS ${v.at} AND ${claims.status} = ${v.to})`)),
);

export interface LineInput {
  sequence: number;
  code: string;
  codeSystem?: string | null;
  modifiers: string[];
  units: number;
  chargeCents: number;
  diagnosisPointers: number[];
  serviceDate?: string | null;
}

export interface DiagnosisInput {
  sequence: number;
  code: string;
  codeSystem?: string | null;
}

/**
 * Replaces a claim's lines and diagnoses in one atomic batch, when `version` (the payload's time) is not
 * older than the version stored: an update never leaves a half-updated claim, and a stale one is ignored.
 */
export async function replaceLines(
  db: Db,
  claimId: string,
  version: string,
  lines: LineInput[],
  diagnoses: DiagnosisInput[],
  extra: Partial<typeof claims.$inferInsert> = {},
): Promise<boolean> {
  const [claim] = await db.select({ linesAt: claims.linesAt }).from(claims).where(eq(claims.id, claimId));
  if (!claim) throw new Error(`claim ${claimId} not found`);
  // Strictly newer only: the same version again (a replay) changes nothing.
  if (claim.linesAt !== null && version <= claim.linesAt) return false;
  const total = lines.reduce((n, l) => n + l.chargeCents, 0);
  await db.batch([
    db.delete(claimLines).where(eq(claimLines.claimId, claimId)),
    db.delete(claimDiagnoses).where(eq(claimDiagnoses.claimId, claimId)),
    ...chunk(lines, 10).map((part) =>
      db.insert(claimLines).values(
        part.map((l) => ({
          claimId,
          sequence: l.sequence,
          code: l.code,
          codeSystem: l.codeSystem ?? null,
          modifiers: JSON.stringify(l.modifiers),
          units: l.units,
          chargeCents: l.chargeCents,
          diagnosisPointers: JSON.stringify(l.diagnosisPointers),
          serviceDate: l.serviceDate ?? null,
        })),
      ),
    ),
    ...chunk(diagnoses, 20).map((part) =>
      db.insert(claimDiagnoses).values(part.map((d) => ({ claimId, sequence: d.sequence, code: d.code, codeSystem: d.codeSystem ?? null }))),
    ),
    db
      .update(claims)
      .set({
        ...extra,
        placeholder: false,
        linesAt: version,
        totalChargeCents: total,
        serviceDate: lines.map((l) => l.serviceDate).filter(Boolean).sort()[0] ?? null,
        updatedAt: nowIso(),
      })
      .where(eq(claims.id, claimId)),
  ]);
  return true;
}

export interface ProducedEvent {
  type: string;
  claimId: string | null;
  lifecycleId: string | null;
  /** The subscriber-facing `data`. */
  payload: unknown;
}

/** The insert of one produced event, for callers that write it in their own atomic batch. */
export function domainEventInsert(db: Db, sourceEventId: string, e: ProducedEvent, at = nowIso()) {
  return insertDomainEvent(db, { id: newId("dev"), type: e.type, sourceEventId, claimId: e.claimId, lifecycleId: e.lifecycleId, payload: JSON.stringify(e.payload), occurredAt: at });
}

const insertDomainEvent = compiled((db, v: { id: string; type: string; sourceEventId: string; claimId: string | null; lifecycleId: string | null; payload: string; occurredAt: string }) =>
  db
    .insert(domainEvents)
    .values({ id: v.id, type: v.type, sourceEventId: v.sourceEventId, claimId: v.claimId, lifecycleId: v.lifecycleId, payload: v.payload, occurredAt: v.occurredAt })
    .onConflictDoNothing()
    .returning({ id: domainEvents.id }),
);

/** A partner event done: processed, with the types it produced (null: none). One per event, compiled once. */
export const markEventProcessed = compiled((db, v: { eventId: string; eventType: string | null; at: string }) =>
  db.update(events).set({ status: "processed", eventType: v.eventType, processedAt: v.at, lastError: null }).where(eq(events.id, v.eventId)),
);

/** Records produced events once per (raw event, type); returns the ids of the ones newly recorded. */
export async function recordDomainEvents(db: Db, sourceEventId: string, produced: ProducedEvent[], at = nowIso()): Promise<string[]> {
  const ids: string[] = [];
  for (const e of produced) {
    const rows = await domainEventInsert(db, sourceEventId, e, at);
    if (rows[0]) ids.push(rows[0].id);
  }
  return ids;
}
