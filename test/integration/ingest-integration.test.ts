import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { admin, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { remitBundle } from "../helpers/fixtures";
import { hmacHex, nowSeconds, standardWebhooksHeaders } from "../helpers/sign";

const API_SECRET = "cair-api-secret-1";
const HMAC_SECRET = "cair-hmac-secret-1";
const SW_SECRET = "whsec_" + btoa("standard-webhooks-secret-32bytes");

beforeAll(async () => {
  await createSource({
    id: "cair-remit",
    kind: "cair.claim_response",
    verification: { scheme: "api_secret", header: "X-API-KEY" },
    secrets: [API_SECRET],
  });
  await createSource({
    id: "cair-remit-hmac",
    kind: "cair.claim_response",
    verification: { scheme: "hmac_sha256", header: "X-Signature", encoding: "hex", prefix: "sha256=", timestampHeader: "X-Timestamp" },
    secrets: [HMAC_SECRET],
  });
  await createSource({
    id: "cair-remit-sw",
    kind: "cair.claim_response",
    verification: { scheme: "standard_webhooks" },
    secrets: [SW_SECRET],
  });
});

const post = (body: string, headers: Record<string, string> = { "X-API-KEY": API_SECRET }) =>
  postWebhook("cair-remit", body, headers);

async function hmacHeaders(body: string, t = nowSeconds(), secret = HMAC_SECRET) {
  return { "X-Signature": `sha256=${await hmacHex(secret, `${t}.${body}`)}`, "X-Timestamp": String(t) };
}

/** Runs `fn` and asserts that it stored nothing and changed nothing already stored. */
async function storesNothing(fn: () => Promise<void>) {
  const before = await rows("SELECT * FROM events ORDER BY id");
  await fn();
  expect(await rows("SELECT * FROM events ORDER BY id")).toEqual(before);
}

/**
 * Runs `fn` (verified requests with bad bodies) and asserts that all it stored is `invalid` events (nothing
 * verified is lost), none of them queued, and nothing already stored changed.
 */
async function keepsOnlyInvalid(fn: () => Promise<void>) {
  const before = await rows<any>("SELECT * FROM events ORDER BY id");
  await fn();
  const after = await rows<any>("SELECT * FROM events ORDER BY id");
  const added = after.filter((a) => !before.some((b) => b.id === a.id));
  expect(after.filter((a) => before.some((b) => b.id === a.id))).toEqual(before);
  expect(added.length).toBeGreaterThan(0);
  for (const e of added) expect({ status: e.status, enqueued: e.enqueued_at }).toEqual({ status: "invalid", enqueued: null });
}

describe("POST /webhooks/:sourceId — the seed ClaimResponse bundle", () => {
  it("is accepted with 202, stored once, and projected by the events consumer", async () => {
    const body = JSON.stringify(remitBundle());
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ received: true, eventId: expect.stringMatching(/^evt_/), duplicate: false });

    const [event] = await rows<any>("SELECT * FROM events WHERE id = ?", res.body.eventId);
    expect(event).toMatchObject({ source_id: "cair-remit", kind: "cair.claim_response", body });
    expect(event.dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the secret header is never stored
    expect(JSON.parse(event.headers)).not.toHaveProperty("x-api-key");
    expect(event.headers).not.toContain(API_SECRET);

    const processed = await eventually(async () => {
      const [e] = await rows<any>("SELECT * FROM events WHERE id = ? AND status = 'processed'", res.body.eventId);
      return e;
    });
    expect(processed.event_type).toBe("CLAIMS_REMIT_APPROVED");
    expect(processed.enqueued_at).not.toBeNull();

    const [cr] = await rows<any>("SELECT * FROM claim_responses WHERE id = ?", "01057264-665b-49e4-9cdc-014a88c18f20");
    expect(cr).toMatchObject({
      event_id: res.body.eventId,
      claim_reference: "Claim/44f484fc-7946-44e2-bfad-bad583c479f5",
      outcome: "complete",
      disposition: "approved",
      submitted_cents: 19044,
      benefit_cents: 17844,
      payment_cents: 17844,
      patient_responsibility_cents: 0,
    });
  });

  it("answers a redelivery with 200 duplicate, stores it once and enqueues it once", async () => {
    const body = JSON.stringify(remitBundle((cr) => (cr.id = "dup-cr-1")));
    const first = await post(body);
    const second = await post(body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ received: true, eventId: first.body.eventId, duplicate: true });
    expect(await count("events", "body = ?", body)).toBe(1);
    await eventually(async () => (await count("events", "id = ? AND status = 'processed'", first.body.eventId)) === 1);
    // give a second (wrongly enqueued) message the time to arrive, then count consumer runs
    await new Promise((r) => setTimeout(r, 1500));
    const [event] = await rows<any>("SELECT attempts FROM events WHERE id = ?", first.body.eventId);
    expect(event.attempts).toBe(1);
  });

  it("dedups on the Standard Webhooks webhook-id, whatever the body", async () => {
    const id = `msg_${crypto.randomUUID()}`;
    const a = JSON.stringify(remitBundle((cr) => (cr.id = "sw-cr-1")));
    const b = JSON.stringify(remitBundle((cr) => (cr.id = "sw-cr-2")));
    const first = await postWebhook("cair-remit-sw", a, await standardWebhooksHeaders(SW_SECRET, a, id));
    const again = await postWebhook("cair-remit-sw", b, await standardWebhooksHeaders(SW_SECRET, b, id));
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const [event] = await rows<any>("SELECT dedup_key FROM events WHERE id = ?", first.body.eventId);
    expect(event.dedup_key).toBe(`id:${id}`);
  });
});

