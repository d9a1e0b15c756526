/**
 * Subscriber URLs: https only in production (http to 127.0.0.1 / localhost when ENVIRONMENT is
 * development), never credentials in the URL, and in production never a private, loopback or
 * link-local address literal. Returns the reason a URL is refused, or null.
 */
export function subscriberUrlProblem(raw: string, development: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const local = host === "localhost" || host === "127.0.0.1" || host === "::1";
  if (url.protocol === "http:") {
    if (!(development && local)) return development ? "http is allowed only for localhost / 127.0.0.1" : "must use https";
  } else if (url.protocol !== "https:") {
    return "must use https";
  }
  if (!development && (local || isPrivateAddress(host))) return "must not point at a private, loopback or link-local address";
  return null;
}

function isPrivateAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (host.includes(":")) return host === "::" || host.startsWith("fc") || host.startsWith("fd") || host.startsWith("fe80") || host.startsWith("::ffff:");
  return host.endsWith(".localhost") || host.endsWith(".internal") || host.endsWith(".local");
}
