import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * One object per throttled subscription: the single place that hands out send times, so `rateLimit`
 * deliveries per second holds across every isolate and queue batch. Each call reserves the next free
 * slot, 1/rate seconds after the previous one; the caller waits until its slot (or, far ahead, is retried
 * by the queue with that delay). Deliveries are delayed, never dropped. The last slot is kept in storage
 * so a restarted object does not hand out a slot that was already used.
 */
const SLOT_MARGIN_MS = 20;

export class SubscriptionThrottle extends DurableObject<Env> {
  private next: number | null = null;

  /** Milliseconds until the caller may send (0: now). */
  async reserve(ratePerSecond: number, now = Date.now()): Promise<number> {
    if (this.next === null) this.next = ((await this.ctx.storage.get<number>("next")) ?? 0);
    // 20 ms over the exact interval: jitter on the way must not make a receiver see two closer than 1/rate
    const interval = 1000 / Math.max(ratePerSecond, 0.001) + SLOT_MARGIN_MS;
    const slot = Math.max(now, this.next);
    this.next = slot + interval;
    await this.ctx.storage.put("next", this.next);
    return slot - now;
  }
}
