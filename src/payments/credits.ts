import { asc, eq, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { claimLifecycles, creditAllocations, patientCredits, patients } from "../db/schema";
import { centsToAmount } from "../domain/money";
import type { Env } from "../env";
import { ApiError } from "../errors";
import type { AllocationOutcome, LifecycleResult } from "../lifecycle/claim-lifecycle";
import { claimForBill, lifecycleStub, unwrap } from "./service";

/** Credits of a patient, by our patient id or the patient's external id. */
export async function listCredits(db: Db, patientId: string) {
  const ids = (await db.select({ id: patients.id }).from(patients).where(or(eq(patients.id, patientId), eq(patients.externalId, patientId)))).map((p) => p.id);
  if (ids.length === 0) return [];
  const credits = await db.select().from(patientCredits).where(inArray(patientCredits.patientId, ids)).orderBy(asc(patientCredits.createdAt));
  const allocations = credits.length
    ? await db.select().from(creditAllocations).where(inArray(creditAllocations.creditId, credits.map((c) => c.id))).orderBy(asc(creditAllocations.createdAt))
    : [];
  return credits.map((c) => ({
    id: c.id,
    patientId: c.patientId,
    sourcePaymentId: c.sourcePaymentId,
    amount: centsToAmount(c.amountCents),
    remaining: centsToAmount(c.remainingCents),
    status: c.status,
    createdAt: c.createdAt,
    allocations: allocations
      .filter((a) => a.creditId === c.id)
      .map((a) => ({ id: a.id, claimId: a.claimId, claimLifecycleId: a.lifecycleId, amount: centsToAmount(a.amountCents), createdAt: a.createdAt })),
  }));
}

/** Applies an unallocated credit to another claim of the same patient, in that claim's lifecycle object. */
export async function allocateCredit(env: Env, db: Db, creditId: string, billId: string): Promise<AllocationOutcome> {
  const [credit] = await db.select().from(patientCredits).where(eq(patientCredits.id, creditId));
  if (!credit) throw new ApiError(404, "CREDIT_NOT_FOUND", `No credit ${creditId}.`);
  const claim = await claimForBill(db, billId);
  const [lifecycle] = await db.select({ patientId: claimLifecycles.patientId }).from(claimLifecycles).where(eq(claimLifecycles.id, claim.lifecycleId));
  const targetPatient = claim.patientId ?? lifecycle?.patientId ?? null;
  if (!credit.patientId || credit.patientId !== targetPatient) {
    throw new ApiError(409, "PATIENT_MISMATCH", "A credit can only be applied to a claim of the same patient.");
  }
  const result = await lifecycleStub(env, claim.lifecycleId).allocateCredit({ creditId, claimId: claim.id, lifecycleId: claim.lifecycleId });
  return unwrap(result as LifecycleResult<AllocationOutcome>);
}
