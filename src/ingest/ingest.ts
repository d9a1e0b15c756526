import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { newId } from "../crypto/ids";
import { sha256Hex } from "../crypto/hmac";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { events } from "../db/schema";
import type { Env } from "../env";
import { ApiError, payloadInvalid, storageUnavailable } from "../errors";
import { errorText, log } from "../log";
import { adapterFor } from "../partners/registry";
import type { ResolvedSource } from "../sources/repository";
import { credentialHeaders, verifyRequest } from "../verify";
import { parseJsonBody } from "./read-body";

export interface IngestResult {
  eventId: string;
  duplicate: boolean;
  /** The validated payload (for callers, such as patient payments, that act on it synchronously). */
  payload: unknown;
}

/**
 * verify → parse → validate → store once → enqueue. Every failure before the insert leaves storage
 * untouched; a failed enqueue after it leaves the event pending for the outbox sweep.
 */
export async function ingest(
  env: Env,
  db: Db,
  source: ResolvedSource,
  headers: Headers,
  body: Uint8Array,
  options: { enqueue?: boolean } = {},
): Promise<IngestResult> {
  const verdict = await authenticate(source, headers, body);
  const adapter = adapterFor(source.kind);
  if (!adapter) throw new ApiError(500, "KIND_NOT_SUPPORTED", `Source kind ${source.kind} has no adapter.`);
  const parsed = parseAndValidate(body, adapter.schema);

  // Dedup key: the scheme's event id (webhook-id, a configured id header), else the payload's own event
  // id (Stripe), else the SHA-256 of the exact body bytes.
  const partnerId = verdict.eventId ?? adapter.partnerEventId?.(parsed.data) ?? null;
  const dedupKey = partnerId ? `id:${partnerId}` : `sha256:${await sha256Hex(body)}`;

  const eventId = newId("evt");
  const receivedAt = nowIso();
  let inserted: { id: string }[];
  try {
    inserted = await db
      .insert(events)
      .values({
        id: eventId,
        sourceId: source.id,
        kind: source.kind,
        dedupKey,
        body: new TextDecoder().decode(body),
        headers: JSON.stringify(storableHeaders(headers, credentialHeaders(source.verification))),
        receivedAt,
      })
      .onConflictDoNothing()
      .returning({ id: events.id });
  } catch (e) {
    log.error("ingest.store_failed", { sourceId: source.id, error: errorText(e) });
    throw storageUnavailable();
  }

  if (inserted.length === 0) {
    const existing = await db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.sourceId, source.id), eq(events.dedupKey, dedupKey)))
      .catch(() => {
        throw storageUnavailable();
      });
    log.info("ingest.duplicate", { sourceId: source.id, eventId: existing[0]?.id });
    return { eventId: existing[0]?.id ?? eventId, duplicate: true, payload: parsed.data };
  }

  // Synchronous kinds (patient payments) are applied by their route; the sweep still recovers them.
  if (options.enqueue !== false) await enqueueEvent(env, db, eventId);
  log.info("ingest.accepted", { sourceId: source.id, kind: source.kind, eventId });
  return { eventId, duplicate: false, payload: parsed.data };
}

/** Verifies the request against its source: 401 SIGNATURE_INVALID / TIMESTAMP_OUT_OF_TOLERANCE. */
export async function authenticate(source: ResolvedSource, headers: Headers, body: Uint8Array) {
  const verdict = await verifyRequest(source.verification, {
    headers,
    body,
    secrets: source.secrets,
    now: Math.floor(Date.now() / 1000),
  });
  if (!verdict.ok) throw new ApiError(401, verdict.code, verdict.message);
  return verdict;
}

/** 400 MALFORMED_JSON, then 422 PAYLOAD_INVALID with details. */
export function parseAndValidate<S extends z.ZodType>(body: Uint8Array, schema: S): { data: z.output<S> } {
  const parsed = schema.safeParse(parseJsonBody(body));
  if (!parsed.success) throw payloadInvalid(parsed.error);
  return { data: parsed.data };
}

/** Sends the event to the events queue and marks it enqueued; a failure is logged and left to the sweep. */
export async function enqueueEvent(env: Env, db: Db, eventId: string): Promise<boolean> {
  try {
    await env.EVENTS_QUEUE.send({ eventId }, { contentType: "json" });
  } catch (e) {
    log.warn("ingest.enqueue_failed", { eventId, error: errorText(e) });
    return false;
  }
  try {
    await db.update(events).set({ enqueuedAt: nowIso() }).where(eq(events.id, eventId));
  } catch (e) {
    // The message is on the queue; at worst the sweep sends it once more and the consumer sees it processed.
    log.warn("ingest.mark_enqueued_failed", { eventId, error: errorText(e) });
  }
  return true;
}

function storableHeaders(headers: Headers, secret: string[]): Record<string, string> {
  const drop = new Set(secret.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    if (!drop.has(key)) out[key] = value;
  });
  return out;
}
