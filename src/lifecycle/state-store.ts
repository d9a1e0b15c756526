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
 * What is written: rows are compared by position with what SQLite holds. A row that is the very object
 * saved there last is unchanged (saved rows are frozen, so none can change in place unnoticed: an
 * assignment to one throws); any other row is written when its JSON text differs from the stored text. So
 * reordered, removed or rebuilt rows are stored as they are, and an operation pays the JSON of the rows it
 * made, not of the whole lifecycle (stringifying every row per operation was a tenth of a payment's
 * JavaScript in the object, bench/payments profile).
 */
const ROW_KINDS = ["payments", "credits", "allocationsOut", "allocationsReversed", "allocationsIn"] as const;
type RowKind = (typeof ROW_KINDS)[number];

/**
 * What the last save or load left in SQLite, by kind and position: each row's JSON text and its object;
 * and the facts-and-figures row's text (`core`), which most payments leave as it was (once the patient's
 * responsibility is met, a payment only adds credit), so it is written only when its text changed.
 */
export type StoredRows = Record<RowKind, { texts: string[]; rows: readonly unknown[] }> & { core?: string };

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
  // (the row kinds left out by a rest pattern: deleting them from a copy made every save's object a slow dictionary)
  const { payments: _payments, credits: _credits, allocationsOut: _out, allocationsReversed: _reversed, allocationsIn: _in, ...core } = next;
  const coreText = serializeState(core as LifecycleState);
  if (coreText !== stored?.core) sql.exec("INSERT INTO lifecycle_state (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state", coreText);
  if (!stored) sql.exec("DELETE FROM lifecycle_rows");
  const after = { core: coreText } as StoredRows;
  for (const kind of ROW_KINDS) after[kind] = saveRows(sql, kind, stored?.[kind] ?? { texts: [], rows: [] }, next[kind]);
  return after;
}

function saveRows(sql: SqlStorage, kind: RowKind, before: StoredRows[RowKind], rows: readonly unknown[]): StoredRows[RowKind] {
  const texts = rows.map((row, pos) => {
    if (pos < before.rows.length && row === before.rows[pos]) return before.texts[pos]!;
    const text = JSON.stringify(Object.freeze(row));
    if (pos >= before.texts.length) sql.exec("INSERT INTO lifecycle_rows (kind, pos, row) VALUES (?, ?, ?)", kind, pos, text);
    else if (before.texts[pos] !== text) sql.exec("UPDATE lifecycle_rows SET row = ? WHERE kind = ? AND pos = ?", text, kind, pos);
    return text;
  });
  if (before.texts.length > texts.length) sql.exec("DELETE FROM lifecycle_rows WHERE kind = ? AND pos >= ?", kind, texts.length);
  return { texts, rows: [...rows] };
}

/** The stored state and its rows as stored; null when the object holds no lifecycle yet. */
export function loadState(sql: SqlStorage): { state: LifecycleState; stored: StoredRows | null } | null {
  const [row] = sql.exec<{ state: string }>("SELECT state FROM lifecycle_state WHERE id = 1").toArray();
  if (!row) return null;
  const state = deserializeState(row.state);
  // the earlier form kept everything in the one value: it is read as it is and rewritten row by row next time
  if (Array.isArray((state as Partial<LifecycleState>).payments)) return { state, stored: null };
  const texts = Object.fromEntries(ROW_KINDS.map((kind) => [kind, [] as string[]])) as Record<RowKind, string[]>;
  for (const r of sql.exec<{ kind: RowKind; row: string }>("SELECT kind, row FROM lifecycle_rows ORDER BY kind, pos")) texts[r.kind]?.push(r.row);
  const stored = { core: row.state } as StoredRows;
  const rows = state as unknown as Record<RowKind, unknown[]>;
  for (const kind of ROW_KINDS) {
    rows[kind] = texts[kind].map((text) => Object.freeze(JSON.parse(text)));
    stored[kind] = { texts: texts[kind], rows: [...rows[kind]] };
  }
  return { state, stored };
}
