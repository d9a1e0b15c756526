import { and, eq, inArray } from "drizzle-orm";
import type { z } from "zod";
import { newId } from "../crypto/ids";
import { sha256Hex } from "../crypto/hmac";
import type { Db } from "../db/client";
import { chunk, D1_MAX_BOUND_PARAMETERS, database, nowIso } from "../db/client";
import { events } from "../db/schema";
import type { Env } from "../env";
import { ApiError, payloadInvalid, storageUnavailable } from "../errors";
import { errorText, log } from "../log";
import { adapterFor } from "../partners/registry";
import type { ResolvedSource } from "../sources/repository";
import { credentialHeaders, verifyRequest } from "../verify";
import { Batcher } from "./batcher";
import { parseJsonBodyText } from "./read-body";

export interface IngestResult<W = never> {
  eventId: string;
  duplicate: boolean;
  /** The validated payload (for callers, such as patient payments, that act on it synchronously). */
  payload: unknown;
  /** What the writes made with the event answered (null when there were none). */
  withEventAnswer: W | null;
}

/**
 * Writes that must commit with their events, in the same D1 batch (one transaction, no round trip of their
 * own): a patient payment's trace id is taken as its event is stored (src/payments/trace-claims.ts). One
 * set of statements serves every item of a batch that has such writes (a few statements per batch, not
 * some per event), and `read` gets back those statements' results and answers each input, in order.
 */
export interface WithEvents<I, W> {
  statements: (d1: D1Database, inputs: I[]) => D1PreparedStatement[];
  read: (results: D1Result[], inputs: I[]) => W[];
}

/** One event's part of such writes. */
export interface WithEvent<W> {
  writes: WithEvents<unknown, W>;
  input: unknown;
}

/** An event's part of writes of a kind (for ingest's `writesWithEvent` option). */
export const withEvent = <I, W>(writes: WithEvents<I, W>, input: I): WithEvent<W> => ({ writes: writes as WithEvents<unknown, W>, input });

/**
 * verify → parse → validate → store once → enqueue. Every failure before the insert leaves storage
 * untouched; a failed enqueue after it leaves the event pending for the outbox sweep.
 */
export async function ingest<W = never>(
  env: Env,
  source: ResolvedSource,
  headers: Headers,
  body: Uint8Array,
  waitUntil: (work: Promise<unknown>) => void,
  options: { enqueue?: boolean; request?: { method: string; url: string }; writesWithEvent?: (payload: unknown) => WithEvent<W> | null } = {},
): Promise<IngestResult<W>> {
  const verdict = await authenticate(source, headers, body, options.request);
  const adapter = adapterFor(source.kind);
  if (!adapter) throw new ApiError(500, "KIND_NOT_SUPPORTED", `Source kind ${source.kind} has no adapter.`);
  let parsed: { data: unknown; text: string };
  try {
    parsed = parseAndValidate(body, adapter.schema);
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) throw await keepInvalid(env, source, headers, body, e, waitUntil);
    throw e;
  }

  // Dedup key: the scheme's event id (webhook-id, a configured id header), else the payload's own event
  // id (Stripe), else the SHA-256 of the exact body bytes.
  const partnerId = verdict.eventId ?? adapter.partnerEventId?.(parsed.data) ?? null;
  const dedupKey = partnerId ? `id:${partnerId}` : `sha256:${await sha256Hex(body)}`;

  const stored = await storeRow(
    env,
    eventRow(source, headers, { dedupKey, body: parsed.text, status: "pending", validationErrors: null, lastError: null }),
    // Synchronous kinds (patient payments) are applied by their route; the sweep still recovers them.
    options.enqueue !== false,
    waitUntil,
    options.writesWithEvent?.(parsed.data) ?? undefined,
  );
  // An accepted event is recorded by its row (and the invocation log); a duplicate is worth a line.
  if (stored.duplicate) log.info("ingest.duplicate", { sourceId: source.id, eventId: stored.eventId });
  else log.debug("ingest.accepted", { sourceId: source.id, kind: source.kind, eventId: stored.eventId });
  return { eventId: stored.eventId, duplicate: stored.duplicate, payload: parsed.data, withEventAnswer: (stored.withEventAnswer ?? null) as W | null };
}

