import type { Context } from "hono";
import type { z } from "zod";
import { payloadInvalid } from "../errors";
import { parseJsonBody, readJsonBody } from "../ingest/read-body";

/** Reads a JSON request body (≤ 1 MiB) and validates it: 415 / 413 / 400 MALFORMED_JSON / 422. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const json = parseJsonBody(await readJsonBody(c.req.raw));
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw payloadInvalid(parsed.error, "request body");
  return parsed.data;
}
