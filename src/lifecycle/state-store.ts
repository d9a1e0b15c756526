import { deserializeState, serializeState, type LifecycleState } from "./store";

/**
 * How a ClaimLifecycle object keeps its LifecycleState in its own SQLite: the lifecycle's facts and
 * figures as one small JSON row, and its payments, credits and allocations one row each, so an operation
 * writes what it changed, not the whole lifecycle.
 *
 * Why: the state was one JSON value rewritten by every operation, about 940 bytes per payment (its row, its
 * stored answer, its credit). A lifecycle of 100 payments wrote ~94 KB into SQLite for each new payment
 * (bench/payments: the object's share of a payment's time grew with the lifecycle), and a Durable Object's
 * SQLite refuses any value over 2 MB (Cloudflare's documented limit; the local runtime does not enforce
 * it), so a lifecycle of about 2,000 payments would have stopped taking payments altogether. Now an
 * operation writes the small row, the rows it added and the rows whose content changed.
 *
 * What is written is decided by content, not by object identity: each stored row's JSON text is kept in
 * memory, and a row is written when its text differs from the text stored at its position. An operation
 * that changed a row in place, reordered or removed rows is therefore stored as it is, like any other.
 */
const ROW_KINDS = ["payments", "credits", "allocationsOut", "allocationsReversed", "allocationsIn"] as const;
type RowKind = (typeof ROW_KINDS)[number];

/** The JSON text of each stored row, by kind and position: what the last save or load left in SQLite. */
export type StoredRows = Record<RowKind, string[]>;

export function initStateStore(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS lifecycle_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
  sql.exec("CREATE TABLE IF NOT EXISTS lifecycle_rows (kind TEXT NOT NULL, pos INTEGER NOT NULL, row TEXT NOT NULL, PRIMARY KEY (kind, pos)) WITHOUT ROWID");
}

/**
 * Stores `next` (call inside the transaction that queues its D1 statements). `stored` is what SQLite holds
 * now, as the last save or load returned it; null when unknown (nothing stored yet, or a state kept in the
 * earlier single-value form), which writes every row. Returns what SQLite holds afterwards.
 */
export function saveState(sql: SqlStorage, stored: StoredRows | null, next: LifecycleState): StoredRows {
  const core: Record<string, unknown> = { ...next };
  for (const kind of ROW_KINDS) delete core[kind];
  sql.exec("INSERT INTO lifecycle_state (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state", serializeState(core as unknown as LifecycleState));
  if (!stored) sql.exec("DELETE FROM lifecycle_rows");
  const after = {} as StoredRows;
  for (const kind of ROW_KINDS) after[kind] = saveRows(sql, kind, stored?.[kind] ?? [], next[kind]);
  return after;
}

function saveRows(sql: SqlStorage, kind: RowKind, before: string[], rows: readonly unknown[]): string[] {
  const texts = rows.map((row) => JSON.stringify(row));
  texts.forEach((text, pos) => {
    if (pos >= before.length) sql.exec("INSERT INTO lifecycle_rows (kind, pos, row) VALUES (?, ?, ?)", kind, pos, text);
    else if (before[pos] !== text) sql.exec("UPDATE lifecycle_rows SET row = ? WHERE kind = ? AND pos = ?", text, kind, pos);
  });
  if (before.length > texts.length) sql.exec("DELETE FROM lifecycle_rows WHERE kind = ? AND pos >= ?", kind, texts.length);
  return texts;
}

/** The stored state and its rows as stored; null when the object holds no lifecycle yet. */
export function loadState(sql: SqlStorage): { state: LifecycleState; stored: StoredRows | null } | null {
  const [row] = sql.exec<{ state: string }>("SELECT state FROM lifecycle_state WHERE id = 1").toArray();
  if (!row) return null;
  const state = deserializeState(row.state);
  // the earlier form kept everything in the one value: it is read as it is and rewritten row by row next time
  if (Array.isArray((state as Partial<LifecycleState>).payments)) return { state, stored: null };
  const stored = Object.fromEntries(ROW_KINDS.map((kind) => [kind, [] as string[]])) as unknown as StoredRows;
  for (const r of sql.exec<{ kind: RowKind; row: string }>("SELECT kind, row FROM lifecycle_rows ORDER BY kind, pos")) stored[r.kind]?.push(r.row);
  const rows = state as unknown as Record<RowKind, unknown[]>;
  for (const kind of ROW_KINDS) rows[kind] = stored[kind].map((text) => JSON.parse(text));
  return { state, stored };
}
