import { getTableColumns, is, Param, Placeholder, sql, type SQL, type Table } from "drizzle-orm";
import type { Db } from "./client";

/**
 * Statements built once per isolate and bound per use.
 *
 * Why: drizzle builds a statement's SQL text from its query tree every time it runs, and on the events
 * consumer's path that was the largest part of its JavaScript: about a third of a millisecond per event of
 * tree walking (sqlToQuery) and select building, for ~25 statements per event, beside ~2 ms of JS in all
 * (bench/cpu/consumer.test.ts). The text depends only on a statement's shape, never on its values, so a hot
 * statement of fixed shape is built once with placeholders and each use binds its values to that text.
 *
 * What each use keeps: it is an ordinary drizzle query as far as its callers see. `await`ing it runs it
 * (as the builder would: rows for a select or a `returning`, the D1 result otherwise), `db.batch([...])`
 * takes it beside builders, `toSQL()` gives its text and bound values, results are mapped to the same
 * typed rows, and values are encoded by their columns (booleans, JSON) as the builder would encode them.
 * It runs on the `db` it is given, so a coalescing binding (src/db/coalesce.ts) or a counting one in
 * tests sees it like any statement.
 *
 * The rule for `build`: it receives stand-ins for the values (placeholders typed as the values) and may
 * only put them where drizzle takes a value (`eq(col, v.id)`, `.values({ ... })`, `.set({ ... })`, `sql`
 * templates). It must not branch on them (it runs for the shape only), spread them (it names each one),
 * or compute a value itself (an id, a time, a column's $defaultFn): it is built twice, and refused if the
 * two builds differ. Every value it uses is required (null, not undefined, for "none"); a missing or
 * undefined one throws when bound, before anything runs.
 */
export function compiled<V extends object, Q>(build: (db: Db, values: V) => Q): (db: Db, values: V) => Q {
  let shape: Shape | null = null;
  return (db, values) => {
    shape ??= checkedShape(db, build);
    const s = shape;
    const session = (db as unknown as { session: Session }).session;
    const bound = () => ({ sql: s.sql, params: fill(s, values as Record<string, unknown>) });
    const prepare = () => {
      const query = session.prepareOneTimeQuery(
        bound(),
        s.fields,
        s.executeMethod,
        s.arrayMode,
        s.customResultMapper,
        s.queryMetadata,
      );
      query.joinsNotNullableMap = s.joinsNotNullableMap;
      return query;
    };
    // (like drizzle's own query promise, each then() runs the statement: await it once)
    const then = (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => prepare().execute().then(ok, fail);
    const statement = {
      _prepare: prepare,
      then,
      catch: (fail: (e: unknown) => unknown) => then(undefined, fail),
      finally: (done: () => void) => then().finally(done),
      // the SQL and bound values, as the builder's toSQL() gives them (the lifecycle outbox keeps statements so)
      toSQL: bound,
    };
    return statement as unknown as Q;
  };
}

/**
 * For a build that writes whole rows: every column of `table` (but `except`), each from its stand-in.
 * (The stand-ins cannot be spread; this names them from the table.)
 */
export function everyColumn<T extends Table, K extends keyof T["$inferInsert"] = never>(table: T, values: object, except: K[] = []): Omit<T["$inferInsert"], K> {
  const skip = new Set<string>(except as string[]);
  const named = Object.keys(getTableColumns(table)).filter((k) => !skip.has(k));
  return Object.fromEntries(named.map((k) => [k, (values as Record<string, unknown>)[k]])) as Omit<T["$inferInsert"], K>;
}

/**
 * An upsert's `set` that takes each named column from the row the insert proposed (SQLite's `excluded`),
 * instead of binding its value a second time.
 *
 * Why: `.onConflictDoUpdate({ set: values })` binds every value twice (and a `setWhere` comparing values, a
 * third time), so a 2 KB resource travelled to D1 as 4–6 KB of bound values, and the lifecycle outbox kept
 * each PaymentReconciliation twice over (a payment's outbox entry was ~7.8 KB, 2.4 KB of it that one
 * statement). The column's value is the same either way: `excluded.col` is the value the insert gave it.
 */
export function excluded<T extends Table, K extends keyof T["$inferInsert"] & string>(table: T, columnsOf: readonly K[] | Partial<Record<K, unknown>>): Record<K, SQL> {
  const columns = getTableColumns(table) as Record<string, { name: string }>;
  const keys = (Array.isArray(columnsOf) ? columnsOf : Object.keys(columnsOf)) as K[];
  return Object.fromEntries(
    keys.map((k) => {
      const column = columns[k];
      if (!column) throw new Error(`excluded: ${k} is not a column`);
      return [k, sql.raw(`excluded."${column.name}"`)];
    }),
  ) as Record<K, SQL>;
}

/** What drizzle's one-time prepare needs besides the bound values (its prepared query's own fields). */
interface Shape {
  sql: string;
  params: unknown[];
  /** Per bound parameter: the value it takes and how its column encodes it, or null for a constant. */
  slots: ({ name: string; encode: ((value: unknown) => unknown) | null } | null)[];
  fields: unknown;
  executeMethod: string;
  arrayMode: boolean;
  customResultMapper: unknown;
  queryMetadata: unknown;
  joinsNotNullableMap: unknown;
}

interface PreparedQuery {
  query: { sql: string; params: unknown[] };
  fields: unknown;
  executeMethod: string;
  customResultMapper: unknown;
  queryMetadata: unknown;
  joinsNotNullableMap: unknown;
  isResponseInArrayMode(): boolean;
  execute(): Promise<unknown>;
}

interface Session {
  prepareOneTimeQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    executeMethod: string,
    arrayMode: boolean,
    customResultMapper: unknown,
    queryMetadata: unknown,
  ): PreparedQuery;
}

