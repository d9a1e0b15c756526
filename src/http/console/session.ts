import { timingSafeEqual } from "../../crypto/compare";
import { fromHex, toHex, utf8 } from "../../crypto/encoding";
import { hmacSha256 } from "../../crypto/hmac";

// Console sessions are stateless: the cookie is `<expiry>.<hex HMAC(ADMIN_TOKEN, "console:" + expiry)>`,
// so changing ADMIN_TOKEN logs everyone out. The CSRF token is an HMAC of the session cookie itself
// (double-submit bound to the session), checked on every POST together with the Origin header.

export const SESSION_COOKIE = "cg_console";
const SESSION_SECONDS = 8 * 3600;

export async function newSession(adminToken: string, now = Date.now()): Promise<{ value: string; maxAge: number }> {
  const expiry = Math.floor(now / 1000) + SESSION_SECONDS;
  return { value: `${expiry}.${toHex(await hmacSha256(adminToken, utf8(`console:${expiry}`)))}`, maxAge: SESSION_SECONDS };
}

export async function validSession(adminToken: string | undefined, cookie: string | undefined, now = Date.now()): Promise<boolean> {
  if (!adminToken || !cookie) return false;
  const [expiry, mac] = cookie.split(".");
  if (!expiry || !mac || !/^\d+$/.test(expiry) || Number(expiry) < now / 1000) return false;
  const given = fromHex(mac);
  return !!given && timingSafeEqual(given, await hmacSha256(adminToken, utf8(`console:${expiry}`)));
}

export async function csrfToken(adminToken: string, session: string): Promise<string> {
  return toHex(await hmacSha256(adminToken, utf8(`csrf:${session}`)));
}

export async function validCsrf(adminToken: string, session: string, token: string | undefined): Promise<boolean> {
  const given = token ? fromHex(token) : null;
  return !!given && timingSafeEqual(given, await hmacSha256(adminToken, utf8(`csrf:${session}`)));
}
