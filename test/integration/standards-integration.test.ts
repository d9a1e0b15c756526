import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { remitFor } from "../helpers/fixtures";

const SECRET = "standards-test-secret";
let n = 0;
const unique = (p: string) => `${p}-${++n}-${crypto.randomUUID().slice(0, 8)}`;
const receiverUrl = (key: string, mode = "ok") => `https://receiver.test/${key}/${mode}`;
const received = async (key: string): Promise<any[]> => (await fetch(`https://receiver.test/__log/${key}`)).json();

beforeAll(async () => {
  await createSource({ id: "std-remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
});

async function remit() {
  const body = JSON.stringify(remitFor({ crId: unique("cr"), claimId: unique("claim") }));
  const res = await postWebhook("std-remit", body, { "X-API-KEY": SECRET });
  expect(res.status).toBe(202);
  return res.body.eventId as string;
}

async function subscribe(body: Record<string, unknown>) {
  const res = await admin("POST", "/admin/subscriptions", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

describe("Healthie signed payloads and thin events, end to end", () => {
  it("a healthie-scheme source accepts Healthie's signature over the request and delivers healthie.event as sent", async () => {
    const secret = "healthie-source-secret-1";
    await createSource({ id: "healthie-events", kind: "healthie.event", verification: { scheme: "healthie" }, secrets: [secret] });
    const k = unique("healthie");
    await subscribe({ url: receiverUrl(k), events: ["healthie.event"] });
    const body = JSON.stringify({ resource_id: 5551, resource_id_type: "Appointment", event_type: "appointment.updated", changed_fields: ["date"] });
    const digest = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
    const data = `post /webhooks/healthie-events  ${digest} application/json ${new TextEncoder().encode(body).length}`;
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const signature = hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data)));
    const headers = { "content-digest": `sha-256=${digest}`, "signature-input": 'sig1=("@method" "@path" "@query" "content-digest" "content-type" "content-length")', signature: `sig1=${signature}` };
    const res = await postWebhook("healthie-events", body, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const forged = await postWebhook("healthie-events", body.replace("5551", "5552"), headers);
    expect(forged.status).toBe(401);
    await eventually(async () => (await received(k)).length === 1, 15_000);
    const [got] = await received(k);
    expect(JSON.parse(got.body)).toMatchObject({ type: "healthie.event", data: JSON.parse(body) });
  });
});

describe("Standard Webhooks v1a (Ed25519) outbound", () => {
  it("signs v1 and v1a; the public key is shown; Node's Ed25519 verifies; during rotation both keys sign", async () => {
    const k = unique("v1a");
    const sub = await subscribe({ url: receiverUrl(k), events: ["CLAIMS_REMIT_APPROVED"], signing: ["v1", "v1a"] });
    expect(sub.publicKey).toMatch(/^whpk_/);
    expect((await admin("GET", `/admin/subscriptions/${sub.id}`)).body).toMatchObject({ signing: ["v1", "v1a"], publicKey: sub.publicKey });
    await remit();
    await eventually(async () => (await received(k)).length === 1, 15_000);
    const verifyWith = async (publicKey: string, r: any, signature: string) =>
      (await (await fetch("https://receiver.test/__verify-v1a", { method: "POST", body: JSON.stringify({ publicKey, message: `${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.body}`, signature }) })).json()) as { ok: boolean };
    const [first] = await received(k);
    const sigs = (first.headers["webhook-signature"] as string).split(" ");
    expect(sigs.map((s) => s.split(",")[0])).toEqual(["v1", "v1a"]);
    expect((await verifyWith(sub.publicKey, first, sigs[1]!.slice(4))).ok).toBe(true);
    expect((await verifyWith(sub.publicKey, { ...first, body: first.body + " " }, sigs[1]!.slice(4))).ok).toBe(false);

    const rotated = await admin("POST", `/admin/subscriptions/${sub.id}/rotate-secret`, {});
    expect(rotated.body.publicKey).toMatch(/^whpk_/);
    expect(rotated.body.publicKey).not.toBe(sub.publicKey);
    await remit();
    await eventually(async () => (await received(k)).length === 2, 15_000);
    const second = (await received(k))[1];
    const v1a = (second.headers["webhook-signature"] as string).split(" ").filter((s: string) => s.startsWith("v1a,")).map((s: string) => s.slice(4));
    expect(v1a).toHaveLength(2);
    const okOld = await Promise.all(v1a.map((s: string) => verifyWith(sub.publicKey, second, s)));
    const okNew = await Promise.all(v1a.map((s: string) => verifyWith(rotated.body.publicKey, second, s)));
    expect(okOld.some((r) => r.ok) && okNew.some((r) => r.ok)).toBe(true);
  });

  it("a v1a-only subscription sends only v1a signatures; bad signing options are 422", async () => {
    const k = unique("v1a-only");
    await subscribe({ url: receiverUrl(k), events: ["CLAIMS_REMIT_APPROVED"], signing: ["v1a"] });
    await remit();
    await eventually(async () => (await received(k)).length === 1, 15_000);
    expect((await received(k))[0].headers["webhook-signature"]).toMatch(/^v1a,[A-Za-z0-9+/=]+$/);
    for (const signing of [[], ["v2"], ["v1", "v1"]]) {
      expect((await admin("POST", "/admin/subscriptions", { url: receiverUrl(k), events: ["*"], signing })).status, JSON.stringify(signing)).toBe(422);
    }
  });
});

describe("exact per-subscription throttling", () => {
  it("a subscription at 2/s receives 10 events over at least 4.5 s, an unthrottled one at once; none dropped", async () => {
    const slow = unique("slow");
    const fast = unique("fast");
    await subscribe({ url: receiverUrl(slow), events: ["CLAIMS_REMIT_APPROVED"], rateLimit: 2 });
    await subscribe({ url: receiverUrl(fast), events: ["CLAIMS_REMIT_APPROVED"] });
    // ten events at once: the unthrottled subscription gets them as fast as they come
    await Promise.all(Array.from({ length: 10 }, () => remit()));
    await eventually(async () => (await received(fast)).length === 10, 20_000);
    await eventually(async () => (await received(slow)).length === 10, 30_000);
    const span = (xs: any[]) => Math.max(...xs.map((x) => x.at)) - Math.min(...xs.map((x) => x.at));
    const slowTimes = (await received(slow)).map((x) => x.at).sort((a, b) => a - b);
    expect(span(await received(slow))).toBeGreaterThanOrEqual(4_500);
    // never two within less than the interval (a little slack for the clock of two processes)
    for (let i = 1; i < slowTimes.length; i++) expect(slowTimes[i]! - slowTimes[i - 1]!).toBeGreaterThanOrEqual(450);
    const fastTimes = (await received(fast)).map((x) => x.at).sort((a, b) => a - b);
    expect(span(await received(fast))).toBeLessThan(span(await received(slow)));
    expect(Math.min(...fastTimes.slice(1).map((t, i) => t - fastTimes[i]!))).toBeLessThan(300);
  }, 60_000);
});

describe("thin payloads with audited fetch-back", () => {
  it("a thin delivery carries ids and a fetch URL; the fetch token gets the full body, audited; others get nothing", async () => {
    const k = unique("thin");
    const sub = await subscribe({ url: receiverUrl(k), events: ["CLAIMS_REMIT_APPROVED"], payload: "thin" });
    expect(sub.fetchToken).toMatch(/^cgft_/);
    const other = await subscribe({ url: receiverUrl(unique("thin2")), events: ["CLAIMS_REMIT_APPROVED"], payload: "thin" });
    expect((await admin("GET", `/admin/subscriptions/${sub.id}`)).body.fetchToken).toBeUndefined();
    const eventId = await remit();
    await eventually(async () => (await received(k)).length === 1, 15_000);
    const body = JSON.parse((await received(k))[0].body);
    expect(body.type).toBe("CLAIMS_REMIT_APPROVED");
    expect(Object.keys(body.data).sort()).toEqual(["claimId", "eventId", "fetch", "lifecycleId"]);
    expect(JSON.stringify(body)).not.toContain("Patient/");
    const path = new URL(body.data.fetch).pathname;
    expect(new URL(body.data.fetch).origin).toBe("https://claimgate.test");

    const full = await call("GET", path, { headers: { authorization: `Bearer ${sub.fetchToken}` } });
    expect(full.status).toBe(200);
    expect(full.body.type).toBe("CLAIMS_REMIT_APPROVED");
    expect(full.body.data.resourceType).toBe("Bundle");
    const [stored] = await rows<any>("SELECT body FROM events WHERE id = ?", eventId);
    expect(full.body.data).toEqual(JSON.parse(stored.body));

    expect((await call("GET", path, { headers: { authorization: `Bearer ${other.fetchToken}` } })).status).toBe(404);
    expect((await call("GET", path)).status).toBe(401);
    expect((await call("GET", path, { headers: { authorization: "Bearer cgft_nope" } })).status).toBe(404);
    expect(await count("audit_log", "target = ? AND actor = ?", path, `subscription:${sub.id}`)).toBeGreaterThanOrEqual(1);

    const deliveryId = path.split("/")[3]!;
    await env.DB.prepare("UPDATE deliveries SET created_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(deliveryId).run();
    const expired = await call("GET", path, { headers: { authorization: `Bearer ${sub.fetchToken}` } });
    expect(expired.status).toBe(404);
    expect(expired.body.error.code).toBe("PAYLOAD_EXPIRED");
  });
});

describe("the console's subscription form", () => {
  it("offers every catalog type as a checkbox and creates the subscription, showing its secret once", async () => {
    const { exports } = await import("cloudflare:workers");
    const BASE = "https://claimgate.test";
    const login = await exports.default.fetch(new Request(`${BASE}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, "cf-connecting-ip": "192.0.2.31" }, body: "token=test-admin-token" }));
    await login.text();
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await exports.default.fetch(new Request(`${BASE}/console/subscriptions/new`, { headers: { cookie } }))).text();
    const catalog = (await admin("GET", "/admin/event-types")).body.data.map((t: any) => t.name);
    for (const name of catalog) expect(page).toContain(`value="${name}"`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const k = unique("console-sub");
    const form = new URLSearchParams({ csrf, url: receiverUrl(k), payload: "thin", rateLimit: "5" });
    form.append("events", "patient_payment.applied");
    form.append("events", "CLAIMS_REMIT_ALL");
    form.append("signing", "v1");
    form.append("signing", "v1a");
    const res = await exports.default.fetch(new Request(`${BASE}/console/subscriptions`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, cookie }, body: form.toString() }));
    const html = await res.text();
    expect(res.status).toBe(201);
    expect(html).toMatch(/whsec_[A-Za-z0-9+/=]+/);
    expect(html).toMatch(/whpk_/);
    expect(html).toMatch(/cgft_/);
    const subs = (await admin("GET", "/admin/subscriptions")).body.data.filter((s: any) => s.url === receiverUrl(k));
    expect(subs).toEqual([expect.objectContaining({ events: ["patient_payment.applied", "CLAIMS_REMIT_ALL"], signing: ["v1", "v1a"], payload: "thin", rateLimit: 5 })]);
    const bad = await exports.default.fetch(new Request(`${BASE}/console/subscriptions`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, cookie }, body: new URLSearchParams({ csrf, url: receiverUrl(k), events: "NOPE" }).toString() }));
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("not an event type");
  });
});
