import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { eventTypeCatalog, EVENT_TYPES } from "../delivery/event-types";
import type { AppContext } from "../env";
import { defineRoute, json, router, serve } from "./route";
import { partnerPayloadSchemas } from "./webhooks";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Schema = Record<string, any>;
type Doc = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> }; [k: string]: unknown };

const SECURITY_SCHEMES = {
  adminBearer: { type: "http", scheme: "bearer", description: "An operator's token (cgop_…) or the bootstrap ADMIN_TOKEN" },
  fetchToken: { type: "http", scheme: "bearer", description: "A thin subscription's fetch token (cgft_…)" },
  partnerSignature: { type: "apiKey", in: "header", name: "X-Signature", description: "Per source: api_secret header, HMAC-SHA256 header, Stripe-Signature, Standard Webhooks (v1 or v1a) or Healthie's signed payload headers" },
  providerKey: { type: "apiKey", in: "header", name: "X-API-Key" },
  providerId: { type: "apiKey", in: "header", name: "X-Provider-ID" },
} as const;

/** OpenAPI 3.1 of every route, generated from their declarations, plus the partner payloads and the event catalog. */
export function openApiDocument(app: OpenAPIHono<AppContext>): Doc {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme as never);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "claimgate", version: "0.1.0", description: "Edge webhook gateway for healthcare revenue-cycle integrations. Money in responses is decimal USD; times are ISO 8601 UTC." },
  }) as unknown as Doc;
  return { ...doc, "x-partner-payloads": partnerPayloadSchemas(), "x-event-types": eventTypeCatalog() };
}

/** `#/components/schemas/X` and `#/x-partner-payloads/k` inside the document. */
function resolve(doc: Doc, schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) {
    const path = String(s.$ref).replace(/^#\//, "").split("/");
    s = path.reduce<any>((at, key) => at?.[key], doc);
  }
  return s;
}

/**
 * An example for a schema: the one declared on it (or its fields'), else one made from its shape, so every
 * route in /docs shows a request and response body to start from.
 */
export function exampleOf(doc: Doc, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (!s || depth > 8) return null;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (Array.isArray(s.allOf)) return Object.assign({}, ...s.allOf.map((x: Schema) => exampleOf(doc, x, depth + 1)));
  for (const key of ["oneOf", "anyOf"]) {
    if (Array.isArray(s[key])) return exampleOf(doc, s[key].find((x: Schema) => x.type !== "null") ?? s[key][0], depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  if (type === "object" || s.properties) {
    return Object.fromEntries(Object.entries((s.properties ?? {}) as Record<string, Schema>).map(([k, v]) => [k, exampleOf(doc, v, depth + 1)]));
  }
  if (type === "array") return [exampleOf(doc, s.items, depth + 1)];
  if (type === "string") return s.format === "date-time" ? "2026-11-23T10:00:00.000Z" : s.format === "date" ? "2026-11-23" : "string";
  if (type === "integer" || type === "number") return s.minimum ?? 0;
  if (type === "boolean") return true;
  return null;
}

const pretty = (v: unknown) => esc(JSON.stringify(v, null, 2));
const block = (label: string, v: unknown) => `<details><summary>${label}</summary><pre>${pretty(v)}</pre></details>`;

function operationHtml(doc: Doc, method: string, path: string, op: Record<string, any>): string {
  const params = ((op.parameters ?? []) as Schema[])
    .map((p) => `<code>${esc(p.name)}</code> <small>(${esc(p.in)}${p.required ? ", required" : ""})</small>${p.schema?.description ?? p.description ? ` ${esc(String(p.schema?.description ?? p.description))}` : ""}`)
    .join("<br>");
  const body = op.requestBody?.content?.["application/json"];
  const request = body
    ? `<div class="io"><b>Request body</b>${op.requestBody.description ? ` <small>${esc(op.requestBody.description)}</small>` : ""}${block("example", body.example ?? exampleOf(doc, body.schema))}${block("schema", resolve(doc, body.schema))}</div>`
    : "";
  const responses = Object.entries((op.responses ?? {}) as Record<string, any>)
    .map(([status, r]) => {
      const media = r.content?.["application/json"];
      const page = r.content?.["text/html"];
      return `<div class="io"><b class="s${status[0]}">${status}</b> ${esc(r.description ?? "")}${media ? block("example", media.example ?? exampleOf(doc, media.schema)) + block("schema", resolve(doc, media.schema)) : page ? " <small>(HTML page)</small>" : ""}</div>`;
    })
    .join("");
  const who = `${esc(op["x-auth"] ?? "")}${op["x-role"] ? ` · role <b>${esc(op["x-role"])}</b>` : ""}`;
  return `<section class="op" id="${esc(op.operationId ?? `${method}${path}`)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? "")}</p>${op.description ? `<p class="muted">${esc(op.description)}</p>` : ""}<p class="who">auth: ${who}</p>${params ? `<p>${params}</p>` : ""}${request}${responses}</section>`;
}

/** A self-contained reference page (no external scripts or fonts: it must work offline), rendered from the document. */
export function docsPage(doc: Doc): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Record<string, any> })));
  const tags = [...new Set(ops.map((o) => (o.op.tags?.[0] as string) ?? "other"))];
  const toc = tags.map((t) => `<a href="#tag-${esc(t)}">${esc(t)}</a>`).join(" · ");
  const sections = tags
    .map((tag) => `<h2 id="tag-${esc(tag)}">${esc(tag)}</h2>${ops.filter((o) => (o.op.tags?.[0] ?? "other") === tag).map((o) => operationHtml(doc, o.method, o.path, o.op)).join("")}`)
    .join("");
  const catalog = `<h2 id="event-types">Event types</h2><p>What subscribers may name in <code>events</code> (also <code>*</code> and <code>CLAIMS_REMIT_ALL</code>); each with its schema and example at <code>GET /admin/event-types</code> and under <code>x-event-types</code> in the OpenAPI document.</p><table><tr><th>type</th><th>what</th></tr>${EVENT_TYPES.map((t) => `<tr><td><code>${esc(t.name)}</code></td><td>${esc(t.description)}</td></tr>`).join("")}</table>`;
  const partners = `<h2 id="partner-payloads">Partner payloads</h2><p>The body <code>POST /webhooks/{sourceId}</code> accepts depends on the source's kind; each kind's schema:</p>${Object.entries(doc["x-partner-payloads"] as Record<string, unknown>).map(([k, s]) => block(k, s)).join("")}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>claimgate API</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}code{background:#f3f4f6;padding:0 .2rem}.op{border-top:1px solid #ddd;padding:.4rem 0 .8rem}.op h3{margin:.4rem 0;font-size:15px}
.m{font-weight:bold}.get{color:#0a7}.post{color:#06c}.patch,.put{color:#a60}.delete{color:#c33}.io{margin:.3rem 0 .3rem 1rem}details{margin:.15rem 0 .15rem 1rem}summary{cursor:pointer;color:#555}pre{background:#f8f9fb;padding:.5rem;overflow:auto;max-height:24rem}
.s2{color:#087}.s3{color:#555}.s4,.s5{color:#b22}.muted{color:#666}.who{color:#555;font-size:13px}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}</style>
</head><body><h1>claimgate API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1, generated from the routes' own zod declarations: the schemas shown are the ones that validate). ${toc} · <a href="#event-types">event types</a> · <a href="#partner-payloads">partner payloads</a></p>${sections}${catalog}${partners}</body></html>`;
}

