import { asc, eq, inArray, or } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { claimLifecycles, creditAllocations, patientCredits, patientPaymentDetails, patients } from "../db/schema";
import { centsToAmount } from "../domain/money";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { claimForBill, lifecycleStub, reconcileLifecycle } from "./service";

/** POST /api/credits/:creditId/allocate: the bill whose claim the credit goes to. */
export const allocateBody = z.strictObject({ billId: z.string().trim().min(1) });

/** POST /api/patients/credits/search: the patient reference in the body, out of the URL. */
export const creditSearchBody = z.strictObject({ patientId: z.string().trim().min(1).max(200) });

/** Credits of a patient, by our patient id or the patient's external id. */
export async function listCredits(db: Db, patientId: string) {
  const ids = (await db.select({ id: patients.id }).from(patients).where(or(eq(patients.id, patientId), eq(patients.externalId, patientId)))).map((p) => p.id);
  if (ids.length === 0) return [];
  const credits = await db.select().from(patientCredits).where(inArray(patientCredits.patientId, ids)).orderBy(asc(patientCredits.createdAt));
  // the allocations are joined to the patient's credits in SQL, not bound by credit id: a patient who
  // overpaid many times has more credits than one statement may bind (D1 takes 100 parameters)
  const allocations = credits.length
    ? (
        await db
          .select({ a: creditAllocations })
          .from(creditAllocations)
          .innerJoin(patientCredits, eq(patientCredits.id, creditAllocations.creditId))
          .where(inArray(patientCredits.patientId, ids))
          .orderBy(asc(creditAllocations.createdAt))
      ).map((r) => r.a)
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
      .map((a) => ({ id: a.id, claimId: a.claimId, claimLifecycleId: a.lifecycleId, amount: centsToAmount(a.amountCents), createdAt: a.createdAt, reversedAt: a.reversedAt })),
  }));
}

export interface AllocationOutcome {
  allocationId: string;
  creditId: string;
  claimId: string;
  claimLifecycleId: string;
  allocatedCents: number;
  creditRemainingCents: number;
}

/**
 * Applies an unallocated credit to another claim of the same patient: the target lifecycle says what is
 * still due, the credit's own lifecycle takes that much of the credit (it decides how much of its payments
 * is credit), and the target lifecycle then reconciles with the allocation counted.
 */
export async function allocateCredit(env: Env, db: Db, creditId: string, billId: string): Promise<AllocationOutcome> {
  const [credit] = await db
    .select({ id: patientCredits.id, patientId: patientCredits.patientId, sourceLifecycleId: patientPaymentDetails.lifecycleId })
    .from(patientCredits)
    .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
    .where(eq(patientCredits.id, creditId));
  if (!credit) throw new ApiError(404, "CREDIT_NOT_FOUND", `No credit ${creditId}.`);
  const claim = await claimForBill(db, billId);
  const [lifecycle] = await db.select({ patientId: claimLifecycles.patientId }).from(claimLifecycles).where(eq(claimLifecycles.id, claim.lifecycleId));
  const targetPatient = claim.patientId ?? lifecycle?.patientId ?? null;
  if (!credit.patientId || credit.patientId !== targetPatient) {
    throw new ApiError(409, "PATIENT_MISMATCH", "A credit can only be applied to a claim of the same patient.");
  }
  const noBalance = () => new ApiError(409, "NO_BALANCE_DUE", "The target claim has no patient balance left to apply a credit to.");
  // A lifecycle's own credit goes back to its own claims by itself when the responsibility rises.
  if (credit.sourceLifecycleId === claim.lifecycleId) throw noBalance();

  const due = await lifecycleStub(env, claim.lifecycleId).due(claim.lifecycleId);
  if (due.outcome === "no_claim_response") throw new ApiError(409, "NO_CLAIM_RESPONSE", "The target claim has no ClaimResponse yet.");
  if (due.outcome === "moved") throw new ApiError(503, "LIFECYCLE_MOVING", "The claim's lifecycle is being merged; retry.", undefined, { "Retry-After": "1" });
  if (due.dueCents <= 0) throw noBalance();

  const reserved = await lifecycleStub(env, credit.sourceLifecycleId).reserveCredit({
    lifecycleId: credit.sourceLifecycleId,
    creditId,
    maxCents: due.dueCents,
    targetClaimId: claim.id,
    targetLifecycleId: claim.lifecycleId,
  });
  if (reserved.outcome === "credit_not_found") throw new ApiError(404, "CREDIT_NOT_FOUND", `No credit ${creditId}.`);
  if (reserved.outcome === "credit_exhausted") throw new ApiError(409, "CREDIT_EXHAUSTED", "The credit has nothing left to allocate.");
  if (reserved.outcome === "moved") throw new ApiError(503, "LIFECYCLE_MOVING", "The credit's lifecycle is being merged; retry.", undefined, { "Retry-After": "1" });
  await reconcileLifecycle(env, claim.lifecycleId);
  return {
    allocationId: reserved.allocationId,
    creditId,
    claimId: claim.id,
    claimLifecycleId: claim.lifecycleId,
    allocatedCents: reserved.allocatedCents,
    creditRemainingCents: reserved.creditRemainingCents,
  };
}
