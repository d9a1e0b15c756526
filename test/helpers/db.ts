import { env } from "cloudflare:workers";

/**
 * The lifecycle objects answer payments from their own storage and write D1 through an outbox their alarm
 * flushes moments later (src/lifecycle/outbox.ts). Tests that read D1 (directly, or through the API) mean
 * "once D1 has followed", so the readers here flush every lifecycle's outbox first, instead of racing the
 * alarm. test/integration/lifecycle-outbox-integration.test.ts shows the lag and the flush themselves.
 */
export async function settleLifecycles(): Promise<void> {
  const { results } = await env.DB.prepare("SELECT id FROM claim_lifecycles WHERE merged_into IS NULL").all<{ id: string }>();
  await Promise.all(results.map((r) => env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(r.id)).flush()));
}

export const rows = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> => {
  await settleLifecycles();
  return (await env.DB.prepare(sql).bind(...params).all<T>()).results;
};

export const count = async (table: string, where = "1=1", ...params: unknown[]): Promise<number> => {
  await settleLifecycles();
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).bind(...params).first<{ n: number }>())!.n;
};

/** Polls until `check` returns a truthy value (the queue consumer runs in the background). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
