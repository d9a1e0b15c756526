import { Batcher } from "../ingest/batcher";
import type { Statement } from "./store";

/**
 * The lifecycle object's outbox: the D1 statements of each operation, kept in the object's own SQLite in
 * the same transaction as the state they bring D1 to, and flushed to D1 later (by the object's alarm),
 * in order and exactly once.
 *
 * Why exactly once holds: a D1 batch of entries starts by inserting (lifecycle, seq) into
 * lifecycle_outbox_applied for its first entry and its last, and D1 runs a batch atomically. Entries are
 * deleted here only after their batch committed, and always sent from the oldest kept; so if the object
 * dies between the commit and the delete, the next flush starts at the same first entry, its marker
 * collides, the whole batch rolls back, and the flush asks D1 how far it got (the highest marker: the
 * committed batch's last entry) and drops what D1 already holds. Each batch prunes the markers below its
 * first seq, so D1 keeps a few per lifecycle.
 * Why first and last, not a marker per entry: the last is what "how far" reads, and the entries between
 * need none (a marker row per payment was a D1 statement and two row writes each, an insert and its
 * prune). An entry's seq never repeats (AUTOINCREMENT), so a new batch's markers are above every kept one.
 * Markers written one per entry, as before, read the same way.
 * Why in order: entries are flushed by ascending seq, a batch at a time, one flush at a time.
 */

/** A statement as kept: SQL text and its bound values (drizzle's toSQL()). */
export interface StoredStatement {
  sql: string;
  params: unknown[];
}

export interface OutboxEntry {
  seq: number;
  statements: StoredStatement[];
}

/** How many entries one D1 batch carries at most. */
const ENTRIES_PER_BATCH = 50;

/**
 * The most characters of an entry's statements one SQLite value holds; a longer entry continues in
 * outbox_parts. Why: a Durable Object's SQLite refuses any value over 2 MB (Cloudflare's documented limit;
 * the local runtime does not enforce it), and an operation's statements can pass that: a reconcile that
 * moves the shares of ~2,000 payments writes each one's share and its PaymentReconciliation (~1 KB).
 * 500,000 UTF-16 units are at most 1.5 MB of UTF-8 (3 bytes per unit at most; a pair of 2 is 4 bytes).
 */
export const OUTBOX_CHUNK_CHARS = 500_000;

export function initOutbox(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, statements TEXT NOT NULL, created_at TEXT NOT NULL)");
  // the rest of an entry longer than OUTBOX_CHUNK_CHARS, in order (part 1, 2, …; the outbox row is part 0)
  sql.exec("CREATE TABLE IF NOT EXISTS outbox_parts (seq INTEGER NOT NULL, part INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (seq, part)) WITHOUT ROWID");
}

/**
 * Queues one operation's statements (call inside the transaction that stores the state they write): one
 * outbox row, continued in outbox_parts when its text is longer than `chunkChars`.
 */
