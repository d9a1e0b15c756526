import { env } from "cloudflare:workers";
import { sealSecret } from "../../src/crypto/secret-box";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { attemptDelivery } from "../../src/delivery/consumer";
import { fanOut } from "../../src/delivery/fan-out";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { remitFor } from "../helpers/fixtures";

const SECRET = "delivery-test-secret";

beforeAll(async () => {
  await createSource({ id: "remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
});

let n = 0;
const unique = (p: string) => `${p}-${++n}-${crypto.randomUUID().slice(0, 8)}`;
const receiverUrl = (key: string, mode = "ok") => `https://receiver.test/${key}/${mode}`;
const received = async (key: string): Promise<any[]> => (await fetch(`https://receiver.test/__log/${key}`)).json();

async function subscribe(body: Record<string, unknown>) {
  const res = await admin("POST", "/admin/subscriptions", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function remit(opts: { decision?: "approved" | "denied"; claimId?: string; crId?: string } = {}) {
  const body = JSON.stringify(remitFor({ crId: opts.crId ?? unique("cr"), claimId: opts.claimId ?? unique("claim"), edit: (cr) => opts.decision === "denied" && (cr.outcome = "error") }));
  const res = await postWebhook("remit", body, { "X-API-KEY": SECRET });
  expect([200, 202]).toContain(res.status);
  return { eventId: res.body.eventId as string, body };
}

const deliveriesOf = (subscriptionId: string) => rows<any>("SELECT * FROM deliveries WHERE subscription_id = ? ORDER BY created_at, id", subscriptionId);
const settled = (subscriptionId: string, expected: number, status = "delivered") =>
  eventually(async () => (await count("deliveries", "subscription_id = ? AND status = ?", subscriptionId, status)) === expected, 20_000);

describe("subscriptions and filters", () => {
  it("REMIT_ALL gets both remit types, APPROVED only approved; deliveries are Standard Webhooks signed", async () => {
    const kAll = unique("all");
    const kApproved = unique("approved");
    const all = await subscribe({ url: receiverUrl(kAll), events: ["CLAIMS_REMIT_ALL"] });
    const approvedOnly = await subscribe({ url: receiverUrl(kApproved), events: ["CLAIMS_REMIT_APPROVED"], description: "approved only" });
    expect(all.secret).toMatch(/^whsec_/);
    await remit({ decision: "approved" });
    await remit({ decision: "denied" });
    await settled(all.id, 2);
    await settled(approvedOnly.id, 1);

    const got = await received(kAll);
    expect(got.map((r) => JSON.parse(r.body).type).sort()).toEqual(["CLAIMS_REMIT_APPROVED", "CLAIMS_REMIT_DENIED"]);
    const wh = new Webhook(all.secret);
    for (const r of got) {
      const payload = wh.verify(r.body, r.headers) as any;
      expect(payload).toMatchObject({ type: expect.stringMatching(/^CLAIMS_REMIT_/), timestamp: expect.any(String), data: { resourceType: "Bundle" } });
      expect(r.headers["content-type"]).toBe("application/json");
    }
    expect((await received(kApproved)).map((r) => JSON.parse(r.body).type)).toEqual(["CLAIMS_REMIT_APPROVED"]);
    expect(() => new Webhook(approvedOnly.secret).verify(got[0].body, got[0].headers)).toThrow();
  });

  it("a duplicate partner event makes one delivery per subscription", async () => {
    const key = unique("dup");
    const sub = await subscribe({ url: receiverUrl(key), events: ["*"] });
    const { body } = await remit();
    expect((await postWebhook("remit", body, { "X-API-KEY": SECRET })).body.duplicate).toBe(true);
    await settled(sub.id, 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count("deliveries", "subscription_id = ?", sub.id)).toBe(1);
    expect((await received(key)).length).toBe(1);
  });

  it("accepts the HCMS registration shape and refuses bad URLs", async () => {
    const hcms = await subscribe({ provider_id: "PROV-001", webhook_url: receiverUrl(unique("hcms")), secret_key: "your-webhook-secret", events: ["claim_status_update"], active: true });
    expect(hcms).toMatchObject({ events: ["claim_status_update"], filter: { providerId: "PROV-001" }, secret: `whsec_${btoa("your-webhook-secret")}` });
    for (const url of ["http://example.com/hook", "https://user:pw@example.com/hook", "ftp://example.com", "not a url"]) {
      const res = await admin("POST", "/admin/subscriptions", { url, events: ["*"] });
      expect(res.status, url).toBe(422);
      expect(res.body.error.details[0].path).toBe("url");
    }
    expect((await admin("POST", "/admin/subscriptions", { url: "http://127.0.0.1:9999/hook", events: ["*"] })).status).toBe(201);
    expect((await admin("POST", "/admin/subscriptions", { url: "https://x.test", events: [] })).status).toBe(422);
  });

  it("refuses secrets that could not sign: whsec_ not base64, fewer than 24 or more than 64 bytes, plain under 16 characters", async () => {
    const bytes = (n: number) => btoa(String.fromCharCode(...new Uint8Array(n).fill(65)));
    for (const secret of ["whsec_!!!!!!!!", `whsec_${bytes(10)}`, `whsec_${bytes(65)}`, "whsec_", "short-secret"]) {
      const res = await admin("POST", "/admin/subscriptions", { url: receiverUrl(unique("s")), events: ["*"], secret });
      expect(res.status, secret).toBe(422);
      expect(res.body.error.details[0].path, secret).toBe("secret");
    }
    const hcms = await admin("POST", "/admin/subscriptions", { provider_id: "P", webhook_url: receiverUrl(unique("s")), secret_key: "tooshort", events: ["*"] });
    expect(hcms.status).toBe(422);
    for (const secret of [`whsec_${bytes(24)}`, `whsec_${bytes(64)}`, "sixteen-chars-ok"]) {
      expect((await admin("POST", "/admin/subscriptions", { url: receiverUrl(unique("s")), events: ["*"], secret })).status, secret).toBe(201);
    }
    const sub = await subscribe({ url: receiverUrl(unique("s")), events: ["*"] });
    expect((await admin("POST", `/admin/subscriptions/${sub.id}/rotate-secret`, { secret: "whsec_!!!!" })).status).toBe(422);
  });

  it("a stored secret that cannot sign is a recorded attempt error, never a silent pending", async () => {
    const k = unique("nosign");
    const sub = await subscribe({ url: receiverUrl(k), events: ["CLAIMS_REMIT_APPROVED"] });
    // as an older version could have stored it
    await env.DB.prepare("UPDATE subscription_secrets SET ciphertext = ? WHERE subscription_id = ?").bind(await sealSecret(env.SECRETS_KEY, "whsec_!!!!"), sub.id).run();
    await remit();
    const attempt = await eventually(async () => (await rows<any>("SELECT a.error FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = ?", sub.id))[0], 20_000);
    expect(attempt.error).toMatch(/^SIGNING_FAILED/);
    expect(await received(k)).toEqual([]);
  });
});

describe("retries, timeouts and dead letters", () => {
  it("a receiver failing twice then succeeding: three attempts, one webhook-id, delivered", async () => {
    const key = unique("flaky");
    const sub = await subscribe({ url: receiverUrl(key, "fail-twice"), events: ["*"] });
    await remit();
    await settled(sub.id, 1);
    const got = await received(key);
    expect(got.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const [d] = await deliveriesOf(sub.id);
    const attempts = (await admin("GET", `/admin/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 500], [3, 200]]);
    expect(attempts[0].responseBody).toBe("error 500");
  });

  it("a subscriber answering 64 MiB: delivered, 2 KiB kept (test/unit/delivery-unit: the rest is never read)", async () => {
    const k = unique("huge");
    const sub = await subscribe({ url: receiverUrl(k, "huge"), events: ["CLAIMS_REMIT_APPROVED"] });
    await remit();
    await settled(sub.id, 1);
    const [d] = await deliveriesOf(sub.id);
    const [attempt] = await rows<any>("SELECT response_body FROM delivery_attempts WHERE delivery_id = ?", d.id);
    expect(attempt.response_body.length).toBeLessThanOrEqual(2048);
    expect(attempt.response_body.startsWith("aaaa")).toBe(true);
  });

  it("honours Retry-After on 429", async () => {
    const key = unique("throttle");
    const sub = await subscribe({ url: receiverUrl(key, "throttle"), events: ["*"] });
    await remit();
    await settled(sub.id, 1);
    const got = await received(key);
    expect(got.map((r) => r.answered)).toEqual([429, 200]);
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(1900);
  });

  it("a timeout is a failed attempt, retried", async () => {
    const key = unique("slow");
    const sub = await subscribe({ url: receiverUrl(key, "slow-once"), events: ["*"] });
    await remit();
    await settled(sub.id, 1);
    const [d] = await deliveriesOf(sub.id);
    const attempts = (await admin("GET", `/admin/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts[0]).toMatchObject({ statusCode: null, error: "timeout after 500 ms" });
    expect(attempts.at(-1).statusCode).toBe(200);
  });

  it("410 Gone disables the subscription", async () => {
    const sub = await subscribe({ url: receiverUrl(unique("gone"), "gone"), events: ["*"] });
    await remit();
    await settled(sub.id, 1, "dead");
    const after = (await admin("GET", `/admin/subscriptions/${sub.id}`)).body;
    expect(after).toMatchObject({ active: false, disabledReason: "endpoint answered 410 Gone" });
  });

  it("exhaustion dead-letters the delivery; replay of the dead delivery and bulk replay by time range deliver it", async () => {
    const key = unique("down");
    const sub = await subscribe({ url: receiverUrl(key, "down"), events: ["CLAIMS_REMIT_ALL"] });
    const since = new Date().toISOString();
    await remit();
    await remit();
    await settled(sub.id, 2, "dead");
    const dead = await deliveriesOf(sub.id);
    expect(dead.map((d) => [d.attempts, typeof d.dead_at])).toEqual([[3, "string"], [3, "string"]]);
    expect((await admin("GET", `/admin/deliveries?subscription=${sub.id}&status=dead`)).body.data).toHaveLength(2);

    // the endpoint is fixed; one delivery is replayed alone, the other in bulk
    expect((await admin("PATCH", `/admin/subscriptions/${sub.id}`, { url: receiverUrl(key, "ok") })).status).toBe(200);
    const one = await admin("POST", `/admin/deliveries/${dead[0].id}/replay`);
    expect(one.status).toBe(202);
    await settled(sub.id, 1);
    const bulk = await admin("POST", `/admin/subscriptions/${sub.id}/replay`, { since, until: new Date().toISOString() });
    expect(bulk.body).toEqual({ subscriptionId: sub.id, replayed: 1, nextCursor: null });
    await settled(sub.id, 2);
    const attempts = (await admin("GET", `/admin/deliveries/${dead[1].id}/attempts`)).body.data;
    expect(attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it("replaying a delivery that is still pending is 409 DELIVERY_PENDING and adds no attempt", async () => {
    const key = unique("slowpoke");
    const sub = await subscribe({ url: receiverUrl(key, "down"), events: ["CLAIMS_REMIT_APPROVED"] });
    await remit();
    const [d] = await eventually(async () => {
      const rows_ = await deliveriesOf(sub.id);
      return rows_.length ? rows_ : null;
    });
    await env.DB.prepare("UPDATE deliveries SET status = 'pending' WHERE id = ?").bind(d.id).run();
    for (let i = 0; i < 5; i++) {
      const res = await admin("POST", `/admin/deliveries/${d.id}/replay`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("DELIVERY_PENDING");
    }
    const bulk = await admin("POST", `/admin/subscriptions/${sub.id}/replay`, { since: "2000-01-01T00:00:00Z", until: new Date().toISOString(), status: ["pending"] });
    expect(bulk.body.replayed).toBe(0);
    expect((await admin("POST", "/admin/deliveries/dlv_nope/replay")).status).toBe(404);
  });

  it("a subscription failing for the whole window is disabled and a subscription.disabled event recorded", async () => {
    const sub = await subscribe({ url: receiverUrl(unique("failing"), "down"), events: ["CLAIMS_REMIT_DENIED"] });
    const db = database(env.DB);
    await remit({ decision: "denied" });
    const [d] = await eventually(async () => {
      const r = await deliveriesOf(sub.id);
      return r.length ? r : null;
    });
    // the consumer may have tried already; one more attempt with a zero-length window disables it
    await eventually(async () => (await deliveriesOf(sub.id))[0].attempts >= 1);
    await env.DB.prepare("UPDATE deliveries SET status = 'pending' WHERE id = ?").bind(d.id).run();
    await attemptDelivery({ ...env, SUBSCRIPTION_DISABLE_AFTER_SECONDS: "1" }, db, d.id, Date.now() + 5_000);
    expect((await admin("GET", `/admin/subscriptions/${sub.id}`)).body.active).toBe(false);
    expect(await count("domain_events", "type = 'subscription.disabled' AND payload LIKE ?", `%${sub.id}%`)).toBe(1);
    expect(await count("domain_events", "type = 'subscription.failing' AND payload LIKE ?", `%${sub.id}%`)).toBe(1);
  });

  it("failing for an hour: one subscription.failing, delivered to operational subscribers, before any disabling", async () => {
    const ops = unique("ops");
    const watcher = await subscribe({ url: receiverUrl(ops), events: ["subscription.failing", "subscription.disabled"] });
    const sub = await subscribe({ url: receiverUrl(unique("hour"), "down"), events: ["CLAIMS_REMIT_DENIED"] });
    const db = database(env.DB);
    await remit({ decision: "denied" });
    const [d] = await eventually(async () => {
      const r = await deliveriesOf(sub.id);
      return r.length && r[0].attempts >= 1 ? r : null;
    });
    for (const later of [3_700_000, 3_800_000]) {
      await env.DB.prepare("UPDATE deliveries SET status = 'pending' WHERE id = ?").bind(d.id).run();
      await attemptDelivery(env, db, d.id, Date.now() + later);
    }
    expect(await count("domain_events", "type = 'subscription.failing' AND payload LIKE ?", `%${sub.id}%`)).toBe(1);
    expect((await admin("GET", `/admin/subscriptions/${sub.id}`)).body.active).toBe(true);
    await settled(watcher.id, 1);
    const got = await received(ops);
    expect(got.map((r) => JSON.parse(r.body)).map((b) => [b.type, b.data.subscriptionId])).toEqual([["subscription.failing", sub.id]]);
  });
});

describe("fan-out", () => {
  it("a subscription's own failing notice goes to the others, not to it; any other event naming it in its data still goes to it", async () => {
    const failing = await subscribe({ url: receiverUrl(unique("self")), events: ["*"] });
    const other = await subscribe({ url: receiverUrl(unique("other")), events: ["*"] });
    const at = new Date().toISOString();
    const notice = unique("evt-notice");
    const mention = unique("evt-mention");
    await env.DB.batch([
      env.DB.prepare("INSERT INTO domain_events (id, type, source_event_id, payload, occurred_at) VALUES (?, 'subscription.failing', ?, ?, ?)").bind(notice, notice, JSON.stringify({ subscriptionId: failing.id }), at),
      env.DB.prepare("INSERT INTO domain_events (id, type, source_event_id, payload, occurred_at) VALUES (?, 'healthie.event', ?, ?, ?)").bind(mention, mention, JSON.stringify({ subscriptionId: failing.id }), at),
    ]);
    await fanOut(env, database(env.DB));
    const deliveredTo = async (eventId: string) => (await rows<{ subscription_id: string }>("SELECT subscription_id FROM deliveries WHERE domain_event_id = ?", eventId)).map((r) => r.subscription_id);
    expect(await deliveredTo(notice)).toContain(other.id);
    expect(await deliveredTo(notice)).not.toContain(failing.id);
    expect(await deliveredTo(mention)).toEqual(expect.arrayContaining([failing.id, other.id]));
  });
});

describe("event-type catalog", () => {
  it("lists every type with a description, an example and a schema; unknown types are 422 UNKNOWN_EVENT_TYPE", async () => {
    const catalog = (await admin("GET", "/admin/event-types")).body;
    const names = catalog.data.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(["CLAIMS_REMIT_APPROVED", "patient_payment.applied", "subscription.failing", "healthie.event", "payment_processed"]));
    for (const t of catalog.data) {
      expect(t.description.length, t.name).toBeGreaterThan(10);
      expect(t.example, t.name).toBeDefined();
      expect(t.schema.type ?? t.schema.anyOf ?? t.schema.partnerKind, t.name).toBeDefined();
    }
    expect(catalog.patterns).toEqual(["*", "CLAIMS_REMIT_ALL"]);
    const typo = await admin("POST", "/admin/subscriptions", { url: receiverUrl(unique("typo")), events: ["CLAIMS_REMIT_APROVED"] });
    expect(typo.status).toBe(422);
    expect(typo.body.error.code).toBe("UNKNOWN_EVENT_TYPE");
    expect(typo.body.error.details[0].path).toBe("events[0]");
    const sub = await subscribe({ url: receiverUrl(unique("ok")), events: ["*"] });
    expect((await admin("PATCH", `/admin/subscriptions/${sub.id}`, { events: ["nope.nope"] })).body.error.code).toBe("UNKNOWN_EVENT_TYPE");
    expect((await call("GET", "/docs")).body).toContain("subscription.failing");
    expect((await call("GET", "/openapi.json")).body["x-event-types"].length).toBe(catalog.data.length);
  });
});

describe("secret rotation and ordering", () => {
  it("during the grace period both signatures are present and either secret verifies", async () => {
    const key = unique("rotate");
    const sub = await subscribe({ url: receiverUrl(key), events: ["*"] });
    const rotated = await admin("POST", `/admin/subscriptions/${sub.id}/rotate-secret`, {});
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(sub.secret);
    await remit();
    await settled(sub.id, 1);
    const [r] = await received(key);
    expect(r.headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(sub.secret).verify(r.body, r.headers)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(r.body, r.headers)).not.toThrow();

    // with no grace the old secret stops signing at once
    const key2 = unique("rotate-now");
    const sub2 = await subscribe({ url: receiverUrl(key2), events: ["*"] });
    const now = await admin("POST", `/admin/subscriptions/${sub2.id}/rotate-secret`, { graceSeconds: 0 });
    await remit();
    await settled(sub2.id, 1);
    const [r2] = await received(key2);
    expect(r2.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(() => new Webhook(now.body.secret).verify(r2.body, r2.headers)).not.toThrow();
    expect(() => new Webhook(sub2.secret).verify(r2.body, r2.headers)).toThrow();
  });

  it("ordered: a later event of a lifecycle waits while an earlier one is retrying", async () => {
    const key = unique("ordered");
    const sub = await subscribe({ url: receiverUrl(key, "fail-once"), events: ["*"], ordered: true });
    const claimId = unique("ordered-claim");
    await remit({ claimId, crId: unique("cr-1") });
    await remit({ claimId, crId: unique("cr-2") });
    await settled(sub.id, 2);
    const got = await received(key);
    const ids = got.map((r) => r.headers["webhook-id"]);
    // first delivery: failed, then succeeded; only then the second
    expect(ids[0]).toBe(ids[1]);
    expect(got.map((r) => r.answered)).toEqual([500, 200, 200]);
    const [first, second] = await deliveriesOf(sub.id);
    expect(ids).toEqual([first.id, first.id, second.id]);
  });
});