describe("POST /webhooks/:sourceId — bad input is refused and nothing is stored", () => {
  const good = JSON.stringify(remitBundle((cr) => (cr.id = "bad-input-cr")));

  it("wrong secret → 401 SIGNATURE_INVALID", async () => {
    await storesNothing(async () => {
      const res = await post(good, { "X-API-KEY": "not-the-secret" });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: "SIGNATURE_INVALID", message: expect.any(String) });
    });
  });

  it("wrong HMAC, stale and future timestamps → 401", async () => {
    await storesNothing(async () => {
      const wrong = await postWebhook("cair-remit-hmac", good, await hmacHeaders(good, nowSeconds(), "other-secret"));
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe("SIGNATURE_INVALID");
      const stale = await postWebhook("cair-remit-hmac", good, await hmacHeaders(good, nowSeconds() - 301));
      expect(stale.status).toBe(401);
      expect(stale.body.error.code).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
      const future = await postWebhook("cair-remit-hmac", good, await hmacHeaders(good, nowSeconds() + 400));
      expect(future.body.error.code).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    });
    const ok = await postWebhook("cair-remit-hmac", good, await hmacHeaders(good));
    expect(ok.status).toBe(202);
  });

  it("malformed JSON → 400 MALFORMED_JSON (also for non-UTF-8 bytes)", async () => {
    await keepsOnlyInvalid(async () => {
      const res = await post('{"resourceType": "Bundle",');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("MALFORMED_JSON");
      const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
      const bin = await postWebhook("cair-remit", bytes as unknown as string, { "X-API-KEY": API_SECRET });
      expect(bin.status).toBe(400);
      expect(bin.body.error.code).toBe("MALFORMED_JSON");
    });
  });

  it("missing field → 422 PAYLOAD_INVALID naming the field", async () => {
    await keepsOnlyInvalid(async () => {
      const res = await post(JSON.stringify(remitBundle((cr) => delete cr.outcome)));
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("PAYLOAD_INVALID");
      expect(res.body.error.details).toContainEqual({ path: "entry[0].resource.outcome", message: expect.any(String) });
      expect(res.body.error.message).toContain("entry[0].resource.outcome");
    });
  });

  it("wrong type and wrong enum → 422 with the paths", async () => {
    await keepsOnlyInvalid(async () => {
      const res = await post(
        JSON.stringify(
          remitBundle((cr) => {
            cr.item[0].adjudication[0].amount.value = "190.44";
            cr.outcome = "done";
          }),
        ),
      );
      expect(res.status).toBe(422);
      const paths = res.body.error.details.map((d: any) => d.path);
      expect(paths).toContain("entry[0].resource.item[0].adjudication[0].amount.value");
      expect(paths).toContain("entry[0].resource.outcome");
      const noCr = await post(JSON.stringify({ resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "Patient", id: "p1" } }] }));
      expect(noCr.status).toBe(422);
      expect(noCr.body.error.details[0].path).toBe("entry");
    });
  });

  it("oversized body → 413, by Content-Length and by a streamed body", async () => {
    await storesNothing(async () => {
      const big = JSON.stringify({ pad: "x".repeat(1024 * 1024) });
      const res = await post(big);
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");

      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > 2 * 1024 * 1024) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const streamed = await worker.fetch(
        new Request("https://claimgate.test/webhooks/cair-remit", {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-KEY": API_SECRET },
          body: stream,
          duplex: "half",
        } as RequestInit),
        env,
        createExecutionContext(),
      );
      expect(streamed.status).toBe(413);
      expect(((await streamed.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");
      // reading stopped soon after the limit instead of draining the whole stream
      expect(sent).toBeLessThan(2 * 1024 * 1024);
    });
  });

  it("unknown or disabled source → 404 SOURCE_NOT_FOUND", async () => {
    await storesNothing(async () => {
      const res = await postWebhook("nope", good, { "X-API-KEY": API_SECRET });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("SOURCE_NOT_FOUND");
      await createSource({ id: "disabled-src", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [API_SECRET] });
      expect((await admin("PATCH", "/admin/sources/disabled-src", { enabled: false })).status).toBe(200);
      const off = await postWebhook("disabled-src", good, { "x-api-key": API_SECRET });
      expect(off.status).toBe(404);
      expect(off.body.error.code).toBe("SOURCE_NOT_FOUND");
    });
  });

  it("non-JSON content type → 415", async () => {
    await storesNothing(async () => {
      const res = await post(good, { "X-API-KEY": API_SECRET, "content-type": "text/plain" });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    });
  });
});

