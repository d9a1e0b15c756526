export const DEFAULT_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];
/** Cloudflare Queues delays a message at most 12 hours. */
export const MAX_DELAY_SECONDS = 43_200;

/** DELIVERY_RETRY_SCHEDULE: comma-separated seconds between attempts (gap n follows attempt n). */
export function parseSchedule(value: string | undefined): number[] {
  if (!value) return DEFAULT_SCHEDULE;
  const gaps = value.split(",").map((s) => Number(s.trim()));
  return gaps.length > 0 && gaps.every((g) => Number.isInteger(g) && g >= 0) ? gaps : DEFAULT_SCHEDULE;
}

/** Attempts in all: the first plus one per gap. */
export const maxAttempts = (schedule: number[]) => schedule.length + 1;

/** The gap after attempt `attempt` (1-based) with ±20 % jitter, at least 1 s. */
export function retryDelay(schedule: number[], attempt: number, random = Math.random): number {
  const base = schedule[Math.min(attempt, schedule.length) - 1] ?? schedule[schedule.length - 1] ?? 60;
  const jittered = base * (0.8 + 0.4 * random());
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.round(jittered)));
}

/** Retry-After (seconds or an HTTP date) → seconds, clamped to [1, 12 h]; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return null;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, seconds));
}
