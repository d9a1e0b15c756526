import { Hono } from "hono";
import type { AppContext } from "../env";
import { ApiError } from "../errors";
import { ingest } from "../ingest/ingest";
import { readJsonBody } from "../ingest/read-body";
import { loadEnabledSource } from "./load-source";

/** Kinds that have their own route and answer synchronously; they are refused on the generic route. */
export const DEDICATED_ROUTE_KINDS: Record<string, string> = {
  "cair.patient_payment": "/api/webhooks/patient-payment",
};

export const webhooks = new Hono<AppContext>();

webhooks.post("/:sourceId", async (c) => {
  const source = await loadEnabledSource(c.env, c.req.param("sourceId"));
  const dedicated = DEDICATED_ROUTE_KINDS[source.kind];
  if (dedicated) {
    throw new ApiError(404, "SOURCE_NOT_FOUND", `Source "${source.id}" receives at ${dedicated}, not here.`);
  }
  const body = await readJsonBody(c.req.raw);
  const result = await ingest(c.env, source, c.req.raw.headers, body, (work) => c.executionCtx.waitUntil(work), { request: { method: c.req.method, url: c.req.url } });
  return c.json(
    { received: true, eventId: result.eventId, duplicate: result.duplicate },
    result.duplicate ? 200 : 202,
  );
});
