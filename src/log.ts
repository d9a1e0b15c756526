// Structured JSON logs. Fields carry ids, codes, counts and timings only — never payload content, names,
// birth dates, member ids or free text (PHI). Callers pass explicit fields; nothing is serialized wholesale.
type Fields = Record<string, string | number | boolean | null | undefined>;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;
let threshold: number = LEVELS.info;

/** The lowest level written (LOG_LEVEL: debug, info, warn or error; default info). */
export function configureLogLevel(level: string | undefined): void {
  threshold = LEVELS[level as Level] ?? LEVELS.info;
}

function emit(level: Level, msg: string, fields: Fields) {
  if (LEVELS[level] < threshold) return;
  const line = JSON.stringify({ level, msg, ts: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else if (level === "info") console.info(line);
  else console.debug(line);
}

export const log = {
  /** Per-request detail that stored state already records (off unless LOG_LEVEL=debug). */
  debug: (msg: string, fields: Fields = {}) => emit("debug", msg, fields),
  info: (msg: string, fields: Fields = {}) => emit("info", msg, fields),
  warn: (msg: string, fields: Fields = {}) => emit("warn", msg, fields),
  error: (msg: string, fields: Fields = {}) => emit("error", msg, fields),
};

/** The error's class and message, cut short: D1 and fetch errors carry no payload content. */
export const errorText = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e).slice(0, 500);
  // drizzle's query errors carry the SQL and its bound values (patient data among them): what D1 said is
  // their cause, and that is what logs and last_error get
  const said = e.message.startsWith("Failed query:") && e.cause instanceof Error ? e.cause : e;
  return `${said.name}: ${said.message}`.slice(0, 500);
};
