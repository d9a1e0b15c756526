/**
 * Subscriber URLs: https only in production (http to 127.0.0.1 / localhost / [::1] when ENVIRONMENT is
 * development), never credentials in the URL, and in production never a host that names this network
 * rather than the internet: special-use IPv4 and IPv6 ranges (RFC 6890 registries), including IPv4
 * carried inside IPv6 (mapped, compatible, NAT64, 6to4), local names (localhost, .local, .internal,
 * .home.arpa, single labels, cloud metadata names), and wildcard-DNS names that embed such an address
 * (127.0.0.1.nip.io, 10-0-0-1.sslip.io, 7f000001.nip.io, localtest.me). Hosts are normalised first: the
 * URL parser's own IPv4/IPv6 canonical forms, lower case, no trailing dot. Returns the reason a URL is
 * refused, or null. (A public name that later resolves to a private address is DNS rebinding, which a
 * static check cannot see; the fetch runs on Cloudflare's network, outside any private network.)
 */
export function subscriberUrlProblem(raw: string, development: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  const host = normalHost(url.hostname);
  const local = host === "localhost" || host === "127.0.0.1" || host === "::1";
  if (url.protocol === "http:") {
    if (!(development && local)) return development ? "http is allowed only for localhost / 127.0.0.1" : "must use https";
  } else if (url.protocol !== "https:") {
    return "must use https";
  }
  if (!development && isNonPublicHost(host)) return "must not point at a private, loopback, link-local or other special-use address or name";
  return null;
}

/** Lower case, without IPv6 brackets and trailing dots (`localhost.` is `localhost`). */
export function normalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.+$/, "");
}

/** Whether a (normalised) host is anything but a public internet name or address. */
export function isNonPublicHost(host: string): boolean {
  if (host === "") return true;
  const v4 = parseIPv4(host);
  if (v4) return isSpecialIPv4(v4);
  if (host.includes(":")) {
    const v6 = parseIPv6(host);
    return v6 ? isSpecialIPv6(v6) : true;
  }
  return isNonPublicName(host);
}

function parseIPv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** IPv4 special-use blocks (IANA IPv4 Special-Purpose Address Registry), plus multicast and reserved. */
function isSpecialIPv4([a, b, c]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    (a === 100 && b! >= 64 && b! <= 127) || // shared address space (CGN)
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a! >= 224 // multicast, reserved, broadcast
  );
}

/** 16 bytes of an IPv6 address (with an embedded dotted IPv4 tail), or null. */
function parseIPv6(host: string): number[] | null {
  let text = host.split("%")[0]!;
  const tail = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  let tailBytes: number[] = [];
  if (tail) {
    const v4 = parseIPv4(tail[1]!);
    if (!v4) return null;
    tailBytes = v4;
    text = text.slice(0, -tail[1]!.length) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 0) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const bytes: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail) bytes.splice(12, 4, ...tailBytes);
  return bytes;
}

function isSpecialIPv6(b: number[]): boolean {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const embedded = (at: number) => b.slice(at, at + 4);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return true; // ::ffff:0:0/96 mapped (never needed for a public host)
  if (zero(0, 12)) return true; // ::, ::1 and the deprecated IPv4-compatible ::/96
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    // 64:ff9b::/96 well-known NAT64 (and 64:ff9b:1::/48 local-use): private IPv4 behind it is private
    return b[4] === 0 && b[5] === 1 ? true : isSpecialIPv4(embedded(12));
  }
  if (b[0] === 0x01 && b[1] === 0x00 && zero(2, 8)) return true; // 100::/64 discard-only
  if (b[0] === 0x20 && b[1] === 0x01 && b[2]! < 0x02) return true; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, …)
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return true; // 2001:db8::/32 documentation
  if (b[0] === 0x20 && b[1] === 0x02) return isSpecialIPv4(embedded(2)); // 2002::/16 6to4
  if (b[0] === 0x3f && b[1] === 0xff && b[2]! < 0x10) return true; // 3fff::/20 documentation
  if ((b[0]! & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true; // fe80::/10 link-local (fe80–febf)
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return true; // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return true; // multicast
  return false;
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain", ".lan", ".intranet", ".corp", ".test", ".invalid", ".example"];
/** Names that resolve to loopback by design. */
const LOOPBACK_DOMAINS = ["localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "fbi.com"];
/** Wildcard DNS services: the address is spelt in the name. */
const WILDCARD_DNS = ["nip.io", "sslip.io", "xip.io", "traefik.me", "local.gd"];

function isNonPublicName(host: string): boolean {
  if (!host.includes(".")) return true; // single label: localhost, metadata, an intranet name
  if (LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return true;
  const under = (domains: string[]) => domains.find((d) => host === d || host.endsWith(`.${d}`));
  if (under(LOOPBACK_DOMAINS)) return true;
  const wildcard = under(WILDCARD_DNS);
  if (wildcard) {
    const name = host.slice(0, -wildcard.length - 1);
    // dotted (10.0.0.1), dashed (10-0-0-1) or hex (0a000001) IPv4 anywhere in the name
    const dotted = /(?:^|[.-])(\d{1,3}[.-]\d{1,3}[.-]\d{1,3}[.-]\d{1,3})$/.exec(name);
    if (dotted) {
      const v4 = parseIPv4(dotted[1]!.replace(/-/g, "."));
      if (!v4 || isSpecialIPv4(v4)) return true;
    }
    const hex = /(?:^|[.-])([0-9a-f]{8})$/.exec(name);
    if (hex) {
      const n = parseInt(hex[1]!, 16);
      if (isSpecialIPv4([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])) return true;
    }
    if (!dotted && !hex) return true; // the bare service name, or a form we cannot read
  }
  return false;
}
