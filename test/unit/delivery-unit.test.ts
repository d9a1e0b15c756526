import { describe, expect, it } from "vitest";
import { wantsEvent } from "../../src/delivery/filters";
import { maxAttempts, parseSchedule, retryAfterSeconds, retryDelay } from "../../src/delivery/schedule";
import { readLimited } from "../../src/delivery/response-body";
import { subscriberUrlProblem } from "../../src/delivery/url-policy";

describe("retry schedule", () => {
  it("defaults to Svix's gaps: 8 attempts over about 27 h", () => {
    const s = parseSchedule(undefined);
    expect(s).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(maxAttempts(s)).toBe(8);
    expect(s.reduce((a, b) => a + b, 0) / 3600).toBeCloseTo(27.6, 1);
    expect(parseSchedule("1,2,x")).toEqual(s);
    expect(parseSchedule("10,20")).toEqual([10, 20]);
  });
  it("jitters ±20 % and clamps to the queue's 12 h", () => {
    const s = [100, 50_000];
    expect(retryDelay(s, 1, () => 0)).toBe(80);
    expect(retryDelay(s, 1, () => 1)).toBe(120);
    expect(retryDelay(s, 2, () => 0.5)).toBe(43_200);
    expect(retryDelay([0], 1, () => 0)).toBe(1);
  });
  it("reads Retry-After as seconds or an HTTP date, clamped", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds("0", now)).toBe(1);
    expect(retryAfterSeconds("999999", now)).toBe(43_200);
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});

describe("event filters", () => {
  it("exact, REMIT_ALL and *", () => {
    expect(wantsEvent(["CLAIMS_REMIT_ALL"], "CLAIMS_REMIT_DENIED")).toBe(true);
    expect(wantsEvent(["CLAIMS_REMIT_ALL"], "CLAIMS_AI_OPTIMIZER")).toBe(false);
    expect(wantsEvent(["CLAIMS_REMIT_APPROVED"], "CLAIMS_REMIT_DENIED")).toBe(false);
    expect(wantsEvent(["*"], "cms1500.created")).toBe(true);
  });
});

describe("subscriber URL policy", () => {
  it("production: https to public hosts only", () => {
    expect(subscriberUrlProblem("https://hooks.example.com/x", false)).toBeNull();
    expect(subscriberUrlProblem("http://hooks.example.com/x", false)).toBe("must use https");
    expect(subscriberUrlProblem("http://127.0.0.1:3000/x", false)).toBe("must use https");
    for (const host of ["10.0.0.1", "192.168.1.5", "172.16.0.1", "169.254.169.254", "127.0.0.1", "[::1]", "[fd00::1]", "localhost"]) {
      expect(subscriberUrlProblem(`https://${host}/x`, false), host).toMatch(/private/);
    }
    expect(subscriberUrlProblem("https://a:b@example.com", false)).toBe("must not contain credentials");
  });

  // Production: every one of these names this network or a special-use range, however it is spelt.
  const blocked = [
    "localhost", "localhost.", "LOCALHOST", "foo.localhost", "metadata", "metadata.google.internal", "metadata.google.internal.",
    "instance-data.ec2.internal", "printer.local", "router.home.arpa", "intranet",
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0.0.0.0", "10.1.2.3", "100.64.0.1", "169.254.169.254",
    "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "255.255.255.255",
    "[::1]", "[::]", "[::127.0.0.1]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::ffff:7f00:1]", "[fe80::1]", "[fe90::1]", "[febf::1]", "[fec0::1]",
    "[fc00::1]", "[fd12:3456::1]", "[ff02::1]", "[64:ff9b::7f00:1]", "[64:ff9b::10.0.0.1]", "[64:ff9b:1::1]", "[2002:7f00:1::]", "[2002:c0a8:101::1]",
    "[2001:db8::1]", "[2001::1]", "[100::1]",
    "127.0.0.1.nip.io", "10-0-0-1.sslip.io", "app.192.168.1.1.nip.io", "7f000001.nip.io", "nip.io", "localtest.me", "api.lvh.me",
  ];
  const allowed = ["hooks.example.com", "api.partner.io", "8.8.8.8", "1.1.1.1", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]", "8-8-8-8.nip.io", "a.b.c.d.hooks.net"];
  it(`production: refuses ${blocked.length} special-use hosts, allows public ones`, () => {
    expect(blocked.length).toBeGreaterThanOrEqual(40);
    for (const host of blocked) expect(subscriberUrlProblem(`https://${host}/hook`, false), host).toMatch(/private|special-use|absolute/);
    for (const host of allowed) expect(subscriberUrlProblem(`https://${host}/hook`, false), host).toBeNull();
  });
  it("development: http only to localhost", () => {
    expect(subscriberUrlProblem("http://127.0.0.1:3000/x", true)).toBeNull();
    expect(subscriberUrlProblem("http://localhost:3000/x", true)).toBeNull();
    expect(subscriberUrlProblem("http://example.com/x", true)).toMatch(/localhost/);
  });
});

describe("a subscriber's answer", () => {
  it("is read up to the kept 2 KiB and the rest is cancelled, never pulled", async () => {
    let pulled = 0;
    let cancelled = false;
    const chunk = new TextEncoder().encode("é".repeat(16 * 1024)); // 32 KiB of two-byte characters
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const text = await readLimited(new Response(body), 2048);
    expect(new TextEncoder().encode(text).byteLength).toBeLessThanOrEqual(2048 + 2);
    expect(text.startsWith("ééé")).toBe(true);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(2 * chunk.byteLength); // an endless body: one chunk, maybe one ahead
    expect(await readLimited(new Response("short"), 2048)).toBe("short");
    expect(await readLimited(new Response(null, { status: 204 }), 2048)).toBe("");
  });
});
