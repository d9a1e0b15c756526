import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createSource, postWebhook } from "../helpers/api";
import { count, rows } from "../helpers/db";
import { cms1500, payorStatus, remitBundle, scrubPayload } from "../helpers/fixtures";

const SECRET = "corpus-secret";
const KINDS: Record<string, string> = {
  remit: "cair.claim_response",
  scrub: "cair.claim_scrubber",
  cms: "healthie.cms1500",
  payor: "payor.claim_status",
};
const SEEDS: Record<string, () => any> = {
  remit: () => remitBundle(),
  scrub: () => scrubPayload(),
  cms: () => cms1500(),
  payor: () => payorStatus(),
};

beforeAll(async () => {
  for (const [id, kind] of Object.entries(KINDS)) {
    await createSource({ id, kind, verification: { scheme: "api_secret" }, secrets: [SECRET] });
  }
});

const send = (source: string, body: BodyInit) => postWebhook(source, body as string, { "x-api-key": SECRET });

/** Every path to a leaf or container of a JSON value. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: any, path: (string | number)[], value: unknown) {
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
}

/** A value of another JSON type than `v`. */
const wrongType = (v: unknown) => (typeof v === "string" ? 12345 : typeof v === "number" ? "not-a-number" : typeof v === "boolean" ? "yes" : Array.isArray(v) ? { not: "an array" } : v === null ? ["x"] : "not-an-object");

describe("malformed-input corpus: every answer a 4xx, never a 500, never a partial write", () => {
  it("wrong types at every path of each seed payload", async () => {
    const before = await count("events");
    let refused = 0;
    for (const source of Object.keys(KINDS)) {
      const seed = SEEDS[source]!();
      for (const path of paths(seed)) {
        const body = SEEDS[source]!();
        setAt(body, path, wrongType(path.reduce((n: any, k) => n[k], body)));
        const res = await send(source, JSON.stringify(body));
        expect(res.status, `${source} ${path.join(".")}`).not.toBe(500);
        // loose FHIR / partner objects accept unknown shapes in fields we do not read; the rest is refused
        if (res.status === 422) refused++;
        else expect([202, 200], `${source} ${path.join(".")} → ${res.status}`).toContain(res.status);
      }
    }
    expect(refused).toBeGreaterThan(100);
    // accepted variants are stored (and deduplicated); nothing else is
    expect(await count("events")).toBeGreaterThanOrEqual(before);
    expect(await count("events", "status = 'failed'")).toBe(0);
  });

  it("truncated JSON, deep nesting, huge strings, non-UTF-8 bytes, duplicate keys, empty body", async () => {
    const before = await rows("SELECT id FROM events WHERE status != 'invalid' ORDER BY id");
    const seed = JSON.stringify(remitBundle());
    for (let cut = 1; cut < seed.length; cut += Math.ceil(seed.length / 40)) {
      const res = await send("remit", seed.slice(0, cut));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("MALFORMED_JSON");
    }
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    expect((await send("remit", deep)).status).toBe(422);
    const deepObject = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
    expect((await send("remit", deepObject)).status).toBe(422);
    const huge = JSON.stringify({ ...remitBundle(), pad: "x".repeat(900_000) });
    expect([202, 422]).toContain((await send("remit", huge)).status);
    const tooHuge = JSON.stringify({ pad: "x".repeat(1_100_000) });
    expect((await send("remit", tooHuge)).status).toBe(413);
    const bytes = new TextEncoder().encode(seed);
    bytes[10] = 0xff;
    expect((await send("remit", bytes)).body.error.code).toBe("MALFORMED_JSON");
    const dupKeys = seed.replace('"resourceType": "Bundle"', '"resourceType": "Bundle", "resourceType": "Patient"').replace('"resourceType":"Bundle"', '"resourceType":"Bundle","resourceType":"Patient"');
    expect((await send("remit", dupKeys)).status).toBe(422);
    expect((await send("remit", "")).body.error.code).toBe("MALFORMED_JSON");
    expect((await send("remit", "null")).status).toBe(422);
    // the huge-but-valid one may be stored; everything else was kept only as an invalid event
    const after = await rows("SELECT id FROM events WHERE status != 'invalid' ORDER BY id");
    expect(after.length - before.length).toBeLessThanOrEqual(1);
  });
});

describe("consumer crash mid-batch", () => {
  it("failed messages are retried; replays change nothing; no duplicate rows or events", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send("remit", JSON.stringify(remitBundle((cr) => (cr.id = `crash-${i}`))));
      ids.push(res.body.eventId);
    }
    // a batch whose D1 fails after a few statements: some messages fail mid-projection
    let calls = 0;
    const flaky = new Proxy(env.DB, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "prepare" || prop === "batch") {
          return (...args: unknown[]) => {
            if (++calls > 12) throw new Error("D1_ERROR: connection reset");
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const messages = ids.map((eventId, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body: { eventId } }));
    const batch = createMessageBatch("claimgate-events", messages);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: flaky }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.length).toBeGreaterThan(0);

    // redelivery of the whole batch with a healthy D1 (and the background consumer may have run too)
    const again = createMessageBatch("claimgate-events", messages.map((m) => ({ ...m, attempts: 2 })));
    const ctx2 = createExecutionContext();
    await worker.queue(again, env, ctx2);
    expect((await getQueueResult(again, ctx2)).retryMessages).toEqual([]);
    for (const id of ids) {
      expect(await count("events", "id = ? AND status = 'processed'", id)).toBe(1);
      expect(await count("domain_events", "source_event_id = ?", id)).toBe(1);
    }
    expect(await count("claim_responses", "id LIKE 'crash-%'")).toBe(3);
    expect(await count("claim_status_history", "event_id IN (?, ?, ?)", ...ids)).toBe(3);
  });
});