/** The landing page, /health, /openapi.json and /docs, declared like every other route; `root` is the whole app. */
export function docsRoutes(root: OpenAPIHono<AppContext>) {
  const docs = router();
  let cached: Doc | undefined;
  const document = () => (cached ??= openApiDocument(root));

  serve(
    docs,
    defineRoute({ method: "get", path: "/", tag: "ops", summary: "What this gateway is, with links to the console, docs and health", auth: "none", responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } } }),
    (c) =>
      c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>claimgate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:720px;padding:0 1rem;color:#222}a{color:#06c}li{margin:.3rem 0}</style>
</head><body><h1>claimgate</h1>
<p>An edge webhook gateway for healthcare revenue-cycle integrations: it verifies partner webhooks (claims
platforms, EHRs, payors, payment processors), keeps every verified one, projects one claim model with
remits and patient payments, and delivers signed Standard Webhooks to subscribers with retries, dead
letters and replay.</p>
<ul>
<li><a href="/console">Operator console</a>: claims, events, deliveries, subscriptions (log in with an operator token)</li>
<li><a href="/docs">API reference</a> and <a href="/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/health">Health</a></li>
</ul>
<p>Partners post to <code>/webhooks/&lt;source id&gt;</code>; patient payments go to <code>/api/webhooks/patient-payment</code>.</p>
</body></html>`),
  );
  serve(
    docs,
    defineRoute({
      method: "get",
      path: "/health",
      tag: "ops",
      summary: "Liveness, no auth",
      auth: "none",
      responses: { 200: json(z.object({ status: z.literal("ok"), service: z.literal("claimgate"), time: z.string() }), "ok") },
    }),
    (c) => c.json({ status: "ok", service: "claimgate", time: new Date().toISOString() }),
  );
  serve(
    docs,
    defineRoute({ method: "get", path: "/openapi.json", tag: "ops", summary: "This document (OpenAPI 3.1)", auth: "none", responses: { 200: json(z.record(z.string(), z.unknown()), "OpenAPI 3.1") } }),
    (c) => c.json(document()),
  );
  serve(
    docs,
    defineRoute({ method: "get", path: "/docs", tag: "ops", summary: "The API reference: each route's parameters, request and response schemas, with an example each", auth: "none", responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } } }),
    (c) => c.html(docsPage(document())),
  );
  return docs;
}