describe("secret rotation", () => {
  it("accepts old and new secrets while both are active and rejects a removed one", async () => {
    await createSource({ id: "rotating", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["old-secret-aaa"] });
    const added = await admin("POST", "/admin/sources/rotating/secrets", { secret: "new-secret-bbb" });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ sourceId: "rotating", n: 2 });

    const body = (id: string) => JSON.stringify(remitBundle((cr) => (cr.id = id)));
    expect((await postWebhook("rotating", body("rot-1"), { "x-api-key": "old-secret-aaa" })).status).toBe(202);
    expect((await postWebhook("rotating", body("rot-2"), { "x-api-key": "new-secret-bbb" })).status).toBe(202);

    expect((await admin("DELETE", "/admin/sources/rotating/secrets/1")).status).toBe(204);
    const rejected = await postWebhook("rotating", body("rot-3"), { "x-api-key": "old-secret-aaa" });
    expect(rejected.status).toBe(401);
    expect((await postWebhook("rotating", body("rot-4"), { "x-api-key": "new-secret-bbb" })).status).toBe(202);
  });
});

describe("storage and queue failures", () => {
  it("a failed enqueue leaves the event pending; the cron sweep enqueues it exactly once", async () => {
    const brokenQueue = {
      send: async () => {
        throw new Error("queue unavailable");
      },
      sendBatch: async () => {
        throw new Error("queue unavailable");
      },
    };
    const body = JSON.stringify(remitBundle((cr) => (cr.id = "sweep-cr-1")));
    const res = await worker.fetch(
      new Request("https://claimgate.test/webhooks/cair-remit", {
        method: "POST",
        headers: { "content-type": "application/json", "X-API-KEY": API_SECRET },
        body,
      }),
      { ...env, EVENTS_QUEUE: brokenQueue as unknown as Queue },
      createExecutionContext(),
    );
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as any;
    const [pending] = await rows<any>("SELECT status, enqueued_at FROM events WHERE id = ?", eventId);
    expect(pending).toEqual({ status: "pending", enqueued_at: null });

    // too young for the sweep
    const ctx1 = createExecutionContext();
    await worker.scheduled(createScheduledController(), env, ctx1);
    await waitOnExecutionContext(ctx1);
    expect((await rows<any>("SELECT enqueued_at FROM events WHERE id = ?", eventId))[0].enqueued_at).toBeNull();

    // a sweep whose queue still fails releases the claim for the next one
    await env.DB.prepare("UPDATE events SET received_at = ? WHERE id = ?").bind(new Date(Date.now() - 120_000).toISOString(), eventId).run();
    const ctx2 = createExecutionContext();
    await worker.scheduled(createScheduledController(), { ...env, EVENTS_QUEUE: brokenQueue as unknown as Queue }, ctx2);
    await waitOnExecutionContext(ctx2);
    expect((await rows<any>("SELECT enqueued_at FROM events WHERE id = ?", eventId))[0].enqueued_at).toBeNull();

    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController(), env, ctx);
      await waitOnExecutionContext(ctx);
    }
    await eventually(async () => (await count("events", "id = ? AND status = 'processed'", eventId)) === 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await rows<any>("SELECT attempts FROM events WHERE id = ?", eventId))[0].attempts).toBe(1);
    expect(await count("claim_responses", "id = 'sweep-cr-1'")).toBe(1);
  });

  it("D1 failing → 503 with Retry-After and nothing stored", async () => {
    const failingDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare" || prop === "batch" || prop === "exec") {
          return () => {
            throw new Error("D1_ERROR: storage unavailable");
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const body = JSON.stringify(remitBundle((cr) => (cr.id = "d1-down-cr")));
    await storesNothing(async () => {
      const res = await worker.fetch(
        new Request("https://claimgate.test/webhooks/cair-remit", {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-KEY": API_SECRET },
          body,
        }),
        { ...env, DB: failingDb },
        createExecutionContext(),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as any).error.code).toBe("STORAGE_UNAVAILABLE");
    });
    // the partner's retry then succeeds, once
    expect((await post(body)).status).toBe(202);
    expect((await post(body)).status).toBe(200);
  });
});

