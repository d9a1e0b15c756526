import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { claimLifecycles } from "../db/schema";
import { compute, lifecycleReads, lifecycleState, type LifecycleState } from "./store";

// Why this exists: a remit (or a claim version, a merge) changes what a lifecycle's patient owes, and the
// lifecycle's ClaimLifecycle object is the authority for its money, so every such change had the object
// reload the facts. But most lifecycles have no patient money yet when their remits arrive (patients pay
// after the EOB), and waking the object of one costs a Durable Object brought into being (its storage
// created), its D1 load and its outbox flush: the largest part of projecting a new claim's remit (issue 17).
//
// A lifecycle no object has loaded yet (`object_since` null) has no payment, credit or allocation: those
// are only made through its object, which loads the lifecycle (and marks it) first. Its figures are then a
// function of its facts in D1 alone, by the same rules (store.compute), so the projection writes them
// itself. Two guards keep that right under concurrency (D1 runs each batch atomically, one at a time):
// - The object marks the lifecycle held in the batch that loads it (store.loadLifecycle), and a write here
//   requires `object_since IS NULL`: once an object holds the lifecycle only the object writes its
//   figures, and an object that starts after a write here loads facts that include what that write saw.
// - Each reload here bumps `facts_version` in the batch that reads the facts, and its write requires the
//   version it read. A projection writes its facts before it reloads, so the last reload sees every fact;
//   an earlier reload's write lands before it (and is overwritten) or finds the version moved on.
// When a guard refuses, or the lifecycle turns out to have money (a merge brought some) or to be merged
// away, the caller has the object reconcile, as before.

/** What a reload without the object found: the version it read, and the figures to write (null: already right). */
export interface UnheldReload {
  lifecycleId: string;
  version: number;
  figures: Pick<typeof claimLifecycles.$inferInsert, "responsibilityCents" | "responsibilityProvisional" | "appliedCents" | "currentClaimId"> | null;
}

/**
 * Brings the figures of a lifecycle no object holds in line with its facts. True when done; false when
 * its object must reconcile it instead (held, money, merged away, unknown, or a guard refused the write).
 */
export async function reconcileUnheld(db: Db, lifecycleId: string): Promise<boolean> {
  const reload = await reloadUnheld(db, lifecycleId);
  return reload !== null && (await writeUnheld(db, reload));
}

/** One round trip: bumps the facts version (only while no object holds the lifecycle) and reads the facts. */
export async function reloadUnheld(db: Db, lifecycleId: string): Promise<UnheldReload | null> {
  const [bumped, ...rows] = await db.batch([
    db
      .update(claimLifecycles)
      .set({ factsVersion: sql`${claimLifecycles.factsVersion} + 1` })
      .where(and(eq(claimLifecycles.id, lifecycleId), isNull(claimLifecycles.objectSince)))
      .returning({ version: claimLifecycles.factsVersion }),
    ...lifecycleReads(db, lifecycleId),
  ]);
  const version = bumped[0]?.version;
  if (version === undefined) return null;
  const state = lifecycleState(lifecycleId, rows);
  if (!state.exists || state.mergedInto || hasMoney(state)) return null;
  const { responsibility: r, ledger } = compute(state);
  const s = state.summary;
  const unchanged = s.responsibilityCents === r.cents && s.provisional === r.provisional && s.appliedCents === ledger.appliedCents && s.currentClaimId === r.currentClaimId;
  return {
    lifecycleId,
    version,
    figures: unchanged ? null : { responsibilityCents: r.cents, responsibilityProvisional: r.provisional, appliedCents: ledger.appliedCents, currentClaimId: r.currentClaimId },
  };
}

/** Writes the reload's figures if both guards still hold; false when one refused. */
export async function writeUnheld(db: Db, reload: UnheldReload): Promise<boolean> {
  if (!reload.figures) return true;
  const written = await db
    .update(claimLifecycles)
    .set(reload.figures)
    .where(and(eq(claimLifecycles.id, reload.lifecycleId), eq(claimLifecycles.factsVersion, reload.version), isNull(claimLifecycles.objectSince)))
    .returning({ id: claimLifecycles.id });
  return written.length > 0;
}

/** Anything only an object makes: then the object reconciles, whatever the marker says. */
function hasMoney(state: LifecycleState): boolean {
  return (
    state.payments.length > 0 ||
    state.credits.length > 0 ||
    state.allocationsIn.length > 0 ||
    state.allocationsOut.length > 0 ||
    state.allocationsReversed.length > 0 ||
    state.summary.appliedCents !== 0 ||
    [...state.patientPaid.values()].some((paid) => paid !== 0)
  );
}
