import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * Who first used a payment trace id (issue 17). A trace id names one payment across every lifecycle, and
 * the lifecycle objects write D1 later through their outboxes, so D1's unique index can no longer be the
 * one that says "taken": a registry shard does, at once. Trace keys spread over SHARDS objects by hash;
 * each answers from its own SQLite with no awaits, so two claims of one key can never interleave.
 */
export type TraceClaim = { outcome: "new" } | { outcome: "same" } | { outcome: "conflict"; billId: string; amountCents: number };

export const TRACE_REGISTRY_SHARDS = 16;

export class TraceRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS traces (trace_key TEXT PRIMARY KEY, bill_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, created_at TEXT NOT NULL)",
    );
  }

  /** Takes the trace key for this bill and amount; the same bill and amount again is the same payment. */
  claim(traceKey: string, billId: string, amountCents: number): TraceClaim {
    const sql = this.ctx.storage.sql;
    const [row] = sql.exec<{ bill_id: string; amount_cents: number }>("SELECT bill_id, amount_cents FROM traces WHERE trace_key = ?", traceKey).toArray();
    if (row) return row.bill_id === billId && Number(row.amount_cents) === amountCents ? { outcome: "same" } : { outcome: "conflict", billId: row.bill_id, amountCents: Number(row.amount_cents) };
    sql.exec("INSERT INTO traces (trace_key, bill_id, amount_cents, created_at) VALUES (?, ?, ?, ?)", traceKey, billId, amountCents, new Date().toISOString());
    return { outcome: "new" };
  }

  /** The bill and amount a trace key was taken for, if it was. */
  lookup(traceKey: string): { billId: string; amountCents: number } | null {
    const [row] = this.ctx.storage.sql.exec<{ bill_id: string; amount_cents: number }>("SELECT bill_id, amount_cents FROM traces WHERE trace_key = ?", traceKey).toArray();
    return row ? { billId: row.bill_id, amountCents: Number(row.amount_cents) } : null;
  }

  /** Gives a key back when its payment was refused (no claim, no remit yet), so it may name another bill later. */
  release(traceKey: string, billId: string, amountCents: number): void {
    this.ctx.storage.sql.exec("DELETE FROM traces WHERE trace_key = ? AND bill_id = ? AND amount_cents = ?", traceKey, billId, amountCents);
  }
}

/** The registry shard a trace key belongs to (FNV-1a of the key). */
export function traceRegistryFor(env: Env, traceKey: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < traceKey.length; i++) h = Math.imul(h ^ traceKey.charCodeAt(i), 0x01000193) >>> 0;
  return env.TRACE_REGISTRY.get(env.TRACE_REGISTRY.idFromName(`trace-shard-${h % TRACE_REGISTRY_SHARDS}`));
}
