import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, payloadInvalid } from "../errors";
import { isJsonContentType, parseJsonBody, readBodyCapped } from "../ingest/read-body";

/** Reads a JSON request body (≤ 1 MiB) and validates it: 415 / 413 / 400 MALFORMED_JSON / 422. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  if (!isJsonContentType(c.req.header("content-type") ?? null)) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  }
  const json = parseJsonBody(await readBodyCapped(c.req.raw));
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw payloadInvalid(parsed.error, "request body");
  return parsed.data;
}
