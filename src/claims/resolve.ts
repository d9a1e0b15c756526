import { and, desc, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { newId } from "../crypto/ids";
import type { Db } from "../db/client";
import type { BatchItem } from "drizzle-orm/batch";
import { nowIso } from "../db/client";
import { compiled } from "../db/compiled";
import { byKeys } from "../order";
import {
  claimDiagnoses,
  claimIdentifiers,
  claimLifecycles,
  claimLines,
  claimResponses,
  claims,
  claimStatusHistory,
  creditAllocations,
  domainEvents,
  patientPaymentDetails,
  patients,
  paymentReconciliations,
  scrubResults,
} from "../db/schema";

/** The Cair claim-id identifier system; its value is the Elation bill id and names the lifecycle. */
export const CLAIM_ID_SYSTEM = "https://fhir.cairhealth.com/fhir/identifier/claim-id";

/** Systems of claim-specific identifiers (each names exactly one claim). */
export const ID_SYSTEM = {
  fhirClaim: "urn:claimgate:fhir-claim",
  healthieCms1500: "urn:claimgate:healthie-cms1500",
  hcmsClaim: "urn:claimgate:hcms-claim",
} as const;

export interface ClaimKey {
  system: string;
  value: string;
}

/**
 * How a payload points at its claim. Linking rules:
 * - a ClaimResponse: `request.reference` Claim/<id> (fhir-claim key) and/or a claim-id identifier (bill);
 * - a scrub result: `claim_id` and the embedded Claim's id (fhir-claim keys) and its claim-id identifier;
 * - a CMS-1500: its Healthie id (healthie-cms1500 key);
 * - a payor status update: `claim_id` (hcms-claim key).
 * Keys name a claim; the bill id names the lifecycle. A payload with only a bill id lands on the
 * lifecycle's latest claim.
 */
export interface ClaimRef {
  keys: ClaimKey[];
  /** Other claims of the same lifecycle (a `Claim.related` prior claim, a corrected claim's original). */
  linked?: ClaimKey[];
  billId?: string | null;
  patient?: { system: string; externalId: string } | null;
}

/**
 * What resolving must tell a lifecycle before a merge folds it into another: its Durable Object holds
 * money D1 may not have yet, and must hand it over and stop taking payments first.
 */
export interface LifecycleHooks {
  beforeFold(drop: string, into: string): Promise<void>;
  /** …and the survivor reloads its facts at once, so it answers its next payment with both lifecycles' money. */
  afterFold(into: string): Promise<void>;
  /** A lifecycle's claims or remits changed: its object reloads them (its money follows the facts). */
  factsChanged(lifecycleId: string): Promise<void>;
}

export interface ResolvedClaim {
  claimId: string;
  lifecycleId: string;
  patientId: string | null;
  /**
   * Whether resolving changed what the lifecycle's object holds (a claim added to an existing lifecycle,
   * an identifier, the bill, a claim's patient): then the caller tells it (`factsChanged`). False for a
   * lifecycle created here (its object has never loaded it) and for a payload that only found its claim,
   * which is most of them: an update to a known claim costs the object nothing.
   */
  factsChanged: boolean;
}

/**
 * Finds or creates the claim a payload refers to. Unknown claims are created as placeholders, never
 * dropped; when a later payload shows that two claims (or two lifecycles) are the same, they are merged
 * into the older one, so a remit that arrives before its claim ends in the same state as one after it.
 * Concurrent creators race on the unique identifier index; the loser retries and finds the winner.
 */
export async function resolveClaim(db: Db, ref: ClaimRef, folds: LifecycleHooks): Promise<ResolvedClaim> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await resolveOnce(db, ref, folds);
    } catch (e) {
      if (attempt < 3 && String((e as Error)?.message).includes("UNIQUE constraint failed")) continue;
      throw e;
    }
  }
}

