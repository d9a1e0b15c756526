import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { events } from "../db/schema";
import type { Env } from "../env";
import { ApiError, zodDetails, type ErrorDetail } from "../errors";
import { log } from "../log";
import { adapterFor } from "../partners/registry";
import { processEvent } from "./events-consumer";

export interface ReprocessOutcome {
  eventId: string;
  /** The event's status after the call. */
  status: (typeof events.$inferSelect)["status"];
  /** False when there was nothing to do (already processed, or another call is on it). */
  reprocessed: boolean;
  lastError: string | null;
}

/**
 * Validates a stored `invalid` or `failed` event again with today's schema and, if it is valid now, runs
 * the normal projection and fan-out on it (once: the status moves to pending in a compare-and-set, so two
 * concurrent calls cannot both run it, and produced events are recorded once per event and type). Still
 * invalid: 422 with the details, and the stored errors are brought up to date.
 */
export async function reprocessEvent(env: Env, db: Db, eventId: string): Promise<ReprocessOutcome> {
  const [event] = await db.select().from(events).where(eq(events.id, eventId));
  if (!event) throw new ApiError(404, "EVENT_NOT_FOUND", `No event ${eventId}.`);
  if (event.status === "processed" || event.status === "pending") {
    return { eventId, status: event.status, reprocessed: false, lastError: event.lastError };
  }
  const adapter = adapterFor(event.kind);
  if (!adapter) throw new ApiError(409, "KIND_NOT_SUPPORTED", `Source kind ${event.kind} has no adapter.`);

  const problems = validate(event.body, adapter.schema);
  if (problems) {
    await db
      .update(events)
      .set({ status: "invalid", validationErrors: JSON.stringify(problems.details), lastError: `${problems.code}: ${problems.message}` })
      .where(eq(events.id, eventId));
    throw new ApiError(422, problems.code, `Event ${eventId} is still invalid: ${problems.message}`, problems.details);
  }

  const claimed = await db
    .update(events)
    .set({ status: "pending", validationErrors: null, lastError: null })
    .where(and(eq(events.id, eventId), inArray(events.status, ["invalid", "failed"])))
    .returning({ id: events.id });
  if (claimed.length === 0) {
    const [now] = await db.select().from(events).where(eq(events.id, eventId));
    return { eventId, status: now!.status, reprocessed: false, lastError: now!.lastError };
  }
  log.info("events.reprocess", { eventId, from: event.status });
  try {
    await processEvent(env, db, eventId);
  } catch (e) {
    // processEvent records refusals itself; anything else is a failure an operator can retry.
    const message = e instanceof Error ? e.message : String(e);
    await db.update(events).set({ status: "failed", lastError: message.slice(0, 500) }).where(and(eq(events.id, eventId), eq(events.status, "pending")));
  }
  const [after] = await db.select().from(events).where(eq(events.id, eventId));
  return { eventId, status: after!.status, reprocessed: true, lastError: after!.lastError };
}

function validate(body: string, schema: { safeParse(v: unknown): { success: true } | { success: false; error: import("zod").ZodError } }):
  | { code: string; message: string; details: ErrorDetail[] }
  | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return { code: "MALFORMED_JSON", message: `the body is not JSON (${(e as Error).message})`, details: [{ path: "", message: "not JSON" }] };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  const details = zodDetails(parsed.error);
  return { code: "PAYLOAD_INVALID", message: `${details[0]?.path || "payload"}: ${details[0]?.message ?? "invalid"}`, details };
}
