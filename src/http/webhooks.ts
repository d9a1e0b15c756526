import { z } from "zod";
import { ApiError } from "../errors";
import { ingest } from "../ingest/ingest";
import { readJsonBody } from "../ingest/read-body";
import { adapterFor, SOURCE_KINDS } from "../partners/registry";
import { loadEnabledSource } from "./load-source";
import { defineRoute, json, problem, router, serve } from "./route";

/** Kinds that have their own route and answer synchronously; they are refused on the generic route. */
export const DEDICATED_ROUTE_KINDS: Record<string, string> = {
  "cair.patient_payment": "/api/webhooks/patient-payment",
};

/** What any partner route can answer before its own outcome. */
export const PARTNER_ERRORS = {
  400: problem("MALFORMED_JSON"),
  401: problem("SIGNATURE_INVALID, TIMESTAMP_OUT_OF_TOLERANCE"),
  404: problem("SOURCE_NOT_FOUND"),
  413: problem("PAYLOAD_TOO_LARGE"),
  415: problem("UNSUPPORTED_MEDIA_TYPE"),
  422: problem("PAYLOAD_INVALID (the event is kept as invalid; the answer names it)"),
  503: problem("STORAGE_UNAVAILABLE (Retry-After)"),
} as const;

export const webhooks = router();

const received = z.object({ received: z.literal(true), eventId: z.string(), duplicate: z.boolean() });

const receiveRoute = defineRoute({
  method: "post",
  path: "/{sourceId}",
  tag: "partners",
  summary: "Receive a partner webhook (the source's kind decides the payload; see x-partner-payloads)",
  description:
    "The signature is checked first (the source's scheme), on the raw bytes; the body is then kept and validated by the source kind's schema (listed per kind under x-partner-payloads). A verified body that fails validation is kept as an `invalid` event (422 names it); nothing verified is lost.",
  auth: "partner",
  request: {
    params: z.object({ sourceId: z.string().meta({ example: "cair-remits" }) }),
    body: {
      required: true,
      description: "One of the partner payloads, per the source's kind",
      content: { "application/json": { schema: { oneOf: SOURCE_KINDS.filter((k) => !DEDICATED_ROUTE_KINDS[k]).map((k) => ({ $ref: `#/x-partner-payloads/${k}` })) } } },
    },
  },
  responses: {
    202: json(received.meta({ example: { received: true, eventId: "evt_01JD7T3Q9M2XK4", duplicate: false } }), "Received: kept, and projected shortly"),
    200: json(received, "A duplicate of an event already received (same answer, nothing stored twice)"),
    ...PARTNER_ERRORS,
  },
});
serve(webhooks, receiveRoute, async (c) => {
  const source = await loadEnabledSource(c.env, c.req.valid("param").sourceId);
  const dedicated = DEDICATED_ROUTE_KINDS[source.kind];
  if (dedicated) {
    throw new ApiError(404, "SOURCE_NOT_FOUND", `Source "${source.id}" receives at ${dedicated}, not here.`);
  }
  const body = await readJsonBody(c.req.raw);
  const result = await ingest(c.env, source, c.req.raw.headers, body, (work) => c.executionCtx.waitUntil(work), { request: { method: c.req.method, url: c.req.url } });
  return c.json({ received: true, eventId: result.eventId, duplicate: result.duplicate }, result.duplicate ? 200 : 202);
});

/** Each partner kind's payload schema, from its adapter (the schema that validates it after verification). */
export const partnerPayloadSchemas = () =>
  Object.fromEntries(SOURCE_KINDS.map((kind) => [kind, z.toJSONSchema(adapterFor(kind)!.schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" })]));
