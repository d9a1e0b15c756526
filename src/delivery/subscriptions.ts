import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import { newId } from "../crypto/ids";
import { openSecret, sealSecret } from "../crypto/secret-box";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { subscriptions, subscriptionSecrets } from "../db/schema";

export type SubscriptionRow = typeof subscriptions.$inferSelect;

export interface SubscriptionInput {
  url: string;
  events: string[];
  secret: string;
  description?: string | null;
  active?: boolean;
  ordered?: boolean;
  providerId?: string | null;
  payerId?: string | null;
}

export function subscriptionView(row: SubscriptionRow) {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    active: row.active,
    disabledReason: row.disabledReason,
    ordered: row.ordered,
    filter: { providerId: row.providerId, payerId: row.payerId },
    failingSince: row.failingSince,
    lastSuccessAt: row.lastSuccessAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function createSubscription(db: Db, secretsKey: string | undefined, input: SubscriptionInput): Promise<SubscriptionRow> {
  const id = newId("sub");
  const now = nowIso();
  const ciphertext = await sealSecret(secretsKey, input.secret);
  const [row] = await db.batch([
    db
      .insert(subscriptions)
      .values({
        id,
        url: input.url,
        events: JSON.stringify(input.events),
        description: input.description ?? null,
        active: input.active ?? true,
        ordered: input.ordered ?? false,
        providerId: input.providerId ?? null,
        payerId: input.payerId ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    db.insert(subscriptionSecrets).values({ subscriptionId: id, ciphertext, createdAt: now }),
  ]);
  return row[0]!;
}

export async function getSubscription(db: Db, id: string): Promise<SubscriptionRow | null> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row ?? null;
}

export const listSubscriptions = (db: Db, filter: { active?: boolean } = {}) =>
  db
    .select()
    .from(subscriptions)
    .where(filter.active === undefined ? undefined : eq(subscriptions.active, filter.active))
    .orderBy(asc(subscriptions.createdAt));

export async function updateSubscription(db: Db, id: string, patch: Partial<typeof subscriptions.$inferInsert>): Promise<SubscriptionRow | null> {
  const [row] = await db.update(subscriptions).set({ ...patch, updatedAt: nowIso() }).where(eq(subscriptions.id, id)).returning();
  return row ?? null;
}

/** Secrets that sign now: the current one and rotated-out ones still inside their grace period. */
export async function activeSecrets(db: Db, secretsKey: string | undefined, subscriptionId: string, now = nowIso()): Promise<string[]> {
  const rows = await db
    .select({ ciphertext: subscriptionSecrets.ciphertext })
    .from(subscriptionSecrets)
    .where(and(eq(subscriptionSecrets.subscriptionId, subscriptionId), or(isNull(subscriptionSecrets.expiresAt), gt(subscriptionSecrets.expiresAt, now))))
    .orderBy(asc(subscriptionSecrets.id));
  return Promise.all(rows.map((r) => openSecret(secretsKey, r.ciphertext)));
}

/** A new signing secret; the current ones keep signing beside it for `graceSeconds`. */
export async function rotateSubscriptionSecret(db: Db, secretsKey: string | undefined, id: string, secret: string, graceSeconds: number) {
  const now = nowIso();
  const expiresAt = new Date(Date.now() + graceSeconds * 1000).toISOString();
  await db.batch([
    db
      .update(subscriptionSecrets)
      .set({ expiresAt })
      .where(and(eq(subscriptionSecrets.subscriptionId, id), or(isNull(subscriptionSecrets.expiresAt), gt(subscriptionSecrets.expiresAt, expiresAt)))),
    db.insert(subscriptionSecrets).values({ subscriptionId: id, ciphertext: await sealSecret(secretsKey, secret), createdAt: now }),
    db.update(subscriptions).set({ updatedAt: now }).where(eq(subscriptions.id, id)),
  ]);
  return { previousSecretsExpireAt: expiresAt };
}