/**
 * A verified request whose body is not valid (400 MALFORMED_JSON, 422 …) is kept as an `invalid` event
 * with its errors, so nothing a partner proved it sent is lost: an operator sees it at
 * /admin/events?status=invalid and can reprocess it once the cause is fixed. The partner's answer is the
 * same error, naming the event it was kept under. Repeats of the same bytes are one event (the key is the
 * body's hash in its own namespace, so a later valid delivery with the same partner id is stored anew).
 * If it cannot be stored, the answer is 503 and the partner retries.
 */
async function keepInvalid(env: Env, source: ResolvedSource, headers: Headers, body: Uint8Array, error: ApiError, waitUntil: (work: Promise<unknown>) => void): Promise<ApiError> {
  const details = error.details ?? [{ path: "", message: error.message }];
  const row = eventRow(source, headers, {
    dedupKey: `invalid:sha256:${await sha256Hex(body)}`,
    body: new TextDecoder().decode(body),
    status: "invalid",
    validationErrors: JSON.stringify(details),
    lastError: `${error.code}: ${error.message}`,
  });
  const stored = await storeRow(env, row, false, waitUntil);
  log.info("ingest.invalid_kept", { sourceId: source.id, eventId: stored.eventId, code: error.code, duplicate: stored.duplicate });
  return new ApiError(error.status, error.code, error.message, error.details, error.headers, { eventId: stored.eventId });
}

/**
 * An event row: every row binds the same columns (status, validation errors, last error included), so the
 * rows per multi-row insert are counted once (rowsPerInsert). Stored headers never carry credentials.
 */
function eventRow(
  source: ResolvedSource,
  headers: Headers,
  fields: Pick<NewEvent["row"], "dedupKey" | "body" | "status" | "validationErrors" | "lastError">,
): NewEvent["row"] {
  return {
    id: newId("evt"),
    sourceId: source.id,
    kind: source.kind,
    headers: JSON.stringify(storableHeaders(headers, credentialHeaders(source.verification))),
    receivedAt: nowIso(),
    ...fields,
  };
}

/** Stores through the batcher; storage trouble is 503 with Retry-After (nothing half-stored). */
function storeRow(env: Env, row: NewEvent["row"], enqueue: boolean, waitUntil: (work: Promise<unknown>) => void, withEvent?: WithEvent<unknown>): Promise<Stored> {
  return storeBatcher(env)
    .submit({ row, enqueue, ...(withEvent ? { withEvent } : {}) }, waitUntil)
    .catch((e) => {
      log.error("ingest.store_failed", { sourceId: row.sourceId, error: errorText(e) });
      throw storageUnavailable();
    });
}

interface NewEvent {
  row: typeof events.$inferInsert & { id: string; body: string; headers: string };
  enqueue: boolean;
  withEvent?: WithEvent<unknown>;
}
type Stored = Pick<IngestResult, "eventId" | "duplicate"> & { withEventAnswer?: unknown };

/**
 * Per bindings object (so per isolate; tests that pass their own bindings get their own): the batcher
 * every request shares, and the ids already on the events queue whose enqueued_at is not written yet.
 * The leader writes those marks once no batch is waiting, many batches' worth per statement, so callers
 * are answered without waiting on that write and a busy isolate pays for it once per run, not per batch.
 * Until then the sweep leaves the events alone: it only takes events older than a minute.
 */
interface EventStore {
  batcher: Batcher<NewEvent, Stored>;
  unmarked: string[];
}
const stores = new WeakMap<Env, EventStore>();

function storeBatcher(env: Env): Batcher<NewEvent, Stored> {
  let store = stores.get(env);
  if (!store) {
    const created: EventStore = {
      unmarked: [],
      batcher: new Batcher((items) => storeEvents(env, created, items), {
        maxItems: 40, // sendBatch takes 100 messages
        weight: (item) => item.row.body.length + item.row.headers.length,
        maxWeight: 2 * 1024 * 1024, // characters of body and headers stored per D1 batch
        whenIdle: () => writeMarks(env, created),
        // Each batch costs one D1 and one queue round trip whatever its size, and at c=50 the batches held
        // about 10 events: waiting up to 4 ms for more under load made them ~16 and the ingest ratio
        // 0.61 → 0.65 (bench/ingest.mjs rounds, 2026-11-24; 3 ms 0.64–0.66, 10 ms 0.64). A lone request never waits.
        lingerMs: 4,
      }),
    };
    stores.set(env, (store = created));
  }
  return store.batcher;
}