async function resolveOnce(db: Db, ref: ClaimRef, folds: LifecycleHooks): Promise<ResolvedClaim> {
  const keys = dedupeKeys(ref.keys);
  // The patient, the claims the keys name and the bill's lifecycle in one round trip (issue 17: a
  // projection's reads are batched where nothing in between depends on them).
  const [patientRows, matchedRows, billRows] = await readsPresent(db, [
    ref.patient ? upsertPatient(db, { id: newId("pat"), system: ref.patient.system, externalId: ref.patient.externalId }) : null,
    keys.length === 1 ? claimsOfKey(db, keys[0]!) : keys.length ? claimsOfKeys(db, keys) : null,
    ref.billId ? lifecycleOfBill(db, { billId: ref.billId }) : null,
  ]);
  const patientId = (patientRows as { id: string }[])[0]?.id ?? null;
  const matched = matchedRows as { claimId: string; lifecycleId: string; createdAt: string; patientId: string | null; lifecyclePatientId: string | null; system: string; value: string }[];
  const billLifecycle = (billRows as (typeof claimLifecycles.$inferSelect)[])[0];

  if (matched.length === 0) {
    if (keys.length === 0 && billLifecycle) {
      const [latest] = await db
        .select({ id: claims.id })
        .from(claims)
        .where(eq(claims.lifecycleId, billLifecycle.id))
        .orderBy(desc(claims.createdAt), desc(claims.id))
        .limit(1);
      if (latest) return finish(db, latest.id, billLifecycle.id, patientId, false);
    }
    const created = await createPlaceholder(db, keys, billLifecycle?.id ?? null, ref.billId ?? null, patientId);
    const linked = await linkVersions(db, folds, created.lifecycleId, dedupeKeys(ref.linked ?? []));
    // A claim added to a lifecycle that exists already changes what its object holds; a new lifecycle's
    // object has never loaded anything, and a merge into another one was reconciled by the fold.
    return linked.lifecycleId === created.lifecycleId ? { ...created, factsChanged: !!billLifecycle } : finish(db, created.claimId, linked.lifecycleId, patientId, false);
  }

  // the claims the keys name, oldest first (read with the keys: no round trip of their own)
  const found = [...new Map(matched.map((m) => [m.claimId, { id: m.claimId, lifecycleId: m.lifecycleId, createdAt: m.createdAt }])).values()].sort(
    byKeys((c) => c.createdAt, (c) => c.id),
  );
  const survivor = found[0]!;
  for (const other of found.slice(1)) await mergeClaims(db, survivor.id, other.id);

  let lifecycleId = survivor.lifecycleId;
  for (const other of found.slice(1)) {
    if (other.lifecycleId !== lifecycleId) lifecycleId = await mergeLifecycles(db, folds, lifecycleId, other.lifecycleId);
  }
  // Claims merged into the survivor, and whatever the bill and identifiers add, change what the lifecycle's
  // object holds (its claims, which claim a bill names, a version's keys, a FHIR claim id on its
  // reconciliations).
  let changed = found.length > 1;
  const setBill =
    ref.billId && !billLifecycle
      ? // A lifecycle that already belongs to another bill keeps it (a claim cannot be on two bills).
        db
          .update(claimLifecycles)
          .set({ billId: ref.billId })
          .where(and(eq(claimLifecycles.id, lifecycleId), isNull(claimLifecycles.billId)))
          .returning({ id: claimLifecycles.id })
      : null;
  if (ref.billId && billLifecycle && billLifecycle.id !== lifecycleId) {
    lifecycleId = await mergeLifecycles(db, folds, billLifecycle.id, lifecycleId);
  }
  // keys no claim had yet (a matched key is the survivor's now: merged claims' identifiers moved to it)
  const newKeys = keys.filter((k) => !matched.some((m) => m.system === k.system && m.value === k.value));
  const addKeys = newKeys.length
    ? db
        .insert(claimIdentifiers)
        .values(newKeys.map((k) => ({ ...k, claimId: survivor.id })))
        .onConflictDoNothing()
        .returning({ claimId: claimIdentifiers.claimId })
    : null;
  const writes = [setBill, addKeys].filter((w) => w !== null);
  if (writes.length) {
    const results = (await db.batch(writes as unknown as [never, ...never[]])) as unknown as unknown[][];
    changed ||= results.some((rows) => rows.length > 0);
  }
  const linked = await linkVersions(db, folds, lifecycleId, dedupeKeys(ref.linked ?? []).filter((k) => !keys.some((x) => x.system === k.system && x.value === k.value)));
  // one claim in its own lifecycle, as read above: its patients as read are still its patients
  const asRead = found.length === 1 && linked.lifecycleId === survivor.lifecycleId ? matched.find((m) => m.claimId === survivor.id) : undefined;
  return finish(db, survivor.id, linked.lifecycleId, patientId, changed || linked.addedClaims, asRead);
}

