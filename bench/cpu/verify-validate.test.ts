// Verify + validate CPU per request inside workerd, for each partner kind's seed payload, beside a
// hello-world request through the same app measured in the same run. Prints one CPU_RESULT line.
import { it } from "vitest";
import { buildApp } from "../../src/app";
import { parseJsonBody } from "../../src/ingest/read-body";
import { adapterFor } from "../../src/partners/registry";
import { verifyRequest } from "../../src/verify";
import { verificationConfig } from "../../src/verify/config";
import { cms1500, payorStatus, remitBundle, scrubPayload } from "../../test/helpers/fixtures";

const ITERATIONS = Number(import.meta.env?.BENCH_CPU_ITERATIONS ?? 400);
const SECRET = "bench-hmac-secret";
const config = verificationConfig.parse({ scheme: "hmac_sha256", header: "x-signature", prefix: "sha256=", timestampHeader: "x-timestamp" });

async function sign(body: Uint8Array, t: number): Promise<Headers> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const msg = new Uint8Array([...new TextEncoder().encode(`${t}.`), ...body]);
  const sig = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, msg))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return new Headers({ "x-signature": `sha256=${sig}`, "x-timestamp": String(t) });
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await fn();
  return (performance.now() - start) / ITERATIONS;
}

it("verify + validate per request", async () => {
  const app = buildApp();
  const env = {} as never;
  const hello = await timeIt(async () => (await app.fetch(new Request("https://x/health"), env)).text());
  const payloads: Record<string, unknown> = {
    "cair.claim_response": remitBundle(),
    "cair.claim_scrubber": scrubPayload(),
    "healthie.cms1500": cms1500(),
    "payor.claim_status": payorStatus(),
    "cair.patient_payment": { billId: "52343746129383", paymentAmount: 150.75, paymentTraceId: "pi_1" },
  };
  const kinds: Record<string, { ms: number; bytes: number; ratioToHello: number; withinTarget: boolean }> = {};
  const now = Math.floor(Date.now() / 1000);
  for (const [kind, payload] of Object.entries(payloads)) {
    const body = new TextEncoder().encode(JSON.stringify(payload));
    const headers = await sign(body, now);
    const adapter = adapterFor(kind)!;
    const ms = await timeIt(async () => {
      const v = await verifyRequest(config, { headers, body, secrets: [SECRET], now });
      if (!v.ok) throw new Error("verification failed");
      const parsed = adapter.schema.safeParse(parseJsonBody(body));
      if (!parsed.success) throw new Error(`${kind} invalid`);
    });
    kinds[kind] = { ms: round(ms), bytes: body.length, ratioToHello: round(ms / hello), withinTarget: ms <= 1 };
  }
  console.log(`CPU_RESULT ${JSON.stringify({ iterations: ITERATIONS, helloWorldMs: round(hello), targetMs: 1, kinds })}`);
});

const round = (x: number) => Math.round(x * 1000) / 1000;
