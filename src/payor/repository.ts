import { and, eq, isNull } from "drizzle-orm";
import { toBase64 } from "../crypto/encoding";
import { sha256Hex } from "../crypto/hmac";
import { newId } from "../crypto/ids";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { excluded } from "../db/compiled";
import { coveragePlans, providerKeys } from "../db/schema";
import type { CoveragePlan } from "../domain/adjudication";

const hashKey = (key: string) => sha256Hex(new TextEncoder().encode(key));

/** A new provider API key; only its hash is stored. */
export async function createProviderKey(db: Db, providerId: string, label: string | null) {
  const key = `hcms_${toBase64(crypto.getRandomValues(new Uint8Array(24))).replace(/[+/=]/g, "")}`;
  const id = newId("pk");
  await db.insert(providerKeys).values({ id, providerId, keyHash: await hashKey(key), label, createdAt: nowIso() });
  return { id, providerId, key, label };
}

/** The provider a key belongs to, when it is that provider's and not revoked. Lookup is by hash. */
export async function checkProviderKey(db: Db, providerId: string, key: string): Promise<boolean> {
  const [row] = await db
    .select({ providerId: providerKeys.providerId })
    .from(providerKeys)
    .where(and(eq(providerKeys.keyHash, await hashKey(key)), isNull(providerKeys.revokedAt)));
  return row?.providerId === providerId;
}

export const revokeProviderKey = (db: Db, id: string) =>
  db.update(providerKeys).set({ revokedAt: nowIso() }).where(eq(providerKeys.id, id)).returning({ id: providerKeys.id });

type PlanRow = typeof coveragePlans.$inferSelect;

export function planFromRow(r: PlanRow): CoveragePlan {
  return {
    insuranceId: r.insuranceId,
    payorId: r.payorId,
    planName: r.planName,
    activeFrom: r.activeFrom,
    activeTo: r.activeTo,
    coinsuranceBps: r.coinsuranceBps,
    copayCents: r.copayCents,
    excludedCpt: JSON.parse(r.excludedCpt) as string[],
    excludedIcd: JSON.parse(r.excludedIcd) as string[],
    coveredCpt: r.coveredCpt ? (JSON.parse(r.coveredCpt) as string[]) : null,
    autoApproveCeilingCents: r.autoApproveCeilingCents,
  };
}

export async function getPlan(db: Db, insuranceId: string): Promise<CoveragePlan | null> {
  const [row] = await db.select().from(coveragePlans).where(eq(coveragePlans.insuranceId, insuranceId));
  return row ? planFromRow(row) : null;
}

export async function upsertPlan(db: Db, plan: CoveragePlan): Promise<void> {
  const values = {
    insuranceId: plan.insuranceId,
    payorId: plan.payorId,
    planName: plan.planName,
    activeFrom: plan.activeFrom,
    activeTo: plan.activeTo,
    coinsuranceBps: plan.coinsuranceBps,
    copayCents: plan.copayCents,
    excludedCpt: JSON.stringify(plan.excludedCpt),
    excludedIcd: JSON.stringify(plan.excludedIcd),
    coveredCpt: plan.coveredCpt ? JSON.stringify(plan.coveredCpt) : null,
    autoApproveCeilingCents: plan.autoApproveCeilingCents,
    updatedAt: nowIso(),
  };
  await db.insert(coveragePlans).values(values).onConflictDoUpdate({ target: coveragePlans.insuranceId, set: excluded(coveragePlans, values) });
}

export const listPlans = async (db: Db) => (await db.select().from(coveragePlans)).map(planFromRow);
export const deletePlan = (db: Db, insuranceId: string) =>
  db.delete(coveragePlans).where(eq(coveragePlans.insuranceId, insuranceId)).returning({ id: coveragePlans.insuranceId });