export function append(sql: SqlStorage, statements: Statement[], now: string, chunkChars = OUTBOX_CHUNK_CHARS): void {
  if (statements.length === 0) return;
  const stored: StoredStatement[] = statements.map((s) => {
    const q = (s as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
    return { sql: q.sql, params: q.params };
  });
  const [first, ...rest] = chunks(JSON.stringify(stored), chunkChars);
  const { seq } = sql.exec<{ seq: number }>("INSERT INTO outbox (statements, created_at) VALUES (?, ?) RETURNING seq", first, now).one();
  rest.forEach((text, i) => sql.exec("INSERT INTO outbox_parts (seq, part, text) VALUES (?, ?, ?)", seq, i + 1, text));
}

/** `text` in pieces of at most `size` UTF-16 units, never splitting a surrogate pair (SQLite stores UTF-8). */
export function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length || out.length === 0; ) {
    let end = Math.min(text.length, at + Math.max(2, size));
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

export function pendingCount(sql: SqlStorage): number {
  return Number(sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n);
}

export function oldestPendingAt(sql: SqlStorage): string | null {
  const [row] = sql.exec<{ at: string }>("SELECT created_at AS at FROM outbox ORDER BY seq LIMIT 1").toArray();
  return row?.at ?? null;
}

function pending(sql: SqlStorage, limit: number): OutboxEntry[] {
  const rows = sql.exec<{ seq: number; statements: string }>("SELECT seq, statements FROM outbox ORDER BY seq LIMIT ?", limit).toArray();
  if (rows.length === 0) return [];
  const rest = new Map<number, string[]>();
  for (const p of sql.exec<{ seq: number; text: string }>("SELECT seq, text FROM outbox_parts WHERE seq BETWEEN ? AND ? ORDER BY seq, part", rows[0]!.seq, rows[rows.length - 1]!.seq)) {
    const seq = Number(p.seq);
    const parts = rest.get(seq);
    if (parts) parts.push(p.text);
    else rest.set(seq, [p.text]);
  }
  return rows.map((r) => {
    const seq = Number(r.seq);
    return { seq, statements: JSON.parse(r.statements + (rest.get(seq)?.join("") ?? "")) as StoredStatement[] };
  });
}

/** Forgets the entries up to `seq` (D1 holds them): one synchronous step, so the object's storage commits both deletes together. */
function forget(sql: SqlStorage, seq: number): void {
  sql.exec("DELETE FROM outbox WHERE seq <= ?", seq);
  sql.exec("DELETE FROM outbox_parts WHERE seq <= ?", seq);
}

const isMarkerCollision = (e: unknown) => /UNIQUE constraint failed: lifecycle_outbox_applied/.test(String((e as Error)?.message ?? e));

/** What a flush sent: entries D1 newly applied, and how many of their statements recorded domain events. */
export interface Flushed {
  entries: number;
  domainEvents: number;
}

const recordsDomainEvent = (s: StoredStatement) => s.sql.startsWith('insert into "domain_events"');

/** Sends one flush's statements to D1 as one atomic batch (rejects with D1's error). */
export type SendBatch = (statements: StoredStatement[]) => Promise<void>;

/** One flush alone: its own D1 round trip. */
export const sendAlone =
  (d1: D1Database): SendBatch =>
  async (statements) => {
    await d1.batch(statements.map((s) => d1.prepare(s.sql).bind(...s.params)));
  };

type Sent = { ok: true } | { ok: false; error: unknown };

/**
 * The flushes of the lifecycle objects in one isolate share D1 round trips (group commit, src/ingest/batcher.ts):
 * a flush submitted while another object's is in flight goes with the next one, in one D1 batch.
 *
 * Why: a quiet lifecycle flushes each payment by itself (a payment, 100 ms, its flush), so with many
 * lifecycles each taking a payment now and then, as in production, every payment paid a D1 round trip and
 * a D1 commit of its own for its flush (bench/payments over 400 lifecycles: 0.95 flushes per payment, 2.1 D1
 * round trips per payment against 0.37 over 20 busy ones). The objects' alarms are aligned on a grid
 * (nextFlushAt) so that flushes due in the same moment meet here.
 *
 * What each object keeps: its statements still run in order and atomically, with nothing of another
 * object's in between, and exactly once holds per object (its markers are its own: top of this file). D1 runs
 * the combined batch as one transaction, so one object's failure (a marker that collides after a crash, a
 * statement D1 refuses) would roll back the others' too; then each object's batch runs again by itself
 * (nothing of the combined one committed) and only the failing object sees its error. Each object has at
 * most one flush in flight, so there is no order between objects to keep.
 */
export function sendShared(d1: D1Database, waitUntil: (work: Promise<unknown>) => void): SendBatch {
  let batcher = sharedSenders.get(d1);
  if (!batcher) {
    const alone = (statements: StoredStatement[]): Promise<Sent> => sendAlone(d1)(statements).then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, error }) as const,
    );
    batcher = new Batcher<StoredStatement[], Sent>(
      async (flushes) => {
        if (flushes.length === 1) return [await alone(flushes[0]!)];
        const all = await alone(flushes.flat());
        return all.ok ? flushes.map(() => all) : Promise.all(flushes.map(alone));
      },
      // A leader sends others' flushes in its own invocation, and D1 counts queries per invocation: two
      // rounds, then the next object to flush leads (an object's own flush loop sends up to 50 entries a batch).
      { maxItems: 32, weight: (statements) => statements.length, maxWeight: SHARED_BATCH_STATEMENTS, maxRounds: 2 },
    );
    sharedSenders.set(d1, batcher);
  }
  const shared = batcher;
  return async (statements) => {
    const sent = await shared.submit(statements, waitUntil);
    if (!sent.ok) throw sent.error;
  };
}

const sharedSenders = new WeakMap<D1Database, Batcher<StoredStatement[], Sent>>();
/** Statements per shared D1 batch (one object's larger flush still goes alone). */
const SHARED_BATCH_STATEMENTS = 400;

/**
 * Sends every pending entry to D1, oldest first, through `send`. Throws when D1 fails (the entries stay
 * queued, and the alarm tries again).
 */
export async function flushOutbox(sql: SqlStorage, d1: D1Database, lifecycleId: string, now: () => string, send: SendBatch = sendAlone(d1)): Promise<Flushed> {
  const flushed: Flushed = { entries: 0, domainEvents: 0 };
  for (;;) {
    const entries = pending(sql, ENTRIES_PER_BATCH);
    if (entries.length === 0) return flushed;
    const first = entries[0]!.seq;
    const last = entries[entries.length - 1]!.seq;
    const at = now();
    const batch: StoredStatement[] = [];
    const marker = (seq: number) => ({ sql: "INSERT INTO lifecycle_outbox_applied (lifecycle_id, seq, applied_at) VALUES (?, ?, ?)", params: [lifecycleId, seq, at] });
    batch.push(marker(first));
    for (const entry of entries) batch.push(...entry.statements);
    if (last !== first) batch.push(marker(last));
    batch.push({ sql: "DELETE FROM lifecycle_outbox_applied WHERE lifecycle_id = ? AND seq < ?", params: [lifecycleId, first] });
    try {
      await send(batch);
      flushed.entries += entries.length;
      // (counted as sent: an insert a marker collision rolled back is not; one that found its row is, harmlessly)
      for (const entry of entries) flushed.domainEvents += entry.statements.filter(recordsDomainEvent).length;
      forget(sql, last);
    } catch (e) {
      if (!isMarkerCollision(e)) throw e;
      // An earlier flush committed but was not recorded here: drop what D1 holds, send the rest.
      const row = await d1.prepare("SELECT max(seq) AS seq FROM lifecycle_outbox_applied WHERE lifecycle_id = ?").bind(lifecycleId).first<{ seq: number | null }>();
      const done = Number(row?.seq ?? 0);
      if (done < first) throw e;
      forget(sql, done);
    }
  }
}
