// A subscriber endpoint for the delivery tests, served through the vitest plugin's outbound service:
// every fetch the Worker makes to https://receiver.test arrives here (in Node) as a real HTTP request.
// The path scripts the behaviour: /<key>/<mode>; GET /__log/<key> returns what <key> received.
//   ok            200
//   fail-twice    500, 500, then 200
//   fail-once     500, then 200
//   throttle      429 with Retry-After: 2, then 200
//   slow-once     answers after 2 s the first time (beyond the test timeout), then at once
//   gone          410
//   down          500 always
//   huge          200 with a 64 MiB body made as it is read; `streamed` counts the bytes the Worker pulled

interface Received {
  mode: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  answered: number;
  streamed?: number;
}

const log = new Map<string, Received[]>();

export async function receiver(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname !== "receiver.test") return new Response("no network in tests", { status: 502 });
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] === "__log") return Response.json(log.get(parts[1] ?? "") ?? []);
  // Node's own Ed25519 checks a v1a signature (outbound Standard Webhooks v1a, verified independently)
  if (parts[0] === "__verify-v1a") {
    const { publicKey, message, signature } = (await request.json()) as { publicKey: string; message: string; signature: string };
    // this file runs in Node (the outbound service), where node:crypto and Buffer exist
    const nodeCrypto = (await import(["node", "crypto"].join(":"))) as any;
    const B = (globalThis as any).Buffer;
    const spki = B.concat([B.from("302a300506032b6570032100", "hex"), B.from(publicKey.replace(/^whpk_/, ""), "base64")]);
    const key = nodeCrypto.createPublicKey({ key: spki, format: "der", type: "spki" });
    return Response.json({ ok: nodeCrypto.verify(null, B.from(message), key, B.from(signature, "base64")) as boolean });
  }
  const [key = "", mode = "ok"] = parts;
  const seen = log.get(key) ?? [];
  log.set(key, seen);
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => (headers[k] = v));
  const entry: Received = { mode, headers, body: await request.text(), at: Date.now(), answered: 0 };
  seen.push(entry);
  const n = seen.length;
  const answer = (status: number, extra: Record<string, string> = {}) => {
    entry.answered = status;
    return new Response(status < 300 ? "ok" : `error ${status}`, { status, headers: extra });
  };
  switch (mode) {
    case "fail-twice":
      return answer(n <= 2 ? 500 : 200);
    case "fail-once":
      return answer(n === 1 ? 500 : 200);
    case "throttle":
      return answer(n === 1 ? 429 : 200, n === 1 ? { "retry-after": "2" } : {});
    case "slow-once":
      if (n === 1) await new Promise((r) => setTimeout(r, 2000));
      return answer(200);
    case "gone":
      return answer(410);
    case "down":
      return answer(500);
    case "huge": {
      entry.answered = 200;
      entry.streamed = 0;
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (entry.streamed! >= 64 * 1024 * 1024) return controller.close();
          entry.streamed! += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      return new Response(body, { status: 200 });
    }
    default:
      return answer(200);
  }
}