/**
 * The versions a claim names (its prior claim, a corrected claim's original) belong to its lifecycle:
 * one already known elsewhere brings its lifecycle along (merged, unless it is another bill's); one not
 * known yet is created as a placeholder here, so its remits land in this lifecycle whenever they come.
 */
async function linkVersions(db: Db, folds: LifecycleHooks, lifecycleId: string, linked: ClaimKey[]): Promise<{ lifecycleId: string; addedClaims: boolean }> {
  let current = lifecycleId;
  let addedClaims = false;
  for (const key of linked) {
    const [known] = await db
      .select({ lifecycleId: claims.lifecycleId })
      .from(claimIdentifiers)
      .innerJoin(claims, eq(claims.id, claimIdentifiers.claimId))
      .where(and(eq(claimIdentifiers.system, key.system), eq(claimIdentifiers.value, key.value)));
    if (known) {
      if (known.lifecycleId !== current) current = await mergeLifecycles(db, folds, current, known.lifecycleId);
      continue;
    }
    await createPlaceholder(db, [key], current, null, null);
    addedClaims = true;
  }
  return { lifecycleId: current, addedClaims };
}

/**
 * Gives the claim (and its lifecycle) the patient when it had none, and reads the claim's patient: one
 * round trip, or none when the claim and its lifecycle were read with their patients already set.
 */
async function finish(
  db: Db,
  claimId: string,
  lifecycleId: string,
  patientId: string | null,
  factsChanged: boolean,
  asRead?: { patientId: string | null; lifecyclePatientId: string | null },
): Promise<ResolvedClaim> {
  if (asRead?.patientId && asRead.lifecyclePatientId) return { claimId, lifecycleId, patientId: asRead.patientId, factsChanged };
  const read = db.select({ patientId: claims.patientId }).from(claims).where(eq(claims.id, claimId));
  if (!patientId) {
    const [row] = await read;
    return { claimId, lifecycleId, patientId: row?.patientId ?? null, factsChanged };
  }
  const [set, , [row]] = await db.batch([
    db.update(claims).set({ patientId }).where(and(eq(claims.id, claimId), isNull(claims.patientId))).returning({ id: claims.id }),
    db.update(claimLifecycles).set({ patientId }).where(and(eq(claimLifecycles.id, lifecycleId), isNull(claimLifecycles.patientId))),
    read,
  ]);
  // a claim given its patient changes whose payments (and credits) the object records
  return { claimId, lifecycleId, patientId: row?.patientId ?? patientId, factsChanged: factsChanged || set.length > 0 };
}

const insertPlaceholder = compiled((db, v: { id: string; lifecycleId: string; patientId: string | null; now: string }) =>
  db.insert(claims).values({ id: v.id, lifecycleId: v.lifecycleId, placeholder: true, patientId: v.patientId, createdAt: v.now, updatedAt: v.now }),
);
const insertLifecycle = compiled((db, v: { id: string; billId: string | null; patientId: string | null; now: string }) =>
  db.insert(claimLifecycles).values({ id: v.id, billId: v.billId, patientId: v.patientId, createdAt: v.now }),
);
const insertKey = compiled((db, v: { system: string; value: string; claimId: string }) => db.insert(claimIdentifiers).values({ system: v.system, value: v.value, claimId: v.claimId }));

async function createPlaceholder(
  db: Db,
  keys: ClaimKey[],
  lifecycleId: string | null,
  billId: string | null,
  patientId: string | null,
): Promise<Omit<ResolvedClaim, "factsChanged">> {
  const claimId = newId("clm");
  const now = nowIso();
  const newLifecycle = lifecycleId ? null : newId("lc");
  const lc = lifecycleId ?? newLifecycle!;
  await db.batch([
    insertPlaceholder(db, { id: claimId, lifecycleId: lc, patientId, now }),
    ...(newLifecycle ? [insertLifecycle(db, { id: newLifecycle, billId, patientId, now })] : []),
    ...(keys.length === 1 ? [insertKey(db, { ...keys[0]!, claimId })] : keys.length ? [db.insert(claimIdentifiers).values(keys.map((k) => ({ ...k, claimId })))] : []),
  ]);
  return { claimId, lifecycleId: lc, patientId };
}

