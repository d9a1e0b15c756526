import { and, eq, sql } from "drizzle-orm";
import { newId } from "../crypto/ids";
import type { Db } from "../db/client";
import { chunk, nowIso } from "../db/client";
import { claimDiagnoses, claimLines, claims, claimStatusHistory, domainEvents } from "../db/schema";
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

/** Records a status change in the history and applies it when it is not older than the status in force. */
export async function applyStatus(db: Db, change: StatusChange): Promise<{ from: string; applied: boolean }> {
  const [claim] = await db.select({ status: claims.status, statusAt: claims.statusAt }).from(claims).where(eq(claims.id, change.claimId));
  if (!claim) throw new Error(`claim ${change.claimId} not found`);
  const applied = supersedes(change.at, claim.statusAt);
  const unchanged = claim.statusAt === change.at && claim.status === change.to;
  await db.batch([
    db
      .insert(claimStatusHistory)
      .values({
        claimId: change.claimId,
        eventId: change.eventId,
        fromStatus: claim.status,
        toStatus: change.to,
        source: change.source,
        message: change.message ?? null,
        at: change.at,
        applied,
      })
      .onConflictDoNothing(),
    ...(applied && !unchanged
      ? [
          db
            .update(claims)
            .set({ status: change.to, statusAt: change.at, updatedAt: nowIso() })
            // the guard repeats the check inside the statement, so a concurrent newer update wins
            .where(and(eq(claims.id, change.claimId), sql`(${claims.statusAt} IS NULL OR ${claims.statusAt} <= ${change.at})`)),
        ]
      : []),
  ]);
  return { from: claim.status, applied };
}

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
  return db
    .insert(domainEvents)
    .values({
      id: newId("dev"),
      type: e.type,
      sourceEventId,
      claimId: e.claimId,
      lifecycleId: e.lifecycleId,
      payload: JSON.stringify(e.payload),
      occurredAt: at,
    })
    .onConflictDoNothing()
    .returning({ id: domainEvents.id });
}

/** Records produced events once per (raw event, type); returns the ids of the ones newly recorded. */
export async function recordDomainEvents(db: Db, sourceEventId: string, produced: ProducedEvent[], at = nowIso()): Promise<string[]> {
  const ids: string[] = [];
  for (const e of produced) {
    const rows = await domainEventInsert(db, sourceEventId, e, at);
    if (rows[0]) ids.push(rows[0].id);
  }
  return ids;
}
