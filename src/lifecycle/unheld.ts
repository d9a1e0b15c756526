import { and, eq, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { chunk, type Db } from "../db/client";
import { compiled } from "../db/compiled";
import { claimLifecycles } from "../db/schema";
import { errorText, log } from "../log";
import { compute, factReads, lifecycleState, type LifecycleState, type ResultsOf } from "./store";

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
// away, the caller has the object reconcile, as before; so does a D1 failure here (the object's reconcile
// then fails or succeeds by itself, lifecycle by lifecycle).

/** What a reload without the object found: the version it read, and the figures to write (null: already right). */
export interface UnheldReload {
  lifecycleId: string;
  version: number;
  figures: Required<Pick<typeof claimLifecycles.$inferInsert, "responsibilityCents" | "responsibilityProvisional" | "appliedCents" | "currentClaimId">> | null;
}

/** Lifecycles reloaded per D1 batch (each is a bump and four reads): a message batch's (wrangler.toml's max_batch_size), in one (test/unit/queue-config-unit.test.ts). */
export const RELOADS_PER_BATCH = 50;

/**
 * Brings the figures of the lifecycles no object holds in line with their facts, a batch of lifecycles per
 * round trip (a message batch's lifecycles: two round trips for all of them, not two each). Returns the
 * lifecycles left to their objects: held, with money, merged away, unknown, refused by a guard, or not
 * done because D1 failed here (the object's reconcile then tries, and reports its own failure).
 */
export async function reconcileUnheld(db: Db, lifecycleIds: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const part of chunk(lifecycleIds, RELOADS_PER_BATCH)) {
    try {
      const reloads = await reloadUnheld(db, part);
      const done = await writeUnheld(db, reloads.filter((r): r is UnheldReload => r !== null));
      left.push(...part.filter((id) => !done.has(id)));
    } catch (e) {
      log.warn("lifecycle.unheld_reconcile_failed", { lifecycles: part.length, error: errorText(e) });
      left.push(...part);
    }
  }
  return left;
}

/** One round trip: for each lifecycle, bumps its facts version (only while no object holds it) and reads its facts. */
export async function reloadUnheld(db: Db, lifecycleIds: string[]): Promise<(UnheldReload | null)[]> {
  if (lifecycleIds.length === 0) return [];
  const per = lifecycleIds.map((id) => [bumpFactsVersion(db, { lifecycleId: id }), lifecycleWithMoney(db, { lifecycleId: id }), ...factReads(db, id)] as const);
  const width = per[0]!.length;
  const results = (await db.batch(per.flat() as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
  return lifecycleIds.map((id, i) => {
    const [bumped, [withMoney], ...facts] = results.slice(i * width, (i + 1) * width) as [{ version: number }[], LifecycleWithMoney[], ...FactRows];
    const version = bumped[0]?.version;
    if (version === undefined) return null;
    // money only an object makes: the object reconciles (and reads it all)
    if (withMoney?.hasPayments || withMoney?.hasAllocationsIn) return null;
    const state = lifecycleState(id, [withMoney ? [withMoney.lifecycle] : [], ...facts, [], [], [], [], []]);
    if (!state.exists || state.mergedInto || hasMoney(state)) return null;
    const { responsibility: r, ledger } = compute(state);
    const s = state.summary;
    const unchanged = s.responsibilityCents === r.cents && s.provisional === r.provisional && s.appliedCents === ledger.appliedCents && s.currentClaimId === r.currentClaimId;
    return {
      lifecycleId: id,
      version,
      figures: unchanged ? null : { responsibilityCents: r.cents, responsibilityProvisional: r.provisional, appliedCents: ledger.appliedCents, currentClaimId: r.currentClaimId },
    };
  });
}

type FactRows = ResultsOf<ReturnType<typeof factReads>>;
type LifecycleWithMoney = { lifecycle: typeof claimLifecycles.$inferSelect; hasPayments: number; hasAllocationsIn: number };

// (built once per isolate, src/db/compiled.ts)
const bumpFactsVersion = compiled((db, v: { lifecycleId: string }) =>
  db
    .update(claimLifecycles)
    .set({ factsVersion: sql`${claimLifecycles.factsVersion} + 1` })
    .where(and(eq(claimLifecycles.id, v.lifecycleId), isNull(claimLifecycles.objectSince)))
    .returning({ version: claimLifecycles.factsVersion }),
);

/**
 * The lifecycle's row, and whether it has payments or live allocations of others' credits: one statement
 * where the object's load reads the money itself (five). Its credits and their allocations come from its
 * payments, so there are none without them.
 */
const lifecycleWithMoney = compiled((db, v: { lifecycleId: string }) =>
  db
    .select({
      lifecycle: claimLifecycles,
      // (written out: drizzle leaves a single-table select's columns unqualified, and inside the subquery
      // "id" would be the subquery's own)
      hasPayments: sql<number>`exists (select 1 from patient_payment_details p where p.claim_lifecycle_id = claim_lifecycles.id)`.as("has_payments"),
      hasAllocationsIn: sql<number>`exists (select 1 from credit_allocations a where a.claim_lifecycle_id = claim_lifecycles.id and a.reversed_at is null)`.as("has_allocations_in"),
    })
    .from(claimLifecycles)
    .where(eq(claimLifecycles.id, v.lifecycleId)),
);

/** Writes the reloads' figures, each only if both guards still hold, in one round trip; returns the lifecycles done. */
export async function writeUnheld(db: Db, reloads: UnheldReload[]): Promise<Set<string>> {
  const done = new Set(reloads.filter((r) => !r.figures).map((r) => r.lifecycleId));
  const changing = reloads.filter((r) => r.figures);
  if (changing.length === 0) return done;
  const writes = changing.map((r) => writeFigures(db, { ...r.figures!, lifecycleId: r.lifecycleId, version: r.version }));
  const written = (await db.batch(writes as [(typeof writes)[number], ...(typeof writes)[number][]])) as { id: string }[][];
  for (const [row] of written) if (row) done.add(row.id);
  return done;
}

type Figures = NonNullable<UnheldReload["figures"]>;
const writeFigures = compiled((db, v: Figures & { lifecycleId: string; version: number }) =>
  db
    .update(claimLifecycles)
    .set({ responsibilityCents: v.responsibilityCents, responsibilityProvisional: v.responsibilityProvisional, appliedCents: v.appliedCents, currentClaimId: v.currentClaimId })
    .where(and(eq(claimLifecycles.id, v.lifecycleId), eq(claimLifecycles.factsVersion, v.version), isNull(claimLifecycles.objectSince)))
    .returning({ id: claimLifecycles.id }),
);

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
