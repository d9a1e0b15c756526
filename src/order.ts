/**
 * A comparator by text keys, the first that differs deciding: JS's order on ASCII text (ids, ISO times)
 * is SQLite's default binary collation, so rows sorted with `byKeys(r => r.at, r => r.id)` come in the
 * order `ORDER BY at, id` would give.
 */
export const byKeys =
  <T>(...keys: ((item: T) => string)[]) =>
  (a: T, b: T): number => {
    for (const key of keys) {
      const x = key(a);
      const y = key(b);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
