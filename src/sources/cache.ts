import type { Db } from "../db/client";
import { resolveSource, type ResolvedSource } from "./repository";

// Per-isolate cache of resolved sources (decrypted secrets included), so the hot path does not read D1
// and decrypt on every request. Admin changes clear it in the isolate that made them; other isolates see
// a change within the TTL.
const cache = new Map<string, { expires: number; value: ResolvedSource | null }>();

export async function cachedSource(
  db: Db,
  secretsKey: string | undefined,
  id: string,
  ttlSeconds: number,
): Promise<ResolvedSource | null> {
  const hit = cache.get(id);
  const now = Date.now();
  if (hit && hit.expires > now) return hit.value;
  const value = await resolveSource(db, secretsKey, id);
  if (cache.size > 1000) cache.clear();
  cache.set(id, { expires: now + ttlSeconds * 1000, value });
  return value;
}

export function invalidateSource(id?: string): void {
  if (id === undefined) cache.clear();
  else cache.delete(id);
}
