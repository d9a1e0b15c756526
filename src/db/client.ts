import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

// Building a drizzle instance walks the whole schema (its relational config), which profiled at about a
// tenth of the ingest path's CPU when done per request; one instance per D1 binding is shared instead.
const instances = new WeakMap<D1Database, Db>();

export function database(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    instances.set(d1, db);
  }
  return db;
}

export const nowIso = () => new Date().toISOString();

/** D1 binds at most 100 parameters per statement; multi-row writes are split to stay under it. */
export const D1_MAX_BOUND_PARAMETERS = 100;

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
