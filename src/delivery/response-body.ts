/** The part of a subscriber's answer kept with each attempt. */
export const RESPONSE_BODY_LIMIT = 2048;

/**
 * The first `limit` bytes of the subscriber's answer, read from the stream; the rest is
 * cancelled unread, so a subscriber answering 400 MB costs what 2 KiB costs (memory was once at its mercy).
 */
export async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const kept = new Uint8Array(limit);
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, limit - size);
      kept.set(value.subarray(0, take), size);
      size += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  // a multi-byte character cut at the limit decodes as U+FFFD; the kept text is for operators' eyes
  return new TextDecoder().decode(kept.subarray(0, size));
}

