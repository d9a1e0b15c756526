import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import { openSecret } from "../crypto/secret-box";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { subscriptions, subscriptionSecrets } from "../db/schema";
import { nonNegativeVar } from "../env";
import { isolateCache } from "../isolate-cache";

// Per-isolate cache of what a delivery needs from its subscription: the row (URL, options, active) and
// the decrypted signing keys with their expiry. Without it every delivery read both from D1 and opened
// each key with AES-GCM (issue 17). Changes made through this isolate (updates, rotation, deletion, the
// consumer disabling a failing subscription) clear the entry at once; other isolates see a change within
// SUBSCRIPTION_CACHE_TTL_SECONDS (30 by default; 0 turns the cache off). A rotated-out key's grace period
// is checked when the key is used, never frozen in the cache.

type Row = typeof subscriptions.$inferSelect;
interface Key {
  kind: "hmac" | "ed25519";
  value: string;
  expiresAt: string | null;
}
export interface DeliverySubscription {
  row: Row;
  keys: Key[];
}

const cache = isolateCache<DeliverySubscription | null>();

async function load(db: Db, secretsKey: string | undefined, id: string): Promise<DeliverySubscription | null> {
  const now = nowIso();
  const [[row], secrets] = await Promise.all([
    db.select().from(subscriptions).where(eq(subscriptions.id, id)),
    db
      .select({ kind: subscriptionSecrets.kind, ciphertext: subscriptionSecrets.ciphertext, expiresAt: subscriptionSecrets.expiresAt })
      .from(subscriptionSecrets)
      .where(and(eq(subscriptionSecrets.subscriptionId, id), or(isNull(subscriptionSecrets.expiresAt), gt(subscriptionSecrets.expiresAt, now))))
      .orderBy(asc(subscriptionSecrets.id)),
  ]);
  if (!row) return null;
  const keys = await Promise.all(secrets.map(async (s) => ({ kind: s.kind as Key["kind"], value: await openSecret(secretsKey, s.ciphertext), expiresAt: s.expiresAt })));
  return { row, keys };
}

/** The subscription and its keys, from this isolate's cache when fresh. Null when it does not exist. */
export const deliverySubscription = (db: Db, secretsKey: string | undefined, id: string, ttlSeconds: number): Promise<DeliverySubscription | null> =>
  cache.get(id, ttlSeconds, () => load(db, secretsKey, id));

/** The keys that sign at `now`: current ones, and rotated-out ones still inside their grace period. */
export function signingKeysAt(sub: DeliverySubscription, now = nowIso()): { hmac: string[]; ed25519: string[] } {
  const live = sub.keys.filter((k) => k.expiresAt === null || k.expiresAt > now);
  return { hmac: live.filter((k) => k.kind === "hmac").map((k) => k.value), ed25519: live.filter((k) => k.kind === "ed25519").map((k) => k.value) };
}

export const invalidateSubscription = (id?: string): void => cache.invalidate(id);

export const subscriptionCacheTtl = (value: string | undefined) => nonNegativeVar(value, 30);
