import { z } from "zod";
import { database } from "../../db/client";
import { EVENT_STATUSES } from "../../db/schema";
import { fanOutSafely } from "../../delivery/fan-out";
import { readEventBody } from "../../ingest/archive";
import { reprocessEvent } from "../../queue/reprocess";
import { ApiError } from "../../errors";
import { eventWithProducts, listEvents } from "../../operators/reads";
import { limitQuery, timeQuery } from "../list-query";
import { defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";
import { eventDetail, eventSummary } from "./rows";

/** Raw partner events: listed without payloads; one event shows its payload (to operators only). */
export const adminEvents = router();

const eventId = z.object({ id: z.string().meta({ example: "evt_01JD7T3Q9M2XK4" }) });

/** The event list's filters (the console's Events page takes the same). */
export const eventFilterQuery = z.object({
  source: z.string().optional().meta({ description: "A source id" }),
  kind: z.string().optional().meta({ description: "A source kind, e.g. cair.claim_response" }),
  type: z.string().optional().meta({ description: "Part of the produced event type, e.g. remit" }),
  status: z.enum(EVENT_STATUSES).optional(),
  claim: z.string().optional().meta({ description: "Events that produced something for this claim (our id, clm_…)" }),
  since: timeQuery("Received at or after"),
  until: timeQuery("Received at or before"),
  before: z.string().optional().meta({ description: "Cursor: the previous page's nextBefore" }),
});

const listRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "admin",
  summary: "List raw partner events, newest first (no payloads)",
  auth: "admin",
  request: { query: eventFilterQuery.extend({ limit: limitQuery(1000) }) },
  responses: { 200: json(z.object({ data: z.array(eventSummary), nextBefore: z.string().nullable() }), "Events and the cursor of the next page"), ...OPERATOR_ERRORS, 400: problem("INVALID_FILTER") },
});
serve(adminEvents, listRoute, async (c) => c.json(await listEvents(database(c.env.DB), c.req.valid("query"))));

const oneRoute = defineRoute({
  method: "get",
  path: "/{id}",
  tag: "admin",
  summary: "One event with payload, validation errors, produced events, payments and deliveries (audited)",
  auth: "admin",
  role: "operator",
  request: { params: eventId },
  responses: { 200: json(eventDetail, "The event"), ...OPERATOR_ERRORS, 404: problem("EVENT_NOT_FOUND") },
});
serve(adminEvents, oneRoute, async (c) => {
  const { id } = c.req.valid("param");
  const found = await eventWithProducts(database(c.env.DB), id);
  if (!found) throw new ApiError(404, "EVENT_NOT_FOUND", `No event ${id}.`);
  const { event, produced, payments, deliveries } = found;
  // the body from D1, or from R2 once archived; after the source's retention, only when it was deleted
  const body = await readEventBody(c.env, event);
  return c.json({
    ...event,
    headers: JSON.parse(event.headers) as Record<string, string>,
    ...(body.kind === "body" ? storedBody(body.text) : {}),
    body: undefined,
    validationErrors: event.validationErrors ? (JSON.parse(event.validationErrors) as unknown) : null,
    produced,
    payments,
    deliveries,
  });
});

const reprocessRoute = defineRoute({
  method: "post",
  path: "/{id}/reprocess",
  tag: "admin",
  summary: "Validate an invalid or failed event again with today's schema and, if valid, project it once (idempotent, audited)",
  auth: "admin",
  role: "operator",
  request: { params: eventId },
  responses: {
    200: json(
      z.object({ eventId: z.string(), status: z.enum(EVENT_STATUSES), reprocessed: z.boolean(), lastError: z.string().nullable() }).meta({ example: { eventId: "evt_01JD7T3Q9M2XK4", status: "processed", reprocessed: true, lastError: null } }),
      "The event's status after the attempt",
    ),
    ...OPERATOR_ERRORS,
    404: problem("EVENT_NOT_FOUND"),
    422: problem("PAYLOAD_INVALID, MALFORMED_JSON: still invalid (details)"),
  },
});
serve(adminEvents, reprocessRoute, async (c) => {
  const db = database(c.env.DB);
  const outcome = await reprocessEvent(c.env, db, c.req.valid("param").id);
  c.executionCtx.waitUntil(fanOutSafely(c.env, db));
  return c.json(outcome);
});

/** The body as JSON when it is JSON (an invalid event may hold any text). */
export function storedBody(body: string): { payload: unknown } | { payloadText: string } {
  try {
    return { payload: JSON.parse(body) as unknown };
  } catch {
    return { payloadText: body };
  }
}
