import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deliverySubscription, invalidateSubscription, signingKeysAt } from "../../src/delivery/subscription-cache";
import worker from "../../src/index";
import { admin } from "../helpers/api";
import { rows } from "../helpers/db";

// Issue 17, the deliveries consumer: a delivery reads its subscription and decrypted keys from a
// per-isolate cache (changes made through the gateway clear it at once, other changes show within the
// TTL, a rotated-out key stops signing when its grace period ends even while cached), and a queue batch
// records its attempts and each subscription's health once.

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

describe("a deliveries batch records each subscription's health once", () => {
  const deliveriesOf = async (url: string, n: number) => {
    const sub = (await admin("POST", "/admin/subscriptions", { url, events: ["*"] })).body;
    const now = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const tag = `${sub.id}-${i}`;
      await env.DB.batch([
        env.DB.prepare("INSERT INTO domain_events (id, type, source_event_id, payload, occurred_at, fanned_out_at) VALUES (?, 'claim.remit.received', ?, '{}', ?, ?)").bind(`dev_${tag}`, `src_${tag}`, now, now),
        env.DB.prepare("INSERT INTO deliveries (id, subscription_id, domain_event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, 'claim.remit.received', 'pending', ?, ?)").bind(`dlv_${tag}`, sub.id, `dev_${tag}`, now, now),
      ]);
      ids.push(`dlv_${tag}`);
    }
    return { sub, ids };
  };
  const consume = async (ids: string[]) => {
    const batch = createMessageBatch("claimgate-deliveries", ids.map((id, i) => ({ id: `m-${id}-${i}`, timestamp: new Date(), attempts: 1, body: { deliveryId: id } })));
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };

  it("a success in the batch clears the failing run; only failures start one, at the first failure", async () => {
    // fail-once: of two concurrent sends to the same endpoint, one gets 500 and the other 200
    const mixed = await deliveriesOf("https://receiver.test/batch-health/fail-once", 2);
    const result = await consume(mixed.ids);
    expect(result.retryMessages).toHaveLength(1);
    const [sub] = await rows<any>("SELECT failing_since, last_success_at FROM subscriptions WHERE id = ?", mixed.sub.id);
    expect(sub.failing_since).toBeNull();
    expect(sub.last_success_at).toMatch(/^\d{4}-/);
    expect((await rows<any>("SELECT status FROM deliveries WHERE id IN (?, ?) ORDER BY status", ...mixed.ids)).map((d) => d.status)).toEqual(["delivered", "pending"]);

    const down = await deliveriesOf("https://receiver.test/batch-health-down/down", 3);
    await consume(down.ids);
    const [failing] = await rows<any>("SELECT failing_since FROM subscriptions WHERE id = ?", down.sub.id);
    const [first] = await rows<any>("SELECT min(at) AS at FROM delivery_attempts WHERE delivery_id IN (?, ?, ?)", ...down.ids);
    expect(failing.failing_since).toBe(first.at);
    expect(await rows<any>("SELECT attempt FROM delivery_attempts WHERE delivery_id IN (?, ?, ?)", ...down.ids)).toHaveLength(3);
  });
});
