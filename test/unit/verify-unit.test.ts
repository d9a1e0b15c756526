import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { verifyRequest, type VerificationConfig } from "../../src/verify";
import { verificationConfig } from "../../src/verify/config";
import { hmacBase64, hmacHex, standardWebhooksHeaders, stripeHeader } from "../helpers/sign";

const enc = new TextEncoder();
const NOW = 1_800_000_000;
const cfg = (c: Record<string, unknown>): VerificationConfig => verificationConfig.parse(c);

function run(config: VerificationConfig, headers: Record<string, string>, body: string, secrets: string[], now = NOW) {
  return verifyRequest(config, { headers: new Headers(headers), body: enc.encode(body), secrets, now });
}

describe("api_secret", () => {
  const config = cfg({ scheme: "api_secret", header: "X-API-KEY" });

  it("accepts the secret in the configured header, case-insensitively named", async () => {
    expect(await run(config, { "x-api-key": "s3cret-value" }, "{}", ["s3cret-value"])).toEqual({ ok: true, eventId: null });
  });
  it("rejects a wrong or missing secret", async () => {
    expect(await run(config, { "X-API-KEY": "nope-nope" }, "{}", ["s3cret-value"])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await run(config, {}, "{}", ["s3cret-value"])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
  it("accepts any active secret (rotation)", async () => {
    expect(await run(config, { "X-API-KEY": "new-secret-2" }, "{}", ["old-secret-1", "new-secret-2"])).toMatchObject({ ok: true });
  });
  it("takes the event id from a configured id header", async () => {
    const withId = cfg({ scheme: "api_secret", header: "X-API-KEY", idHeader: "X-Event-Id" });
    expect(await run(withId, { "X-API-KEY": "s3cret-value", "X-Event-Id": "e-1" }, "{}", ["s3cret-value"])).toEqual({ ok: true, eventId: "e-1" });
  });
  it("rejects everything when the source has no secret", async () => {
    expect(await run(config, { "X-API-KEY": "" }, "{}", [])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
});

describe("hmac_sha256", () => {
  const body = '{"resourceType":"Bundle"}';
  const secret = "partner-hmac-secret";

  it("verifies hex with a prefix", async () => {
    const config = cfg({ scheme: "hmac_sha256", header: "X-Signature", encoding: "hex", prefix: "sha256=" });
    const sig = await hmacHex(secret, body);
    expect(await run(config, { "X-Signature": `sha256=${sig}` }, body, [secret])).toMatchObject({ ok: true });
    expect(await run(config, { "X-Signature": sig }, body, [secret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
  it("verifies base64 without a prefix", async () => {
    const config = cfg({ scheme: "hmac_sha256", header: "X-Signature", encoding: "base64" });
    expect(await run(config, { "X-Signature": await hmacBase64(secret, body) }, body, [secret])).toMatchObject({ ok: true });
  });
  it("rejects a tampered body, a wrong secret and a malformed header", async () => {
    const config = cfg({ scheme: "hmac_sha256", header: "X-Signature" });
    const sig = await hmacHex(secret, body);
    expect(await run(config, { "X-Signature": sig }, body + " ", [secret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await run(config, { "X-Signature": sig }, body, ["other-secret"])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await run(config, { "X-Signature": "zz" }, body, [secret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
  it("accepts the old and the new secret during rotation", async () => {
    const config = cfg({ scheme: "hmac_sha256", header: "X-Signature" });
    const sig = await hmacHex("old-secret-xx", body);
    expect(await run(config, { "X-Signature": sig }, body, ["new-secret-yy", "old-secret-xx"])).toMatchObject({ ok: true });
  });
  it("signs timestamp.body and enforces the tolerance both ways", async () => {
    const config = cfg({ scheme: "hmac_sha256", header: "X-Signature", timestampHeader: "X-Timestamp", toleranceSeconds: 300 });
    const at = async (t: number) => ({ "X-Signature": await hmacHex(secret, `${t}.${body}`), "X-Timestamp": String(t) });
    expect(await run(config, await at(NOW - 100), body, [secret])).toMatchObject({ ok: true });
    expect(await run(config, await at(NOW - 301), body, [secret])).toMatchObject({ ok: false, code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    expect(await run(config, await at(NOW + 301), body, [secret])).toMatchObject({ ok: false, code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    // a signature over the body alone is not enough when a timestamp is configured
    expect(await run(config, { "X-Signature": await hmacHex(secret, body), "X-Timestamp": String(NOW) }, body, [secret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await run(config, { "X-Signature": await hmacHex(secret, body) }, body, [secret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
});

describe("stripe", () => {
  const config = cfg({ scheme: "stripe" });
  const secret = "whsec_test_secret_for_stripe";
  const body = JSON.stringify({ id: "evt_1", type: "payment_intent.succeeded" });

  it("accepts a header made by the official stripe library", async () => {
    const stripe = new Stripe("sk_test_x");
    const header = await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp: NOW });
    expect(await run(config, { "Stripe-Signature": header }, body, [secret])).toEqual({ ok: true, eventId: null });
  });
  it("accepts one of several v1 signatures and ignores v0", async () => {
    const good = (await stripeHeader(secret, body, NOW)).split(",")[1];
    const header = `t=${NOW},v0=abc,v1=${"0".repeat(64)},${good}`;
    expect(await run(config, { "Stripe-Signature": header }, body, [secret])).toMatchObject({ ok: true });
  });
  it("rejects stale and future timestamps, a wrong secret and a missing header", async () => {
    expect(await run(config, { "Stripe-Signature": await stripeHeader(secret, body, NOW - 301) }, body, [secret])).toMatchObject({ code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    expect(await run(config, { "Stripe-Signature": await stripeHeader(secret, body, NOW + 301) }, body, [secret])).toMatchObject({ code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    expect(await run(config, { "Stripe-Signature": await stripeHeader("whsec_other", body, NOW) }, body, [secret])).toMatchObject({ code: "SIGNATURE_INVALID" });
    expect(await run(config, {}, body, [secret])).toMatchObject({ code: "SIGNATURE_INVALID" });
    expect(await run(config, { "Stripe-Signature": `t=${NOW}` }, body, [secret])).toMatchObject({ code: "SIGNATURE_INVALID" });
  });
});

describe("standard_webhooks", () => {
  const config = cfg({ scheme: "standard_webhooks" });

  it("verifies the specification's example vector", async () => {
    const headers = {
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    };
    const result = await run(config, headers, '{"test": 2432232314}', ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], 1614265330);
    expect(result).toEqual({ ok: true, eventId: "msg_p5jXN8AQM9LWM0D4loKWxJek" });
  });
  it("accepts headers made by the standardwebhooks library", async () => {
    const secret = "whsec_" + btoa("a-32-byte-standard-webhooks-key!");
    const body = '{"type":"x"}';
    const signature = new Webhook(secret).sign("msg_1", new Date(NOW * 1000), body);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(NOW), "webhook-signature": signature };
    expect(await run(config, headers, body, [secret])).toEqual({ ok: true, eventId: "msg_1" });
  });
  it("accepts any of several space-separated signatures and any active secret", async () => {
    const oldSecret = "whsec_" + btoa("old-key-old-key-old-key-old-key!");
    const newSecret = "whsec_" + btoa("new-key-new-key-new-key-new-key!");
    const body = "{}";
    const h = await standardWebhooksHeaders(oldSecret, body, "msg_2", NOW);
    h["webhook-signature"] = `v1,${btoa("x".repeat(32))} ${h["webhook-signature"]}`;
    expect(await run(config, h, body, [newSecret, oldSecret])).toMatchObject({ ok: true });
    expect(await run(config, h, body, [newSecret])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
  it("v1a: an Ed25519 signature made with Node's crypto verifies against its whpk_ key, beside v1 secrets", async () => {
    // made with node:crypto (Ed25519, private key seed 32 × 0x07) over `${id}.${timestamp}.${body}`
    const publicKey = "whpk_6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=";
    const body = '{"type":"example.event","data":{"ok":true}}';
    const headers = {
      "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
      "webhook-timestamp": "1674087231",
      "webhook-signature": "v1a,QugB0SADmgozFiNcmpnLrELR/Ahad+5b/ldMvjdZ7vQ+ttaRnZpGn7jCFioHk3mvf4goLNqZuPo5VQEVGShKDw==",
    };
    const other = "whsec_" + btoa("o".repeat(32));
    expect(await run(config, headers, body, [other, publicKey], 1674087231)).toEqual({ ok: true, eventId: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" });
    expect(await run(config, headers, body.replace("true", "false"), [publicKey], 1674087231)).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await run(config, headers, body, [other], 1674087231)).toMatchObject({ ok: false });
    const otherKey = "whpk_" + btoa("k".repeat(32));
    expect(await run(config, headers, body, [otherKey], 1674087231)).toMatchObject({ ok: false });
  });
  it("skips a stored secret that decodes to nothing (never a crash); with only such secrets it is 401", async () => {
    const good = "whsec_" + btoa("g".repeat(32));
    const h = await standardWebhooksHeaders(good, "{}", "msg_9", NOW);
    expect(await run(config, h, "{}", ["whsec_        ", "whsec_", good])).toEqual({ ok: true, eventId: "msg_9" });
    expect(await run(config, h, "{}", ["whsec_        "])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
  });
  it("rejects stale, future and missing timestamps and a changed id", async () => {
    const secret = "whsec_" + btoa("k".repeat(32));
    const stale = await standardWebhooksHeaders(secret, "{}", "msg_3", NOW - 301);
    expect(await run(config, stale, "{}", [secret])).toMatchObject({ code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    const future = await standardWebhooksHeaders(secret, "{}", "msg_3", NOW + 301);
    expect(await run(config, future, "{}", [secret])).toMatchObject({ code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    const fresh = await standardWebhooksHeaders(secret, "{}", "msg_3", NOW);
    expect(await run(config, { ...fresh, "webhook-id": "msg_4" }, "{}", [secret])).toMatchObject({ code: "SIGNATURE_INVALID" });
    const { "webhook-timestamp": _, ...noTs } = fresh;
    expect(await run(config, noTs, "{}", [secret])).toMatchObject({ code: "SIGNATURE_INVALID" });
  });
});

describe("healthie (signed payloads)", () => {
  const config = cfg({ scheme: "healthie" });
  const SECRET = "healthie-webhook-secret-example";
  const body = '{"resource_id":"1234","resource_id_type":"Appointment","event_type":"appointment.created"}';
  // the worked vector of src/verify/healthie.ts, computed independently with Node's crypto
  const headers = {
    "content-digest": "sha-256=1c94e32e7771bc6d19bebf6f5cb1883623c60fbfe01bd2731a8e30d53d296a7b",
    "signature-input": 'sig1=("@method" "@path" "@query" "content-digest" "content-type" "content-length")',
    signature: "sig1=7c570123a7a64735b298dcc8b2ad5c8ee4c2ff4ac1fcbe68dbb3107f5d4fdabe",
  };
  const request = { method: "POST", path: "/webhooks/healthie-events", query: "" };
  const verify = (h: Record<string, string>, b = body, secrets = [SECRET], req = request, now = NOW) =>
    verifyRequest(config, { headers: new Headers(h), body: enc.encode(b), secrets, now, request: req });

  it("verifies the worked vector, with any active secret (rotation)", async () => {
    expect(await verify(headers)).toEqual({ ok: true, eventId: null });
    expect(await verify(headers, body, ["an-older-secret", SECRET])).toMatchObject({ ok: true });
  });
  it("refuses another secret, path, method, query, a body that is not the digest's, a missing header", async () => {
    expect(await verify(headers, body, ["another-secret"])).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    expect(await verify(headers, body, [SECRET], { ...request, path: "/webhooks/other" })).toMatchObject({ ok: false });
    expect(await verify(headers, body, [SECRET], { ...request, method: "PUT" })).toMatchObject({ ok: false });
    expect(await verify(headers, body, [SECRET], { ...request, query: "a=1" })).toMatchObject({ ok: false });
    expect(await verify(headers, body.replace("1234", "4321"))).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
    const { signature: _s, ...noSig } = headers;
    expect(await verify(noSig)).toMatchObject({ ok: false });
  });
  it("a created= parameter must be fresh", async () => {
    const stale = { ...headers, "signature-input": `${headers["signature-input"]};created=${NOW - 1000}` };
    expect(await verify(stale)).toMatchObject({ ok: false, code: "TIMESTAMP_OUT_OF_TOLERANCE" });
    const fresh = { ...headers, "signature-input": `${headers["signature-input"]};created=${NOW - 10}` };
    expect(await verify(fresh)).toMatchObject({ ok: true });
  });
});
