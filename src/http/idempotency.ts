import { and, eq, isNull, lt } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../crypto/hmac";
import { database, nowIso, type Db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { readBodyCapped } from "../ingest/read-body";
import { log } from "../log";
import type { AppContext } from "../env";

/** How long a reservation left by a request that never finished (a crash) holds its key. */
export const RESERVATION_TTL_SECONDS = 60;
const MAX_KEY_LENGTH = 255;

export interface IdempotencyOptions<C extends AppContext> {
  /** Whose keys these are (one namespace per caller); null skips idempotency (e.g. no credentials). */
  scope(c: import("hono").Context<C>): string | null;
  /** The route's own error shape. */
  error(status: number, code: string, message: string, suggestions: string[]): Response;
}

type Reservation = { kind: "new" } | { kind: "replay"; status: number; body: string } | { kind: "reused" } | { kind: "in_progress" };

/**
 * `Idempotency-Key` as middleware (HCMS contract): the key is kept whole (up to 255 characters) in the
 * caller's own namespace; a repeat with the same body gets the first 2xx answer again
 * (`Idempotent-Replayed: true`); with another body it is 422 IDEMPOTENCY_KEY_REUSED; while the first is
 * still running, 409 IDEMPOTENCY_KEY_IN_USE. Only 2xx answers are kept: after an error the key is free
 * for a corrected retry. A reservation whose request died is taken over after 60 s.
 */
export function idempotent<C extends AppContext>(opts: IdempotencyOptions<C>) {
  return createMiddleware<C>(async (c, next) => {
    const key = c.req.header("idempotency-key");
    const scope = key ? opts.scope(c) : null;
    if (!key || scope === null) return next();
    if (key.length > MAX_KEY_LENGTH) {
      return opts.error(400, "VALIDATION_ERROR", `Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters`, ["Send a shorter key, such as a UUID"]);
    }
    let hash: string;
    try {
      hash = await sha256Hex(await readBodyCapped(c.req.raw.clone()));
    } catch {
      return next(); // an unreadable or oversized body: the route answers it, and nothing is kept
    }
    const db = database(c.env.DB);
    const id = `${scope}:${key}`;
    const found = await reserve(db, id, hash);
    if (found.kind === "replay") return new Response(found.body, { status: found.status, headers: { "content-type": "application/json", "idempotent-replayed": "true" } });
    if (found.kind === "reused") {
      return opts.error(422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for a different request body", ["Use a new key for a new request"]);
    }
    if (found.kind === "in_progress") return opts.error(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed", ["Retry in a moment"]);

    try {
      await next();
    } catch (e) {
      await release(db, id);
      throw e;
    }
    if (c.res.status >= 200 && c.res.status < 300) {
      await db.update(idempotencyKeys).set({ status: c.res.status, response: await c.res.clone().text() }).where(eq(idempotencyKeys.key, id));
    } else {
      await release(db, id);
    }
  });
}

async function reserve(db: Db, id: string, hash: string): Promise<Reservation> {
  const now = nowIso();
  const inserted = await db.insert(idempotencyKeys).values({ key: id, requestHash: hash, createdAt: now }).onConflictDoNothing().returning({ key: idempotencyKeys.key });
  if (inserted.length === 1) return { kind: "new" };
  const [row] = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, id));
  if (!row) return reserve(db, id, hash); // released meanwhile
  if (row.requestHash && row.requestHash !== hash) return { kind: "reused" };
  if (row.status && row.response) return { kind: "replay", status: row.status, body: row.response };
  // A reservation older than the TTL belongs to a request that died: take it over (compare-and-set).
  const stale = new Date(Date.now() - RESERVATION_TTL_SECONDS * 1000).toISOString();
  const taken = await db
    .update(idempotencyKeys)
    .set({ createdAt: now, requestHash: hash })
    .where(and(eq(idempotencyKeys.key, id), isNull(idempotencyKeys.response), lt(idempotencyKeys.createdAt, stale), eq(idempotencyKeys.createdAt, row.createdAt)))
    .returning({ key: idempotencyKeys.key });
  if (taken.length === 1) {
    log.warn("idempotency.reservation_taken_over", { since: row.createdAt });
    return { kind: "new" };
  }
  return { kind: "in_progress" };
}

const release = (db: Db, id: string) =>
  db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.key, id), isNull(idempotencyKeys.response)))
    .catch(() => {});
