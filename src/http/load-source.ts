import { database } from "../db/client";
import type { Env } from "../env";
import { ApiError, storageUnavailable } from "../errors";
import { errorText, log } from "../log";
import type { ResolvedSource } from "../sources/repository";
import { cachedSource } from "../sources/cache";

/** The enabled source with this id, or 404 SOURCE_NOT_FOUND; 503 when storage cannot be read. */
export async function loadEnabledSource(env: Env, sourceId: string): Promise<ResolvedSource> {
  let source: ResolvedSource | null;
  try {
    const ttl = Number(env.SOURCE_CACHE_TTL_SECONDS ?? "30") || 30;
    source = await cachedSource(database(env.DB), env.SECRETS_KEY, sourceId, ttl);
  } catch (e) {
    log.error("source.lookup_failed", { sourceId, error: errorText(e) });
    throw storageUnavailable();
  }
  if (!source || !source.enabled) {
    throw new ApiError(404, "SOURCE_NOT_FOUND", `No enabled source with id "${sourceId}".`);
  }
  return source;
}

