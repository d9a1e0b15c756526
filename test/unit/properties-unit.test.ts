import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { centsToAmount, centsToDecimalString, exactCents } from "../../src/domain/money";
import { applyPayment } from "../../src/domain/payment";
import { verifyRequest } from "../../src/verify";
import { verificationConfig } from "../../src/verify/config";
import { standardWebhooksHeaders, stripeHeader } from "../helpers/sign";

const NOW = 1_800_000_000;
const secretArb = fc.string({ minLength: 8, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s));
const bodyArb = fc.uint8Array({ minLength: 0, maxLength: 512 });

describe("verification accepts exactly the correctly signed inputs", () => {
  it("hmac_sha256: any body bytes, any secret; a tampered byte or another secret is rejected", async () => {
    const config = verificationConfig.parse({ scheme: "hmac_sha256", header: "x-sig" });
    await fc.assert(
      fc.asyncProperty(bodyArb, secretArb, secretArb, fc.nat(), async (body, secret, other, at) => {
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const sig = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, body))].map((b) => b.toString(16).padStart(2, "0")).join("");
        const ok = await verifyRequest(config, { headers: new Headers({ "x-sig": sig }), body, secrets: [secret], now: NOW });
        expect(ok.ok).toBe(true);
        if (body.length > 0) {
          const tampered = body.slice();
          tampered[at % body.length]! ^= 1 + (at % 255);
          expect((await verifyRequest(config, { headers: new Headers({ "x-sig": sig }), body: tampered, secrets: [secret], now: NOW })).ok).toBe(false);
        }
        if (other !== secret) {
          expect((await verifyRequest(config, { headers: new Headers({ "x-sig": sig }), body, secrets: [other], now: NOW })).ok).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("stripe and standard_webhooks: signed → accepted; changed body → rejected", async () => {
    const stripe = verificationConfig.parse({ scheme: "stripe" });
    const sw = verificationConfig.parse({ scheme: "standard_webhooks" });
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), secretArb, fc.string({ minLength: 1, maxLength: 5 }), async (text, secret, extra) => {
        const body = new TextEncoder().encode(text);
        const changed = new TextEncoder().encode(text + extra);
        const stripeSig = { "stripe-signature": await stripeHeader(secret, text, NOW) };
        expect((await verifyRequest(stripe, { headers: new Headers(stripeSig), body, secrets: [secret], now: NOW })).ok).toBe(true);
        expect((await verifyRequest(stripe, { headers: new Headers(stripeSig), body: changed, secrets: [secret], now: NOW })).ok).toBe(false);
        const swSecret = `whsec_${btoa(secret)}`;
        const h = await standardWebhooksHeaders(swSecret, text, "msg_p", NOW);
        expect((await verifyRequest(sw, { headers: new Headers(h), body, secrets: [swSecret], now: NOW })).ok).toBe(true);
        expect((await verifyRequest(sw, { headers: new Headers(h), body: changed, secrets: [swSecret], now: NOW })).ok).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it("api_secret accepts only the exact secret", async () => {
    const config = verificationConfig.parse({ scheme: "api_secret" });
    await fc.assert(
      fc.asyncProperty(secretArb, secretArb, async (secret, presented) => {
        const r = await verifyRequest(config, { headers: new Headers({ "x-api-key": presented }), body: new Uint8Array(), secrets: [secret], now: NOW });
        expect(r.ok).toBe(presented === secret);
      }),
    );
  });
});

describe("money", () => {
  it("decimal ↔ cents round-trips every value with ≤ 2 decimals", () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000_000_00, max: 100_000_000_00 }), (cents) => {
        expect(exactCents(centsToDecimalString(cents))).toBe(cents);
        expect(exactCents(centsToAmount(cents))).toBe(cents);
      }),
      { numRuns: 2000 },
    );
  });
  it("numbers with more than 2 decimals are refused, never rounded silently", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 9 }), (cents, thousandth) => {
        expect(exactCents(`${centsToDecimalString(cents)}${thousandth}`)).toBeNull();
      }),
    );
  });
});

describe("payment application invariants", () => {
  it("applied + excess = amount, and the applied total never exceeds the responsibility", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.array(fc.integer({ min: 1, max: 5_000_000 }), { maxLength: 60 }), (responsibility, payments) => {
        let applied = 0;
        for (const amount of payments) {
          const r = applyPayment(amount, responsibility, applied);
          expect(r.applied + r.excess).toBe(amount);
          expect(r.applied).toBeGreaterThanOrEqual(0);
          applied += r.applied;
          expect(applied).toBeLessThanOrEqual(responsibility);
        }
        expect(applied).toBe(Math.min(responsibility, payments.reduce((a, b) => a + b, 0)));
      }),
      { numRuns: 500 },
    );
  });
});