/**
 * Stores a batch of events in one atomic D1 batch of multi-row inserts; a row that meets a stored dedup
 * key (or an earlier row of the same batch) is not inserted and its id is not returned, and only those
 * duplicates cost a second read, of the id already stored under their key. The writes made with an event
 * follow the inserts in the same batch, in the items' order. Then the new events are
 * enqueued in one sendBatch; their enqueued_at marks are left to the leader's idle time (writeMarks).
 */
async function storeEvents(env: Env, store: EventStore, items: NewEvent[]): Promise<Stored[]> {
  const db = database(env.DB);
  const rows = items.map(({ row }) => row);
  const inserts = chunk(rows, ROWS_PER_INSERT).map((part) => env.DB.prepare(insertEventsSql(part.length)).bind(...part.flatMap(insertValues)));
  const withEvents = groupWithEvents(items);
  const withStatements = withEvents.map((g) => g.writes.statements(env.DB, g.inputs));
  const results = await env.DB.batch([...inserts, ...withStatements.flat()]);
  const inserted = new Set(results.slice(0, inserts.length).flatMap((r) => (r.results as { id: string }[]).map((row) => row.id)));
  const withEventAnswers: { withEventAnswer?: unknown }[] = items.map(() => ({}));
  let next = inserts.length;
  withEvents.forEach((g, k) => {
    const own = results.slice(next, (next += withStatements[k]!.length));
    g.writes.read(own, g.inputs).forEach((answer, j) => (withEventAnswers[g.at[j]!] = { withEventAnswer: answer }));
  });
  const duplicates = rows.filter((row) => !inserted.has(row.id));
  const existing = new Map<string, string>();
  if (duplicates.length > 0) {
    const reads = duplicates.map((row) =>
      db.select({ id: events.id, sourceId: events.sourceId, dedupKey: events.dedupKey }).from(events).where(and(eq(events.sourceId, row.sourceId), eq(events.dedupKey, row.dedupKey))),
    );
    for (const [found] of (await db.batch(reads as [(typeof reads)[number]])) as { id: string; sourceId: string; dedupKey: string }[][]) {
      if (found) existing.set(keyOf(found), found.id);
    }
  }
  const stored = rows.map((row, i): Stored => {
    if (inserted.has(row.id)) return { eventId: row.id, duplicate: false, ...withEventAnswers[i] };
    const eventId = existing.get(keyOf(row));
    if (!eventId) throw new Error(`event ${row.id}: insert ignored but no event stored under its dedup key`);
    return { eventId, duplicate: true, ...withEventAnswers[i] };
  });
  const toEnqueue = stored.filter((s, i) => !s.duplicate && items[i]!.enqueue).map((s) => s.eventId);
  if (toEnqueue.length > 0 && (await sendOrLeaveToSweep(env, toEnqueue))) store.unmarked.push(...toEnqueue);
  // a leader kept busy by a long burst writes each statement's worth as soon as it has one
  if (store.unmarked.length >= MARKS_PER_UPDATE) await writeMarks(env, store);
  return stored;
}

/** The batch's writes made with events, one group per kind (in the items' order), with where each input came from. */
function groupWithEvents(items: NewEvent[]): { writes: WithEvents<unknown, unknown>; inputs: unknown[]; at: number[] }[] {
  const groups = new Map<WithEvents<unknown, unknown>, { writes: WithEvents<unknown, unknown>; inputs: unknown[]; at: number[] }>();
  items.forEach((item, i) => {
    if (!item.withEvent) return;
    const { writes, input } = item.withEvent;
    let group = groups.get(writes);
    if (!group) groups.set(writes, (group = { writes, inputs: [], at: [] }));
    group.inputs.push(input);
    group.at.push(i);
  });
  return [...groups.values()];
}

