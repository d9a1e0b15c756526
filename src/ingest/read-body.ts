import { ApiError } from "../errors";

export const MAX_BODY_BYTES = 1024 * 1024;

const tooLarge = (max: number) =>
  new ApiError(413, "PAYLOAD_TOO_LARGE", `The request body exceeds ${max} bytes.`);

/**
 * Reads the body once, as bytes, stopping as soon as it passes `max`: a declared Content-Length over the
 * limit is refused before reading, and a chunked body is cut off mid-stream, never buffered unbounded.
 */
export async function readBodyCapped(request: Request, max = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared && Number(declared) > max) throw tooLarge(max);
  if (!request.body) return new Uint8Array(0);
  // Over HTTP a declared length bounds what the runtime reads, so the body is taken in one native call
  // (reading it chunk by chunk in JS profiled at a few percent of the ingest path); the size is checked
  // again for a request built in-process, whose header need not match its body.
  if (declared) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > max) throw tooLarge(max);
    return body;
  }

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

/** JSON and any `+json` media type, with or without parameters such as charset. */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const type = value.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** A JSON request body: JSON content type (415) and at most 1 MiB (413), read once as bytes. */
export async function readJsonBody(request: Request): Promise<Uint8Array> {
  if (!isJsonContentType(request.headers.get("content-type"))) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "The request body must be sent as application/json.");
  }
  return readBodyCapped(request);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly and parses JSON; anything else is 400 MALFORMED_JSON. */
export function parseJsonBody(body: Uint8Array): unknown {
  return parseJsonBodyText(body).value;
}

/** parseJsonBody, also returning the decoded text (for callers that store the body as text). */
export function parseJsonBodyText(body: Uint8Array): { text: string; value: unknown } {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new ApiError(400, "MALFORMED_JSON", "The request body is not valid UTF-8.");
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (e) {
    const detail = e instanceof SyntaxError ? ` (${e.message})` : "";
    throw new ApiError(400, "MALFORMED_JSON", `The request body is not valid JSON${detail}.`);
  }
}
