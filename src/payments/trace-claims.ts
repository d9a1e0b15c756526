import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { chunk, D1_MAX_BOUND_PARAMETERS, nowIso } from "../db/client";
import { paymentTraces } from "../db/schema";
import type { WithEvents } from "../ingest/ingest";

/**
 * A payment trace id names one payment across every lifecycle: the first bill and amount to use it take it
 * (payment_traces), the same bill and amount again is the same payment (its first answer comes back), and
 * another bill or amount is a conflict. A payment that arrives as a partner event takes its trace id in the
 * D1 batch that stores the event (`traceClaimsWithEvents`), so both commit together and taking it costs no
 * round trip of its own; a payment re-applied from a stored event (the sweep) takes it by itself.
 */
export interface TraceClaimInput {
  traceKey: string;
  billId: string;
  amountCents: number;
}

export type TraceClaim = { outcome: "new" } | { outcome: "same" } | { outcome: "conflict"; billId: string; amountCents: number };

type Holder = { trace_key: string; bill_id: string; amount_cents: number };

/**
 * Taking the trace ids of one D1 batch's payments, with their events, in three steps:
 * 1. a payment D1 already holds for one of the keys is copied in first (INSERT OR IGNORE from
 *    patient_payment_details, by its unique index): payments written before payment_traces existed, or
 *    by a lifecycle object still running the earlier code during a deployment and flushed since, keep
 *    their trace ids taken, whatever the order of migration and deployment;
 * 2. multi-row inserts take each key nobody holds (a key comes back only where the insert took it; the
 *    first row of a key in the batch takes it, as the first of that many requests one after another would);
 * 3. one read of who holds each key.
 * A few statements whatever the batch holds, not two per payment: D1 applies its per-query limits to each
 * statement of a batch, and the leader of a busy ingest runs many batches in one invocation, so the
 * batches stay as small as the events' own inserts allow.
 */
export const traceClaimsWithEvents: WithEvents<TraceClaimInput, TraceClaim> = {
  statements: (d1, claims) => {
    const at = nowIso();
    const keys = keysOf(claims);
    return [
      ...chunk(keys, D1_MAX_BOUND_PARAMETERS).map((part) => d1.prepare(importSql(part.length)).bind(...part)),
      ...chunk(claims, ROWS_PER_TAKE).map((part) => d1.prepare(takeSql(part.length)).bind(...part.flatMap((c) => [c.traceKey, c.billId, c.amountCents, at]))),
      ...chunk(keys, D1_MAX_BOUND_PARAMETERS).map((part) => d1.prepare(holdersSql(part.length)).bind(...part)),
    ];
  },
  read: (results, claims) => {
    const imports = Math.ceil(keysOf(claims).length / D1_MAX_BOUND_PARAMETERS);
    const takes = Math.ceil(claims.length / ROWS_PER_TAKE);
    const taken = new Set(results.slice(imports, imports + takes).flatMap((r) => (r.results as { trace_key: string }[]).map((row) => row.trace_key)));
    const holders = new Map(results.slice(imports + takes).flatMap((r) => (r.results as Holder[]).map((row) => [row.trace_key, row] as const)));
    return claims.map((claim) => {
      // only the first claim of a key it took is the one that took it; the rest compare with the holder
      if (taken.delete(claim.traceKey)) return { outcome: "new" };
      const holder = holders.get(claim.traceKey);
      if (!holder) throw new Error(`payment trace ${claim.traceKey}: not taken and not held`);
      return holder.bill_id === claim.billId && Number(holder.amount_cents) === claim.amountCents
        ? { outcome: "same" }
        : { outcome: "conflict", billId: holder.bill_id, amountCents: Number(holder.amount_cents) };
    });
  },
};

const ROWS_PER_TAKE = Math.floor(D1_MAX_BOUND_PARAMETERS / 4);
const keysOf = (claims: TraceClaimInput[]) => [...new Set(claims.map((c) => c.traceKey))];
const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

const importSql = (keys: number) =>
  `INSERT OR IGNORE INTO "payment_traces" ("trace_key", "bill_id", "amount_cents", "created_at") SELECT "trace_key", "bill_id", "amount_cents", "created_at" FROM "patient_payment_details" WHERE "trace_key" IN (${marks(keys)})`;
const takeSql = (rows: number) =>
  `INSERT INTO "payment_traces" ("trace_key", "bill_id", "amount_cents", "created_at") VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?)").join(", ")} ON CONFLICT DO NOTHING RETURNING "trace_key"`;
const holdersSql = (keys: number) => `SELECT "trace_key", "bill_id", "amount_cents" FROM "payment_traces" WHERE "trace_key" IN (${marks(keys)})`;

/** Takes a trace id by itself (one D1 batch). */
export async function claimTrace(d1: D1Database, claim: TraceClaimInput): Promise<TraceClaim> {
  const [taken] = traceClaimsWithEvents.read(await d1.batch(traceClaimsWithEvents.statements(d1, [claim])), [claim]);
  return taken!;
}

/** Gives a trace id back when its payment was refused (no claim, no remit yet), so it may name another bill later. */
export async function releaseTrace(db: Db, claim: TraceClaimInput): Promise<void> {
  await db
    .delete(paymentTraces)
    .where(and(eq(paymentTraces.traceKey, claim.traceKey), eq(paymentTraces.billId, claim.billId), eq(paymentTraces.amountCents, claim.amountCents)));
}

/** The bill and amount a trace key was taken for, if it was. */
export async function traceHolder(db: Db, traceKey: string): Promise<{ billId: string; amountCents: number } | null> {
  const [row] = await db.select({ billId: paymentTraces.billId, amountCents: paymentTraces.amountCents }).from(paymentTraces).where(eq(paymentTraces.traceKey, traceKey));
  return row ?? null;
}