// The events insert is written out rather than built by drizzle: one multi-row insert instead of one
// statement per row halved the storage cost per event (measured in workerd), but drizzle walks the query
// tree of every row each batch to build its text, 6.7 % of the ingest path's JavaScript (V8 profile of
// bench/ingest). The text depends only on the row count. The columns are named from the schema; the rest
// keep their defaults (status pending, attempts and redrives 0, the rest null).
const INSERT_COLUMNS = [events.id, events.sourceId, events.kind, events.dedupKey, events.body, events.headers, events.status, events.validationErrors, events.receivedAt, events.lastError];
const insertValues = (r: NewEvent["row"]) => [r.id, r.sourceId, r.kind, r.dedupKey, r.body, r.headers, r.status ?? "pending", r.validationErrors ?? null, r.receivedAt, r.lastError ?? null];
const ROWS_PER_INSERT = Math.floor(D1_MAX_BOUND_PARAMETERS / INSERT_COLUMNS.length);
const insertTexts = new Map<number, string>();

function insertEventsSql(rows: number): string {
  let text = insertTexts.get(rows);
  if (!text) {
    const group = `(${INSERT_COLUMNS.map(() => "?").join(", ")})`;
    text = `INSERT INTO "events" (${INSERT_COLUMNS.map((c) => `"${c.name}"`).join(", ")}) VALUES ${Array.from({ length: rows }, () => group).join(", ")} ON CONFLICT DO NOTHING RETURNING "id"`;
    insertTexts.set(rows, text);
  }
  return text;
}

const keyOf = (e: { sourceId: string; dedupKey: string }) => `${e.sourceId}\n${e.dedupKey}`;

/** Verifies the request against its source: 401 SIGNATURE_INVALID / TIMESTAMP_OUT_OF_TOLERANCE. */
export async function authenticate(source: ResolvedSource, headers: Headers, body: Uint8Array, request?: { method: string; url: string }) {
  const verdict = await verifyRequest(source.verification, {
    headers,
    body,
    secrets: source.secrets,
    now: Math.floor(Date.now() / 1000),
    ...(request ? { request: requestLine(request) } : {}),
  });
  if (!verdict.ok) throw new ApiError(401, verdict.code, verdict.message);
  return verdict;
}

/**
 * The request line as the schemes that sign it read it (Healthie), its URL parsed only when one does:
 * most schemes never read it, and parsing every partner request's URL showed in the ingest profile (~1 %).
 */
function requestLine(request: { method: string; url: string }): { method: string; path: string; query: string } {
  let url: URL | undefined;
  const parsed = () => (url ??= new URL(request.url));
  return {
    method: request.method,
    get path() {
      return parsed().pathname;
    },
    get query() {
      return parsed().search.replace(/^\?/, "");
    },
  };
}

/** 400 MALFORMED_JSON, then 422 PAYLOAD_INVALID with details. */
export function parseAndValidate<S extends z.ZodType>(body: Uint8Array, schema: S): { data: z.output<S>; text: string } {
  const { text, value } = parseJsonBodyText(body);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw payloadInvalid(parsed.error);
  return { data: parsed.data, text };
}

/** Puts the events on the events queue in one sendBatch (at most 100 ids). */
export async function sendEvents(env: Env, eventIds: string[]): Promise<void> {
  await env.EVENTS_QUEUE.sendBatch(eventIds.map((eventId) => ({ body: { eventId }, contentType: "json" as const })));
}

/** Sends the events to the events queue; a failure is logged and the events are left to the sweep. */
async function sendOrLeaveToSweep(env: Env, eventIds: string[]): Promise<boolean> {
  try {
    await sendEvents(env, eventIds);
    return true;
  } catch (e) {
    log.warn("ingest.enqueue_failed", { count: eventIds.length, error: errorText(e) });
    return false;
  }
}

const MARKS_PER_UPDATE = D1_MAX_BOUND_PARAMETERS - 1; // the ids and the timestamp

const markEnqueued = (db: Db, eventIds: string[]) =>
  db.update(events).set({ enqueuedAt: nowIso() }).where(inArray(events.id, eventIds));

/** Writes the pending marks. A failure drops them: the sweep sends those events once more and the
 * consumer, finding them processed, does nothing. */
async function writeMarks(env: Env, store: EventStore): Promise<void> {
  while (store.unmarked.length > 0) {
    const marks = store.unmarked.splice(0, MARKS_PER_UPDATE);
    try {
      await markEnqueued(database(env.DB), marks);
    } catch (e) {
      log.warn("ingest.mark_enqueued_failed", { count: marks.length, error: errorText(e) });
      return;
    }
  }
}

function storableHeaders(headers: Headers, secret: string[]): Record<string, string> {
  const drop = new Set(secret.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    if (!drop.has(key)) out[key] = value;
  });
  return out;
}
