import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { timingSafeEqual } from "../../crypto/compare";
import { fromHex, toHex, utf8 } from "../../crypto/encoding";
import { hmacSha256, sha256Hex } from "../../crypto/hmac";
import { nowIso, type Db } from "../../db/client";
import { consoleSessions, loginFailures, operators } from "../../db/schema";
import { BOOTSTRAP_ADMIN, type Operator } from "../../operators/identity";

// Console sessions live server-side (D1): the cookie holds a random value, D1 its SHA-256 with the
// operator and expiry, so logging out, or revoking the operator, ends the session at once. The CSRF token
// is an HMAC of the session value under a server key (double-submit bound to the session), checked on
// every POST together with the Origin header.

export const SESSION_COOKIE = "cg_console";
export const SESSION_SECONDS = 8 * 3600;

export async function newSession(db: Db, operator: Operator): Promise<{ value: string; maxAge: number }> {
  const value = toHex(crypto.getRandomValues(new Uint8Array(32)));
  await db.insert(consoleSessions).values({
    idHash: await sha256Hex(utf8(value)),
    operatorId: operator.id,
    expiresAt: new Date(Date.now() + SESSION_SECONDS * 1000).toISOString(),
    createdAt: nowIso(),
  });
  return { value, maxAge: SESSION_SECONDS };
}

/** The operator a live session belongs to, or null (unknown, expired, logged out, operator revoked). */
export async function sessionOperator(db: Db, value: string | undefined): Promise<Operator | null> {
  if (!value || !/^[0-9a-f]{64}$/.test(value)) return null;
  const [row] = await db
    .select({ operatorId: consoleSessions.operatorId, name: operators.name, role: operators.role, revokedAt: operators.revokedAt })
    .from(consoleSessions)
    .leftJoin(operators, eq(operators.id, consoleSessions.operatorId))
    .where(and(eq(consoleSessions.idHash, await sha256Hex(utf8(value))), isNull(consoleSessions.revokedAt), gt(consoleSessions.expiresAt, nowIso())));
  if (!row) return null;
  if (row.operatorId === BOOTSTRAP_ADMIN.id) return BOOTSTRAP_ADMIN;
  return row.role && !row.revokedAt ? { id: row.operatorId, name: row.name!, role: row.role } : null;
}

export async function endSession(db: Db, value: string | undefined): Promise<void> {
  if (!value) return;
  await db.update(consoleSessions).set({ revokedAt: nowIso() }).where(eq(consoleSessions.idHash, await sha256Hex(utf8(value))));
}

export async function csrfToken(key: string, session: string): Promise<string> {
  return toHex(await hmacSha256(key, utf8(`csrf:${session}`)));
}

export async function validCsrf(key: string, session: string, token: string | undefined): Promise<boolean> {
  const given = token ? fromHex(token) : null;
  return !!given && timingSafeEqual(given, await hmacSha256(key, utf8(`csrf:${session}`)));
}

/** Failed logins allowed per client address in a window before it is refused (429) until the window ends. */
export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_WINDOW_SECONDS = 15 * 60;

const windowStart = () => new Date(Date.now() - LOGIN_WINDOW_SECONDS * 1000).toISOString();

export async function loginThrottled(db: Db, client: string): Promise<boolean> {
  const [row] = await db.select().from(loginFailures).where(eq(loginFailures.client, client));
  return !!row && row.windowStart > windowStart() && row.failures >= LOGIN_FAILURES_ALLOWED;
}

export async function recordLoginFailure(db: Db, client: string): Promise<void> {
  const now = nowIso();
  await db
    .insert(loginFailures)
    .values({ client, failures: 1, windowStart: now })
    .onConflictDoUpdate({
      target: loginFailures.client,
      // a window that has run out starts again at one failure
      set: {
        failures: sql`CASE WHEN ${loginFailures.windowStart} <= ${windowStart()} THEN 1 ELSE ${loginFailures.failures} + 1 END`,
        windowStart: sql`CASE WHEN ${loginFailures.windowStart} <= ${windowStart()} THEN ${now} ELSE ${loginFailures.windowStart} END`,
      },
    });
}

export const clearLoginFailures = (db: Db, client: string) => db.delete(loginFailures).where(eq(loginFailures.client, client));
