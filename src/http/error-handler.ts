import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "../errors";
import { errorText, log } from "../log";

export function errorResponse(err: ApiError): Response {
  return new Response(JSON.stringify(err.toBody()), {
    status: err.status,
    headers: { "content-type": "application/json; charset=utf-8", ...err.headers },
  });
}

/** Every error leaves as the contract's `{"error": {code, message, details?}}`; internals are logged, not sent. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(err);
  if (err instanceof HTTPException) {
    return errorResponse(new ApiError(err.status, "HTTP_ERROR", err.message || "Request failed."));
  }
  log.error("http.unhandled", { path: new URL(c.req.url).pathname, method: c.req.method, error: errorText(err) });
  return errorResponse(new ApiError(500, "INTERNAL_ERROR", "An internal error occurred."));
}

export const notFound = (c: Context) =>
  errorResponse(new ApiError(404, "NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`));
