import { exports } from "cloudflare:workers";
import { settleLifecycles } from "./db";

export const ADMIN_TOKEN = "test-admin-token";
const BASE = "https://claimgate.test";

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A request through the Worker's own fetch handler; the body is always consumed. */
export async function call<T = any>(
  method: string,
  path: string,
  init: { json?: unknown; body?: BodyInit; headers?: Record<string, string>; admin?: boolean } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  // what earlier requests decided in the lifecycle objects is in D1 before this one reads it (helpers/db.ts)
  await settleLifecycles();
  const res = await exports.default.fetch(new Request(BASE + path, { method, headers, body }));
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export const admin = <T = any>(method: string, path: string, json?: unknown) =>
  call<T>(method, path, { admin: true, ...(json !== undefined ? { json } : {}) });

export async function createSource(source: {
  id: string;
  kind: string;
  verification: Record<string, unknown>;
  secrets?: string[];
  retentionDays?: number;
}) {
  const res = await admin("POST", "/admin/sources", source);
  if (res.status !== 201) throw new Error(`createSource ${source.id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** POST a raw body to a partner source with the given headers (content type JSON unless overridden). */
export const postWebhook = (sourceId: string, body: string, headers: Record<string, string> = {}) =>
  call("POST", `/webhooks/${sourceId}`, { body, headers: { "content-type": "application/json", ...headers } });
