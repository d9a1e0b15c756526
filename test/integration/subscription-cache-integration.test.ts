import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deliverySubscription, invalidateSubscription, signingKeysAt } from "../../src/delivery/subscription-cache";
import { admin } from "../helpers/api";

// Issue 17: a delivery reads its subscription and decrypted keys from a per-isolate cache; changes made
// through the gateway clear it at once, other changes show within the TTL, and a rotated-out key stops
// signing when its grace period ends even while cached.

const db = () => database(env.DB);

describe("subscription cache", () => {
  it("serves the cached row within the TTL; an API change clears it at once", async () => {
    const sub = (await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/cache/a", events: ["*"] })).body;
    const first = await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60);
    expect(first!.row.url).toBe("https://receiver.test/cache/a");
    expect(signingKeysAt(first!).hmac).toEqual([sub.secret]);

    // a change behind the gateway's back (another isolate, a migration): seen only after the TTL
    await env.DB.prepare("UPDATE subscriptions SET url = 'https://receiver.test/cache/behind' WHERE id = ?").bind(sub.id).run();
    expect((await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60))!.row.url).toBe("https://receiver.test/cache/a");
    expect((await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 0))!.row.url).toBe("https://receiver.test/cache/behind");

    // a change through the API: the next delivery sees it at once
    await admin("PATCH", `/admin/subscriptions/${sub.id}`, { url: "https://receiver.test/cache/b" });
    expect((await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60))!.row.url).toBe("https://receiver.test/cache/b");
    await admin("PATCH", `/admin/subscriptions/${sub.id}`, { active: false });
    expect((await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60))!.row.active).toBe(false);

    // rotation: both keys sign during the grace period, and the old one stops at its end though cached
    const rotated = (await admin("POST", `/admin/subscriptions/${sub.id}/rotate-secret`, { graceSeconds: 60 })).body;
    const cached = (await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60))!;
    expect(signingKeysAt(cached).hmac).toEqual([sub.secret, rotated.secret]);
    expect(signingKeysAt(cached, new Date(Date.now() + 120_000).toISOString()).hmac).toEqual([rotated.secret]);

    // deleted through the API: gone at once
    expect((await admin("DELETE", `/admin/subscriptions/${sub.id}`)).status).toBe(204);
    expect(await deliverySubscription(db(), env.SECRETS_KEY, sub.id, 60)).toBeNull();
    invalidateSubscription(sub.id);
  });
});