/**
 * The statement's shape, built twice: a constant that differs between the builds was computed by the build
 * (a column's $defaultFn or $onUpdate, a clock, an id) and would be frozen into every use, so it is refused.
 */
function checkedShape<V extends object>(db: Db, build: (db: Db, values: V) => unknown): Shape {
  const shape = shapeOf(build(db, standIns<V>()));
  const again = shapeOf(build(db, standIns<V>()));
  const constants = (x: Shape) => JSON.stringify([x.sql, x.params.filter((_, i) => !x.slots[i])]);
  if (constants(shape) !== constants(again)) {
    throw new Error(`compiled: building "${shape.sql.slice(0, 60)}…" twice gave different constants; pass computed values (ids, times, defaults made by functions) as values`);
  }
  return shape;
}

function shapeOf(builder: unknown): Shape {
  const prepared = (builder as { _prepare?: (oneTime: boolean) => PreparedQuery })._prepare?.(true);
  if (!prepared?.query) throw new Error("compiled: build must return a drizzle query builder");
  // drizzle's fillPlaceholders, worked out once: telling placeholders from constants (its is() walks
  // prototype chains) was most of what binding a compiled statement cost
  const slots = prepared.query.params.map((p) =>
    is(p, Placeholder) ? { name: p.name, encode: null } : is(p, Param) && is(p.value, Placeholder) ? { name: p.value.name, encode: (v: unknown) => p.encoder.mapToDriverValue(v) } : null,
  );
  return {
    sql: prepared.query.sql,
    params: prepared.query.params,
    slots,
    fields: prepared.fields,
    executeMethod: prepared.executeMethod,
    arrayMode: prepared.isResponseInArrayMode(),
    customResultMapper: prepared.customResultMapper,
    queryMetadata: prepared.queryMetadata,
    joinsNotNullableMap: prepared.joinsNotNullableMap,
  };
}

/** The statement's parameters with this use's values (undefined would mean "default" or "leave out" to a builder; here it is a mistake, named at once). */
function fill(s: Shape, values: Record<string, unknown>): unknown[] {
  return s.params.map((constant, i) => {
    const slot = s.slots[i];
    if (!slot) return constant;
    const value = values[slot.name];
    if (value === undefined) throw new Error(`No value for placeholder "${slot.name}"`);
    return slot.encode ? slot.encode(value) : value;
  });
}

/** An object whose every property is the placeholder of that name. */
function standIns<V>(): V {
  return new Proxy(
    {},
    {
      get: (_, name) => (typeof name === "string" ? sql.placeholder(name) : undefined),
      ownKeys: () => {
        throw new Error("compiled: stand-ins have no keys to spread or list; name each value");
      },
    },
  ) as V;
}
