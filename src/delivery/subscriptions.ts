import { and, asc, desc, eq, gt, isNull, or } from "drizzle-orm";
import { generateEd25519 } from "../crypto/ed25519";
import { toHex, utf8 } from "../crypto/encoding";
import { sha256Hex } from "../crypto/hmac";
import type { SigningVersion } from "./signing";
import { newId } from "../crypto/ids";
import { sealSecret } from "../crypto/secret-box";
import type { Db } from "../db/client";
import { invalidateSubscription } from "./subscription-cache";
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
  signing?: SigningVersion[];
  payload?: "full" | "thin";
  rateLimit?: number | null;
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
    signing: JSON.parse(row.signing) as SigningVersion[],
    payload: row.payload,
    rateLimit: row.rateLimit,
    filter: { providerId: row.providerId, payerId: row.payerId },
    failingSince: row.failingSince,
    lastSuccessAt: row.lastSuccessAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * A new subscription with its HMAC secret, an Ed25519 key pair when it signs v1a (the private key sealed,
 * the public key kept beside it), and a fetch token when its payloads are thin (only its hash is kept).
 * The answer carries the fetch token this once.
 */
export async function createSubscription(db: Db, secretsKey: string | undefined, input: SubscriptionInput): Promise<SubscriptionRow & { fetchToken: string | null }> {
  const id = newId("sub");
  const now = nowIso();
  const ciphertext = await sealSecret(secretsKey, input.secret);
  const signing = input.signing ?? ["v1"];
  const ed = signing.includes("v1a") ? await generateEd25519() : null;
  const fetchToken = input.payload === "thin" ? `cgft_${toHex(crypto.getRandomValues(new Uint8Array(32)))}` : null;
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
        signing: JSON.stringify(signing),
        payload: input.payload ?? "full",
        fetchTokenHash: fetchToken ? await sha256Hex(utf8(fetchToken)) : null,
        rateLimit: input.rateLimit ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    db.insert(subscriptionSecrets).values({ subscriptionId: id, ciphertext, createdAt: now }),
    ...(ed ? [db.insert(subscriptionSecrets).values({ subscriptionId: id, kind: "ed25519", ciphertext: await sealSecret(secretsKey, ed.privateKey), publicKey: ed.publicKey, createdAt: now })] : []),
  ]);
  return { ...row[0]!, fetchToken };
}

/** The current Ed25519 public key (`whpk_…`) of a subscription that signs v1a, else null. */
export async function currentPublicKey(db: Db, subscriptionId: string): Promise<string | null> {
  const [row] = await db
    .select({ publicKey: subscriptionSecrets.publicKey })
    .from(subscriptionSecrets)
    .where(and(eq(subscriptionSecrets.subscriptionId, subscriptionId), eq(subscriptionSecrets.kind, "ed25519"), isNull(subscriptionSecrets.expiresAt)))
    .orderBy(desc(subscriptionSecrets.id))
    .limit(1);
  return row?.publicKey ?? null;
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
  invalidateSubscription(id);
  return row ?? null;
}

/** Deletes a subscription and its secrets; its pending deliveries are cancelled when the consumer meets them. */
export async function deleteSubscription(db: Db, id: string): Promise<void> {
  await db.batch([db.delete(subscriptionSecrets).where(eq(subscriptionSecrets.subscriptionId, id)), db.delete(subscriptions).where(eq(subscriptions.id, id))]);
  invalidateSubscription(id);
}

/**
 * A new signing secret (and a new Ed25519 key pair when the subscription signs v1a); the current ones
 * keep signing beside them for `graceSeconds`.
 */
export async function rotateSubscriptionSecret(db: Db, secretsKey: string | undefined, id: string, secret: string, graceSeconds: number) {
  const now = nowIso();
  const expiresAt = new Date(Date.now() + graceSeconds * 1000).toISOString();
  const [sub] = await db.select({ signing: subscriptions.signing }).from(subscriptions).where(eq(subscriptions.id, id));
  const ed = sub && (JSON.parse(sub.signing) as string[]).includes("v1a") ? await generateEd25519() : null;
  await db.batch([
    db
      .update(subscriptionSecrets)
      .set({ expiresAt })
      .where(and(eq(subscriptionSecrets.subscriptionId, id), or(isNull(subscriptionSecrets.expiresAt), gt(subscriptionSecrets.expiresAt, expiresAt)))),
    db.insert(subscriptionSecrets).values({ subscriptionId: id, ciphertext: await sealSecret(secretsKey, secret), createdAt: now }),
    ...(ed ? [db.insert(subscriptionSecrets).values({ subscriptionId: id, kind: "ed25519", ciphertext: await sealSecret(secretsKey, ed.privateKey), publicKey: ed.publicKey, createdAt: now })] : []),
    db.update(subscriptions).set({ updatedAt: now }).where(eq(subscriptions.id, id)),
  ]);
  invalidateSubscription(id);
  return { previousSecretsExpireAt: expiresAt, ...(ed ? { publicKey: ed.publicKey } : {}) };
}
