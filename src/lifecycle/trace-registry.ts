import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * Who first used a payment trace id (issue 17). A trace id names one payment across every lifecycle, and
 * the lifecycle objects write D1 later through their outboxes, so D1's unique index can no longer be the
 * one that says "taken": a registry shard does, at once. Trace keys spread over TRACE_REGISTRY_SHARDS
 * objects by hash; once a shard is ready, each answer is synchronous SQLite (no awaits), so two claims of
 * one key can never interleave.
 *
 * Payments D1 held before the registry existed are imported once per shard, in pages, before the shard
 * answers (`ready`); until a shard has imported them all its answers say `legacyChecked: false`, and the
 * caller asks D1 as well. A fresh deployment imports nothing and never asks D1.
 */
export type TraceClaim = ({ outcome: "new" } | { outcome: "same" } | { outcome: "conflict"; billId: string; amountCents: number }) & { legacyChecked: boolean };

export const TRACE_REGISTRY_SHARDS = 16;

/** Pages of legacy payments a shard imports before it answers (the rest on later calls). */
const IMPORT_PAGES_PER_CALL = 20;
const IMPORT_PAGE = 500;

export class TraceRegistry extends DurableObject<Env> {
  private importing: Promise<boolean> | null = null;
  /** Once the import is done it stays done: remembered, so a claim reads no meta row. */
  private imported = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS traces (trace_key TEXT PRIMARY KEY, bill_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, created_at TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  /** Takes the trace key for this bill and amount; the same bill and amount again is the same payment. */
  async claim(shard: number, traceKey: string, billId: string, amountCents: number): Promise<TraceClaim> {
    const legacyChecked = await this.ready(shard);
    const sql = this.ctx.storage.sql;
    const [row] = sql.exec<{ bill_id: string; amount_cents: number }>("SELECT bill_id, amount_cents FROM traces WHERE trace_key = ?", traceKey).toArray();
    if (row) {
      return row.bill_id === billId && Number(row.amount_cents) === amountCents
        ? { outcome: "same", legacyChecked }
        : { outcome: "conflict", billId: row.bill_id, amountCents: Number(row.amount_cents), legacyChecked };
    }
    sql.exec("INSERT INTO traces (trace_key, bill_id, amount_cents, created_at) VALUES (?, ?, ?, ?)", traceKey, billId, amountCents, new Date().toISOString());
    return { outcome: "new", legacyChecked };
  }

  /** The bill and amount a trace key was taken for, if it was (null also while legacy payments are not all imported). */
  async lookup(shard: number, traceKey: string): Promise<{ billId: string; amountCents: number } | null> {
    await this.ready(shard);
    const [row] = this.ctx.storage.sql.exec<{ bill_id: string; amount_cents: number }>("SELECT bill_id, amount_cents FROM traces WHERE trace_key = ?", traceKey).toArray();
    return row ? { billId: row.bill_id, amountCents: Number(row.amount_cents) } : null;
  }

  /** Gives a key back when its payment was refused (no claim, no remit yet), so it may name another bill later. */
  release(traceKey: string, billId: string, amountCents: number): void {
    this.ctx.storage.sql.exec("DELETE FROM traces WHERE trace_key = ? AND bill_id = ? AND amount_cents = ?", traceKey, billId, amountCents);
  }

  /** True once every payment D1 held before the registry is imported (one import at a time). */
  private async ready(shard: number): Promise<boolean> {
    if (this.imported || (this.imported = this.meta("legacy_import") === "done")) return true;
    this.importing ??= this.importLegacy(shard).finally(() => (this.importing = null));
    return this.importing;
  }

  private async importLegacy(shard: number): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    let cursor = this.meta("legacy_cursor") ?? "";
    for (let page = 0; page < IMPORT_PAGES_PER_CALL; page++) {
      const { results } = await this.env.DB.prepare(
        "SELECT id, trace_key, bill_id, amount_cents, created_at FROM patient_payment_details WHERE trace_key LIKE 'trace:%' AND id > ? ORDER BY id LIMIT ?",
      )
        .bind(cursor, IMPORT_PAGE)
        .all<{ id: string; trace_key: string; bill_id: string; amount_cents: number; created_at: string }>();
      this.ctx.storage.transactionSync(() => {
        for (const r of results) {
          if (traceShard(r.trace_key) !== shard) continue;
          sql.exec("INSERT OR IGNORE INTO traces (trace_key, bill_id, amount_cents, created_at) VALUES (?, ?, ?, ?)", r.trace_key, r.bill_id, r.amount_cents, r.created_at);
        }
        if (results.length) this.setMeta("legacy_cursor", (cursor = results[results.length - 1]!.id));
        if (results.length < IMPORT_PAGE) this.setMeta("legacy_import", "done");
      });
      if (results.length < IMPORT_PAGE) return true;
    }
    return false;
  }

  private meta(key: string): string | null {
    const [row] = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray();
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.ctx.storage.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }
}

/** The registry shard of a trace key (FNV-1a). */
export function traceShard(traceKey: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < traceKey.length; i++) h = Math.imul(h ^ traceKey.charCodeAt(i), 0x01000193) >>> 0;
  return h % TRACE_REGISTRY_SHARDS;
}

/** The registry shard a trace key belongs to, and its number (its calls carry it). */
export function traceRegistryFor(env: Env, traceKey: string) {
  const shard = traceShard(traceKey);
  return { shard, stub: env.TRACE_REGISTRY.get(env.TRACE_REGISTRY.idFromName(`trace-shard-${shard}`)) };
}
