import { Hono } from "hono";
import type { AppContext } from "../env";
import { EVENT_TYPES } from "../delivery/event-types";
import { openApiDocument, ROUTES } from "./openapi";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const docs = new Hono<AppContext>();

docs.get("/openapi.json", (c) => c.json(openApiDocument() as object));

/** What this is, for whoever opens the gateway's address: the way to the console, the docs and health. */
docs.get("/", (c) =>
  c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>claimgate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:720px;padding:0 1rem;color:#222}a{color:#06c}li{margin:.3rem 0}</style>
</head><body><h1>claimgate</h1>
<p>An edge webhook gateway for healthcare revenue-cycle integrations: it verifies partner webhooks (claims
platforms, EHRs, payors, payment processors), keeps every verified one, projects one claim model with
remits and patient payments, and delivers signed Standard Webhooks to subscribers with retries, dead
letters and replay.</p>
<ul>
<li><a href="/console">Operator console</a>: events, deliveries, claims, subscriptions (log in with an operator token)</li>
<li><a href="/docs">API reference</a> and <a href="/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/health">Health</a></li>
</ul>
<p>Partners post to <code>/webhooks/&lt;source id&gt;</code>; patient payments go to <code>/api/webhooks/patient-payment</code>.</p>
</body></html>`),
);

/** A self-contained reference page (no external scripts or fonts: it must work offline). */
docs.get("/docs", (c) => {
  const tags = [...new Set(ROUTES.map((r) => r.tag))];
  const sections = tags
    .map((tag) => {
      const rows = ROUTES.filter((r) => r.tag === tag)
        .map(
          (r) =>
            `<tr><td class="m ${r.method}">${r.method.toUpperCase()}</td><td><code>${esc(r.path)}</code></td><td>${esc(r.summary)}</td><td>${esc(r.auth)}</td><td>${Object.entries(r.responses)
              .map(([s, d]) => `<b>${s}</b> ${esc(d)}`)
              .join("<br>")}</td></tr>`,
        )
        .join("");
      return `<h2>${esc(tag)}</h2><table><tr><th></th><th>path</th><th>what</th><th>auth</th><th>responses</th></tr>${rows}</table>`;
    })
    .join("");
  const catalog = `<h2>Event types</h2><p>What subscribers may name in <code>events</code> (also <code>*</code> and <code>CLAIMS_REMIT_ALL</code>); each with its schema and example at <code>GET /admin/event-types</code> and under <code>x-event-types</code> in the OpenAPI document.</p><table><tr><th>type</th><th>what</th></tr>${EVENT_TYPES.map((t) => `<tr><td><code>${esc(t.name)}</code></td><td>${esc(t.description)}</td></tr>`).join("")}</table>`;
  return c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>claimgate API</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:1200px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}.m{font-weight:bold}.get{color:#0a7}.post{color:#06c}.patch,.put{color:#a60}.delete{color:#c33}</style>
</head><body><h1>claimgate API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1, request schemas generated from the routes' zod schemas; partner payload schemas under <code>x-partner-payloads</code>).</p>${sections}${catalog}</body></html>`);
});
