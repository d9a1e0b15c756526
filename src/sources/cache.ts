import type { Db } from "../db/client";
import { isolateCache } from "../isolate-cache";
import { resolveSource, type ResolvedSource } from "./repository";

// Per-isolate cache of resolved sources (decrypted secrets included), so the hot path does not read D1
// and decrypt on every request. Admin changes clear it in the isolate that made them; other isolates see
// a change within the TTL.
const cache = isolateCache<ResolvedSource | null>();

export const cachedSource = (db: Db, secretsKey: string | undefined, id: string, ttlSeconds: number): Promise<ResolvedSource | null> =>
  cache.get(id, ttlSeconds, () => resolveSource(db, secretsKey, id));

export const invalidateSource = (id?: string): void => cache.invalidate(id);
