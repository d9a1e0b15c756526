// Counting a D1 binding's round trips in tests: the real binding, wrapped, nothing mocked.

/** The binding, with each round trip it makes recorded (a statement's first/all/run/raw, or one batch). */
export function countingD1(d1: D1Database) {
  const calls: string[] = [];
  const sqlOf = new WeakMap<object, string>();
  const label = (sql: string) => sql.replace(/\s+/g, " ").slice(0, 40);
  const statement = (s: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const counted: D1PreparedStatement = new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "bind") return (...args: unknown[]) => statement(value.apply(target, args), sql);
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return (...args: unknown[]) => {
            calls.push(label(sql));
            return value.apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    sqlOf.set(counted, sql);
    return counted;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "prepare") return (sql: string) => statement(value.call(target, sql), sql);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls.push(`batch of ${statements.length}: ${label(sqlOf.get(statements[0]!) ?? "")}`);
          return value.call(target, statements);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, calls };
}