describe("concurrent deliveries share storage round trips", () => {
  it("40 concurrent POSTs (10 events, 4 copies each) → 10 stored, 10 enqueued, each copy told the same event id", async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify(remitBundle((cr) => (cr.id = `burst-cr-${i}`))));
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(bodies[i % 10]!)));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true)).toHaveLength(30);
    for (let e = 0; e < 10; e++) {
      const ids = new Set(answers.filter((_, i) => i % 10 === e).map((a) => a.body.eventId));
      expect(ids.size).toBe(1);
    }
    const ids = [...new Set(answers.map((a) => a.body.eventId))];
    expect(ids).toHaveLength(10);
    const placeholders = ids.map(() => "?").join(",");
    await eventually(async () => (await count("events", `id IN (${placeholders}) AND status = 'processed'`, ...ids)) === 10);
    const stored = await rows<any>(`SELECT attempts, enqueued_at FROM events WHERE id IN (${placeholders})`, ...ids);
    expect(stored.every((e) => e.attempts === 1 && e.enqueued_at !== null)).toBe(true);
    expect(await count("claim_responses", "id LIKE 'burst-cr-%'")).toBe(10);
  });

  it("30 distinct concurrent POSTs, more than one multi-row insert holds → 30 stored, each once", async () => {
    const bodies = Array.from({ length: 30 }, (_, i) => JSON.stringify(remitBundle((cr) => (cr.id = `wide-cr-${i}`))));
    const answers = await Promise.all(bodies.map((b) => post(b)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const ids = answers.map((a) => a.body.eventId);
    expect(new Set(ids).size).toBe(30);
    const placeholders = ids.map(() => "?").join(",");
    expect(await count("events", `id IN (${placeholders})`, ...ids)).toBe(30);
    // the enqueued_at marks are written by the leader once no batch is waiting
    await eventually(async () => (await count("events", `id IN (${placeholders}) AND enqueued_at IS NOT NULL`, ...ids)) === 30);
    await eventually(async () => (await count("claim_responses", "id LIKE 'wide-cr-%'")) === 30);
  });
});
