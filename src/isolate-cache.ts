/**
 * A per-isolate cache of values read from D1 (and decrypted), each kept for a TTL given at read time.
 * A change made through this isolate invalidates its key at once; other isolates see it within the TTL.
 * A TTL of 0 or less reads through. Bounded: past `max` entries it starts over.
 */
export function isolateCache<V>(max = 1000) {
  const entries = new Map<string, { expires: number; value: V }>();
  return {
    async get(key: string, ttlSeconds: number, load: () => Promise<V>): Promise<V> {
      if (ttlSeconds <= 0) return load();
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && hit.expires > now) return hit.value;
      const value = await load();
      if (entries.size >= max) entries.clear();
      entries.set(key, { expires: now + ttlSeconds * 1000, value });
      return value;
    },
    invalidate(key?: string): void {
      if (key === undefined) entries.clear();
      else entries.delete(key);
    },
  };
}