// Claim resolution runs for every projected event, so its statements of fixed shape are built once per
// isolate (src/db/compiled.ts).

/** The patient's id, created on first sight: one statement (a no-op update on conflict returns the stored row). */
const upsertPatient = compiled((db, v: { id: string; system: string; externalId: string }) =>
  db
    .insert(patients)
    .values({ id: v.id, system: v.system, externalId: v.externalId })
    .onConflictDoUpdate({ target: [patients.system, patients.externalId], set: { system: sql`excluded.system` } })
    .returning({ id: patients.id }),
);

/** Runs the statements given in one batch; each null one (nothing to run) reads as no rows. */
async function readsPresent(db: Db, statements: (BatchItem<"sqlite"> | null)[]): Promise<unknown[][]> {
  const present = statements.filter((s) => s !== null);
  const results = present.length ? ((await db.batch(present as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[][]) : [];
  let at = 0;
  return statements.map((s) => (s === null ? [] : results[at++]!));
}

const lifecycleOfBill = compiled((db, v: { billId: string }) => db.select().from(claimLifecycles).where(eq(claimLifecycles.billId, v.billId)));

/** The claims keys name, with their lifecycles' patients. */
const claimsOfKeys = (db: Db, keys: ClaimKey[]) => claimsMatching(db, or(...keys.map((k) => and(eq(claimIdentifiers.system, k.system), eq(claimIdentifiers.value, k.value))))!);
const claimsOfKey = compiled((db, k: ClaimKey) => claimsMatching(db, and(eq(claimIdentifiers.system, k.system), eq(claimIdentifiers.value, k.value))!));

function claimsMatching(db: Db, where: SQL) {
  return db
    .select({
      claimId: claims.id,
      lifecycleId: claims.lifecycleId,
      createdAt: claims.createdAt,
      patientId: claims.patientId,
      // (aliased: D1 returns one value per column name, so a second patient_id would shift the row)
      lifecyclePatientId: sql<string | null>`${claimLifecycles.patientId}`.as("lifecycle_patient_id"),
      system: claimIdentifiers.system,
      value: claimIdentifiers.value,
    })
    .from(claimIdentifiers)
    .innerJoin(claims, eq(claims.id, claimIdentifiers.claimId))
    .leftJoin(claimLifecycles, eq(claimLifecycles.id, claims.lifecycleId))
    .where(where);
}

/** Moves everything of claim `drop` onto claim `keep` in one atomic batch; the newer status and lines win. */
async function mergeClaims(db: Db, keep: string, drop: string): Promise<void> {
  const [a, b] = await Promise.all([
    db.select().from(claims).where(eq(claims.id, keep)),
    db.select().from(claims).where(eq(claims.id, drop)),
  ]);
  const k = a[0]!;
  const d = b[0]!;
  const dropLinesNewer = (d.linesAt ?? "") > (k.linesAt ?? "");
  const dropStatusNewer = (d.statusAt ?? "") > (k.statusAt ?? "");
  await db.batch([
    db.update(claimIdentifiers).set({ claimId: keep }).where(eq(claimIdentifiers.claimId, drop)),
    dropLinesNewer
      ? db.delete(claimLines).where(eq(claimLines.claimId, keep))
      : db.delete(claimLines).where(eq(claimLines.claimId, drop)),
    db.update(claimLines).set({ claimId: keep }).where(eq(claimLines.claimId, drop)),
    dropLinesNewer
      ? db.delete(claimDiagnoses).where(eq(claimDiagnoses.claimId, keep))
      : db.delete(claimDiagnoses).where(eq(claimDiagnoses.claimId, drop)),
    db.update(claimDiagnoses).set({ claimId: keep }).where(eq(claimDiagnoses.claimId, drop)),
    db.update(scrubResults).set({ claimId: keep }).where(eq(scrubResults.claimId, drop)),
    db.update(claimResponses).set({ claimId: keep }).where(eq(claimResponses.claimId, drop)),
    db.update(claimStatusHistory).set({ claimId: keep }).where(eq(claimStatusHistory.claimId, drop)),
    db.update(domainEvents).set({ claimId: keep }).where(eq(domainEvents.claimId, drop)),
    db.update(patientPaymentDetails).set({ claimId: keep }).where(eq(patientPaymentDetails.claimId, drop)),
    db.update(creditAllocations).set({ claimId: keep }).where(eq(creditAllocations.claimId, drop)),
    db.update(paymentReconciliations).set({ claimId: keep }).where(eq(paymentReconciliations.claimId, drop)),
    db
      .update(claims)
      .set({
        claimCreated: k.claimCreated ?? d.claimCreated,
        replaces: k.replaces !== "[]" ? k.replaces : d.replaces,
        frequencyCode: k.frequencyCode ?? d.frequencyCode,
        placeholder: k.placeholder && d.placeholder,
        patientId: k.patientId ?? d.patientId,
        payerId: k.payerId ?? d.payerId,
        payerName: k.payerName ?? d.payerName,
        providerId: k.providerId ?? d.providerId,
        serviceDate: k.serviceDate ?? d.serviceDate,
        ...(dropStatusNewer ? { status: d.status, statusAt: d.statusAt } : {}),
        ...(dropLinesNewer ? { linesAt: d.linesAt, totalChargeCents: d.totalChargeCents } : {}),
        approvedCents: k.approvedCents ?? d.approvedCents,
        payorPatientResponsibilityCents: k.payorPatientResponsibilityCents ?? d.payorPatientResponsibilityCents,
        patientPaidCents: Math.max(k.patientPaidCents, d.patientPaidCents),
        updatedAt: nowIso(),
      })
      .where(eq(claims.id, keep)),
    db.delete(claims).where(eq(claims.id, drop)),
  ]);
}

/**
 * Folds lifecycle `drop` into `keep` (keeping the bill id either had) and returns `keep`. Two lifecycles
 * with different bill ids are different bills and are never merged; then `keep` is returned unchanged.
 */
async function mergeLifecycles(db: Db, folds: LifecycleHooks, keep: string, drop: string): Promise<string> {
  const rows = await db.select().from(claimLifecycles).where(inArray(claimLifecycles.id, [keep, drop]));
  const k = rows.find((r) => r.id === keep);
  const d = rows.find((r) => r.id === drop);
  if (!k || !d) return keep;
  if (k.billId && d.billId && k.billId !== d.billId) return keep;
  // Every payment and every allocation into `drop` moves too (credits follow their payments), and `drop`
  // stays as a forwarding row: a payment on its way to the old lifecycle's object is sent on to `keep`.
  // The caller's reconcile then rebuilds the survivor's ledger from all of it.
  await folds.beforeFold(drop, keep);
  await db.batch([
    db.update(claims).set({ lifecycleId: keep }).where(eq(claims.lifecycleId, drop)),
    db.update(claimResponses).set({ lifecycleId: keep }).where(eq(claimResponses.lifecycleId, drop)),
    db.update(domainEvents).set({ lifecycleId: keep }).where(eq(domainEvents.lifecycleId, drop)),
    db.update(patientPaymentDetails).set({ lifecycleId: keep }).where(eq(patientPaymentDetails.lifecycleId, drop)),
    db.update(creditAllocations).set({ lifecycleId: keep }).where(eq(creditAllocations.lifecycleId, drop)),
    db.update(claimLifecycles).set({ billId: null, mergedInto: keep }).where(eq(claimLifecycles.id, drop)),
    db
      .update(claimLifecycles)
      .set({ billId: k.billId ?? d.billId, patientId: k.patientId ?? d.patientId, mergedInto: null })
      .where(eq(claimLifecycles.id, keep)),
  ]);
  await folds.afterFold(keep);
  return keep;
}

function dedupeKeys(keys: ClaimKey[]): ClaimKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.system}|${k.value}`;
    if (!k.value || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
