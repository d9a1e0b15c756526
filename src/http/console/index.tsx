/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { raw } from "hono/html";
import { z } from "zod";
import { hourlyBarsSvg, last24Hours, percentiles } from "./charts";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Child } from "hono/jsx";
import { findClaimByAnyId, findClaimByIdentifier, parseIdentifier, readClaim } from "../../claims/read";
import { database } from "../../db/client";
import { deliveries, DELIVERY_STATUSES, events, EVENT_STATUSES } from "../../db/schema";
import { centsToDecimalString } from "../../domain/money";
import { readEventBody } from "../../ingest/archive";
import { reprocessEvent } from "../../queue/reprocess";
import { EVENT_PATTERNS, EVENT_TYPES } from "../../delivery/event-types";
import { createSubscriptionBody, registerSubscription } from "../admin/subscriptions";
import { addSecret, removeSecret } from "../admin/sources";
import { newSubscriptionSecret } from "../../delivery/signing";
import { invalidateSource } from "../../sources/cache";
import { updateSource } from "../../sources/repository";
import { ApiError } from "../../errors";
import { handleError } from "../error-handler";
import { replayDelivery } from "../../delivery/replay";
import { getSubscription, listSubscriptions, rotateSubscriptionSecret, subscriptionView, updateSubscription } from "../../delivery/subscriptions";
import type { AppContext } from "../../env";
import { listCredits } from "../../payments/credits";
import { flushLifecycleNow, lifecycleOutbox } from "../../payments/service";
import { listSources } from "../../sources/repository";
import { auditTrail } from "../admin/audit";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { identify, roleAllows } from "../../operators/identity";
import { bare, defineRoute, html, router, serve, type Auth } from "../route";
import type { Role } from "../../operators/identity";
import { activitySince, claimPageFacts, claimReconciliations, contributingEvents, overviewCounts, deliveryWithAttempts, eventWithProducts, listClaims, listDeliveries, listEvents } from "../../operators/reads";
import { clearLoginFailures, csrfToken, endSession, loginThrottled, newSession, recordLoginFailure, SESSION_COOKIE, sessionOperator, validCsrf } from "./session";

type ConsoleContext = AppContext & { Variables: AppContext["Variables"] & { session: string; csrf: string } };

/**
 * The operator console: server-rendered with hono/jsx, no build step, no external assets. Login with the
 * admin token sets an HttpOnly, Secure, SameSite=Strict session cookie; every POST carries a CSRF token
 * bound to the session and must come from the console's own origin.
 */
export const consoleApp = router<ConsoleContext>();

/** A console page or form action, declared (and documented) like every route; its role is checked from here. */
function page<const M extends "get" | "post", const P extends string>(r: { method: M; path: P; summary: string; auth?: Auth; role?: Role; responses: Record<number, { description: string }> }) {
  const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return defineRoute({
    ...r,
    tag: "console",
    auth: r.auth ?? "admin",
    ...(names.length ? { request: { params: z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) } } : {}),
  });
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222}header{background:#123;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#cde;text-decoration:none}main{padding:1rem 1.2rem;max-width:1200px}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #e3e3e3;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f6f7f9}.ok{color:#087}.bad{color:#b22}.muted{color:#777}
form.inline{display:inline}button{cursor:pointer}time{white-space:nowrap}input,select{padding:.25rem}`;

/**
 * An instant: rendered in UTC on the server, shown in the viewer's own zone by /console/assets/local-time.js
 * (same-origin, the only script the CSP allows), with the UTC instant kept on hover.
 */
const Time = (p: { at: string | null | undefined }) =>
  p.at ? <time datetime={p.at} title={`${p.at} (UTC)`}>{`${p.at.slice(0, 19).replace("T", " ")} UTC`}</time> : <span class="muted">—</span>;

/** Rewrites each <time datetime> into the viewer's local time; without script, the UTC text stays. */
const LOCAL_TIME_JS = `for (const t of document.querySelectorAll("time[datetime]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (Number.isNaN(d.getTime())) continue;
  t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  t.dataset.local = "1";
}
`;

function Page(props: { title: string; children: Child; csrf?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{`${props.title} · claimgate`}</title>
        <style>{STYLE}</style>
        <script src="/console/assets/local-time.js" defer></script>
      </head>
      <body>
        <header>
          <strong>claimgate</strong>
          <a href="/console">Overview</a>
          <a href="/console/claims">Claims</a>
          <a href="/console/events">Events</a>
          <a href="/console/deliveries">Deliveries</a>
          <a href="/console/deliveries?status=dead">Dead letters</a>
          <a href="/docs">API</a>
          {props.csrf ? (
            <form class="inline" method="post" action="/console/logout">
              <input type="hidden" name="csrf" value={props.csrf} />
              <button type="submit">Log out</button>
            </form>
          ) : null}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

// Every console answer: a strict CSP (no script at all, the page's own inline style only), no framing,
// no referrer, and never cached (the pages carry PHI).
consoleApp.use(
  "*",
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'unsafe-inline'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
  }),
);
consoleApp.use("*", async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});
// POSTs must come from the console's own origin (hono/csrf checks Origin on form posts).
consoleApp.use("*", csrf());

const clientOf = (c: { req: { header(n: string): string | undefined } }) => c.req.header("cf-connecting-ip") ?? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ?? "unknown";

serve(
  consoleApp,
  page({ method: "get", path: "/assets/local-time.js", summary: "The console's one script: shows times in the viewer's zone", auth: "none", responses: { 200: bare("JavaScript") } }),
  (c) => c.body(LOCAL_TIME_JS, 200, { "content-type": "text/javascript; charset=utf-8" }),
);

serve(consoleApp, page({ method: "get", path: "/login", summary: "Console login form", auth: "none", responses: { 200: html("HTML") } }), (c) =>
  c.html(
    <Page title="Log in">
      <form method="post" action="/console/login">
        <label>
          Operator token <input type="password" name="token" autocomplete="current-password" required />
        </label>{" "}
        <button type="submit">Log in</button>
      </form>
      {c.req.query("failed") ? <p class="bad">That token is not valid.</p> : null}
      {c.req.query("throttled") ? <p class="bad">Too many failed logins from here; try again in 15 minutes.</p> : null}
    </Page>,
  ),
);

/** Any operator's token (or ADMIN_TOKEN) logs in; failed attempts are throttled per client address. */
serve(consoleApp, page({ method: "post", path: "/login", summary: "Log in with the admin token (sets the session cookie)", auth: "none", responses: { 303: bare("to /console or back to the form") } }), async (c) => {
  const db = database(c.env.DB);
  const client = clientOf(c);
  if (await loginThrottled(db, client)) return c.redirect("/console/login?throttled=1", 303);
  const form = await c.req.parseBody();
  const token = typeof form.token === "string" ? form.token : "";
  const operator = await identify(db, c.env.ADMIN_TOKEN, token || null);
  if (!operator) {
    await recordLoginFailure(db, client);
    return c.redirect("/console/login?failed=1", 303);
  }
  await clearLoginFailures(db, client);
  const session = await newSession(db, operator);
  setCookie(c, SESSION_COOKIE, session.value, { httpOnly: true, secure: true, sameSite: "Strict", path: "/console", maxAge: session.maxAge });
  return c.redirect("/console", 303);
});

const csrfKey = (env: { SECRETS_KEY?: string; ADMIN_TOKEN?: string }) => env.SECRETS_KEY ?? env.ADMIN_TOKEN ?? "";

// A role too low for a page (checked by each page's declaration) is a page too, not JSON.
consoleApp.onError((e, c) => {
  if (e instanceof ApiError && e.status === 403) {
    return c.html(<Page title="Not for your role" csrf={c.get("csrf")}><p class="bad">{e.message}</p></Page>, 403);
  }
  return handleError(e, c);
});

// Everything below needs a live session and the role its declaration gives the page; POSTs also need
// the CSRF token. Mutations and payload reads go to the audit trail, with the operator as actor.
consoleApp.use("*", async (c, next) => {
  const session = getCookie(c, SESSION_COOKIE);
  const operator = await sessionOperator(database(c.env.DB), session);
  if (!session || !operator) return c.redirect("/console/login", 303);
  c.set("session", session);
  c.set("operator", operator);
  c.set("csrf", await csrfToken(csrfKey(c.env), session));
  if (c.req.method === "POST") {
    const form = await c.req.parseBody();
    const token = typeof form.csrf === "string" ? form.csrf : undefined;
    if (!(await validCsrf(csrfKey(c.env), session, token))) return c.text("Forbidden: bad or missing CSRF token", 403);
  }
  await next();
});
consoleApp.use("*", auditTrail);

/** Logging out ends the session server-side: the cookie is worthless from then on. */
serve(consoleApp, page({ method: "post", path: "/logout", summary: "Log out (CSRF token)", role: "viewer", responses: { 303: bare("to the login form"), 403: html("bad CSRF token") } }), async (c) => {
  await endSession(database(c.env.DB), c.get("session"));
  deleteCookie(c, SESSION_COOKIE, { path: "/console", secure: true });
  return c.redirect("/console/login", 303);
});

/** The overview's 24-hour charts (inline SVG) and counts of events needing attention. */
async function last24hCharts(db: ReturnType<typeof database>) {
  const hours = last24Hours();
  const since = `${hours[0]}:00:00.000Z`;
  const { attempts, accepted, counts } = await activitySince(db, since);
  const index = new Map(hours.map((h, i) => [h, i]));
  const zero = () => hours.map(() => 0);
  return {
    pendingEvents: counts.find((x) => x.status === "pending")?.n ?? 0,
    invalidEvents: counts.find((x) => x.status === "invalid")?.n ?? 0,
    failedEvents: counts.find((x) => x.status === "failed")?.n ?? 0,
    subscription(id: string): string {
      const mine = attempts.filter((a) => a.subscriptionId === id);
      const ok = zero();
      const bad = zero();
      for (const a of mine) {
        const i = index.get(a.at.slice(0, 13));
        if (i === undefined) continue;
        if (a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300) ok[i]!++;
        else bad[i]!++;
      }
      const p = percentiles(mine.map((a) => a.latencyMs));
      const svg = hourlyBarsSvg({ series: [{ name: "succeeded", color: "#0a7", values: ok }, { name: "failed", color: "#c33", values: bad }] }, hours, `deliveries of ${id}`);
      return `${svg}<br><small>${p ? `latency p50 ${p.p50} ms · p95 ${p.p95} ms` : "no attempts in 24 h"}</small>`;
    },
    source(id: string): string {
      const ok = zero();
      const bad = zero();
      for (const r of accepted.filter((x) => x.sourceId === id)) {
        const i = index.get(r.hour);
        if (i === undefined) continue;
        if (r.status === "invalid") bad[i]! += r.n;
        else ok[i]! += r.n;
      }
      return hourlyBarsSvg({ series: [{ name: "accepted", color: "#06c", values: ok }, { name: "invalid", color: "#c33", values: bad }] }, hours, `events of ${id}`);
    },
  };
}

/** Money for reading: two decimals, from the exact decimal the read model already made of the cents. */
const usd = (amount: number | null | undefined) => (amount == null ? "—" : amount.toFixed(2));

const Status = (p: { s: string }) => <span class={p.s === "delivered" || p.s === "processed" ? "ok" : p.s === "dead" || p.s === "failed" ? "bad" : "muted"}>{p.s}</span>;

serve(consoleApp, page({ method: "get", path: "/", summary: "Overview: sources, subscriptions with health, latest events", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const db = database(c.env.DB);
  const [sources, subs, { deliveryCounts: health, latestEvents: recent }] = await Promise.all([listSources(db), listSubscriptions(db), overviewCounts(db)]);
  const charts = await last24hCharts(db);
  const count = (id: string, status: string) => health.find((h) => h.subscriptionId === id && h.status === status)?.n ?? 0;
  const admin = roleAllows(c.get("operator")!.role, "admin");
  return c.html(
    <Page title="Overview" csrf={c.get("csrf")}>
      <p>
        <b>{health.filter((h) => h.status === "dead").reduce((n, h) => n + h.n, 0)}</b> dead letters ·{" "}
        <b>{health.filter((h) => h.status === "pending").reduce((n, h) => n + h.n, 0)}</b> deliveries pending ·{" "}
        <b>{charts.pendingEvents}</b> events pending · <b>{charts.invalidEvents}</b> invalid, <b>{charts.failedEvents}</b> failed events
      </p>
      <h2>Sources</h2>
      <table>
        <tr><th>id</th><th>kind</th><th>verification</th><th>last 24 h (accepted / invalid per hour)</th><th>secrets</th><th>enabled</th></tr>
        {sources.map((s) => (
          <tr>
            <td><a href={`/console/events?source=${encodeURIComponent(s.id)}`}>{s.id}</a></td><td>{s.kind}</td><td>{s.verification.scheme}</td>
            <td>{raw(charts.source(s.id))}</td>
            <td>
              {s.secrets.map((x) => (
                <span>
                  #{x.n}{" "}
                  {admin && s.secrets.length > 1 ? <Action path={`/console/sources/${s.id}/secrets/${x.n}/delete`} label="remove" csrf={c.get("csrf")} /> : null}{" "}
                </span>
              ))}
              {admin ? <Action path={`/console/sources/${s.id}/secrets`} label="Add a generated secret" csrf={c.get("csrf")} /> : null}
            </td>
            <td>{s.enabled ? "yes" : "no"} {admin ? <Action path={`/console/sources/${s.id}/${s.enabled ? "disable" : "enable"}`} label={s.enabled ? "Disable" : "Enable"} csrf={c.get("csrf")} /> : null}</td>
          </tr>
        ))}
      </table>
      <h2>Subscriptions</h2>
      {roleAllows(c.get("operator")!.role, "admin") ? <p><a href="/console/subscriptions/new">New subscription</a></p> : null}
      <table>
        <tr><th>id</th><th>url</th><th>events</th><th>health</th><th>last 24 h (succeeded / failed attempts per hour)</th><th>last failure</th><th>active</th></tr>
        {subs.map(subscriptionView).map((s) => {
          const delivered = count(s.id, "delivered");
          const dead = count(s.id, "dead");
          const total = delivered + dead;
          return (
            <tr>
              <td><a href={`/console/deliveries?subscription=${s.id}`}>{s.id}</a></td><td>{s.url}</td><td>{s.events.join(", ")}</td>
              <td>{total ? `${Math.round((delivered / total) * 100)} % delivered (${delivered}/${total})` : "no deliveries yet"}; {count(s.id, "pending")} pending</td>
              <td>{raw(charts.subscription(s.id))}</td>
              <td>{s.failingSince ? <span class="bad">failing since <Time at={s.failingSince} /></span> : <span class="muted">{s.lastSuccessAt ? <>ok, last <Time at={s.lastSuccessAt} /></> : "—"}</span>}</td>
              <td>
                {s.active ? "yes" : <span class="bad">no ({s.disabledReason})</span>}{" "}
                {admin ? <Action path={`/console/subscriptions/${s.id}/${s.active ? "disable" : "enable"}`} label={s.active ? "Disable" : "Enable"} csrf={c.get("csrf")} /> : null}{" "}
                {admin ? <Action path={`/console/subscriptions/${s.id}/rotate`} label="Rotate secret" csrf={c.get("csrf")} /> : null}
              </td>
            </tr>
          );
        })}
      </table>
      <h2>Find a claim</h2>
      <ClaimSearchForms csrf={c.get("csrf")} />
      <h2>Latest events</h2>
      <EventTable rows={recent} />
    </Page>,
  );
});

/** Event rows: an invalid or failed one shows its reason. Times in UTC, the instant on hover. */
function EventTable(p: { rows: Pick<typeof events.$inferSelect, "id" | "sourceId" | "kind" | "status" | "lastError" | "eventType" | "receivedAt">[] }) {
  return (
    <table>
      <tr><th>event</th><th>source</th><th>kind</th><th>status</th><th>produced / reason</th><th>received</th></tr>
      {p.rows.map((e) => (
        <tr>
          <td><a href={`/console/events/${e.id}`}>{e.id}</a></td><td>{e.sourceId}</td><td>{e.kind}</td><td><Status s={e.status} /></td>
          <td>{e.status === "invalid" || e.status === "failed" ? <span class="bad">{e.lastError ?? ""}</span> : (e.eventType ?? "")}</td>
          <td><Time at={e.receivedAt} /></td>
        </tr>
      ))}
    </table>
  );
}

/** Rows per page: `?limit=` (1–200), else the page's default. */
const pageSize = (value: string | undefined, fallback: number) => Math.min(200, Math.max(1, Number(value) || fallback));

/** Events with filters (source, kind, produced type, status, claim, time range) and cursor pages (opaque ids only). */
serve(consoleApp, page({ method: "get", path: "/events", summary: "Event stream with filters", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const q = c.req.query();
  const status = q.status && (EVENT_STATUSES as readonly string[]).includes(q.status) ? (q.status as (typeof EVENT_STATUSES)[number]) : undefined;
  const bound = (v: string | undefined) => (v && !Number.isNaN(Date.parse(v)) ? new Date(Date.parse(v)).toISOString() : undefined);
  const { data: rows, nextBefore: next } = await listEvents(database(c.env.DB), {
    source: q.source || undefined,
    kind: q.kind || undefined,
    type: q.type || undefined,
    status,
    claim: q.claim || undefined,
    since: bound(q.since),
    until: bound(q.until),
    before: q.before || undefined,
    limit: pageSize(q.limit, 100),
  });
  const keep = new URLSearchParams(Object.entries(q).filter(([k, v]) => k !== "before" && v) as [string, string][]);
  return c.html(
    <Page title="Events" csrf={c.get("csrf")}>
      <form method="get" action="/console/events">
        <input name="source" placeholder="source id" value={q.source ?? ""} />{" "}
        <input name="kind" placeholder="kind" value={q.kind ?? ""} />{" "}
        <input name="type" placeholder="produced type" value={q.type ?? ""} />{" "}
        <select name="status">
          {["", ...EVENT_STATUSES].map((s) => <option value={s} selected={s === (status ?? "")}>{s || "any status"}</option>)}
        </select>{" "}
        <input name="claim" placeholder="claim id (clm_…)" value={q.claim ?? ""} />{" "}
        <input name="since" placeholder="since (ISO)" value={q.since ?? ""} size={12} /> <input name="until" placeholder="until (ISO)" value={q.until ?? ""} size={12} />{" "}
        <button type="submit">Filter</button>
      </form>
      <EventTable rows={rows} />
      {next ? <p><a href={`/console/events?${keep.toString()}${keep.toString() ? "&" : ""}before=${next}`}>Older events →</a></p> : null}
    </Page>,
  );
});

serve(consoleApp, page({ method: "get", path: "/events/{id}", summary: "One event: validation errors, what it produced (events, payments), deliveries, payload; Reprocess for invalid and failed events", role: "operator", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const found = await eventWithProducts(database(c.env.DB), c.req.param("id"));
  if (!found) return c.notFound();
  const { event: e, produced, payments, deliveries: sent } = found;
  const errors = e.validationErrors ? (JSON.parse(e.validationErrors) as { path: string; message: string }[]) : [];
  const stored = await readEventBody(c.env, e);
  let payload: string;
  if (stored.kind === "deleted") payload = `(deleted ${stored.at}: past the source's retention; the metadata above stays)`;
  else if (stored.kind === "missing") payload = "(the archived body is missing from R2)";
  else {
    try {
      payload = JSON.stringify(JSON.parse(stored.text), null, 2);
    } catch {
      payload = stored.text;
    }
  }
  const notice = c.req.query("reprocess");
  return c.html(
    <Page title={`Event ${e.id}`} csrf={c.get("csrf")}>
      <p>{e.sourceId} · {e.kind} · <Status s={e.status} /> · {e.eventType ?? (e.status === "processed" ? "produced no event" : "nothing produced yet")} · attempts {e.attempts}{e.lastError ? ` · ${e.lastError}` : ""}</p>
      <p>received <Time at={e.receivedAt} /> · processed <Time at={e.processedAt} /></p>
      {notice ? <p class={notice === "processed" ? "ok" : "bad"} id="reprocess-result">Reprocess: {notice}</p> : null}
      {e.status === "invalid" || e.status === "failed" ? (
        <form class="inline" method="post" action={`/console/events/${e.id}/reprocess`}>
          <input type="hidden" name="csrf" value={c.get("csrf")} />
          <button type="submit">Reprocess</button> <span class="muted">validates the stored body again with today's schema and, if valid, projects it once</span>
        </form>
      ) : null}
      {errors.length ? (
        <>
          <h2>Validation errors</h2>
          <table class="errors">
            <tr><th>field</th><th>problem</th></tr>
            {errors.map((x) => <tr><td>{x.path || "(body)"}</td><td>{x.message}</td></tr>)}
          </table>
        </>
      ) : null}
      <h2>Produced</h2>
      <ul>
        {produced.map((p) => (
          <li>{p.type}{p.claimId ? <> for claim <a href={`/console/claims/${p.claimId}`}>{p.claimId}</a></> : null}</li>
        ))}
        {payments.map((p) => (
          <li>
            payment {p.paymentId} ({p.status}): {p.amountSetOnClaim} set on claim <a href={`/console/claims/${p.claimId}`}>{p.claimId}</a>
            {p.creditId ? `, credit ${p.creditId} of ${p.excessAmount}` : ""}
          </li>
        ))}
        {produced.length + payments.length === 0 ? <li class="muted">nothing</li> : null}
      </ul>
      <h2>Deliveries</h2>
      <DeliveryTable rows={sent} csrf={c.get("csrf")} canReplay={true} />
      <h2>Payload (admins only)</h2>
      <pre>{payload}</pre>
    </Page>,
  );
});

serve(consoleApp, page({ method: "post", path: "/claims/{id}/flush", summary: "Send a claim's lifecycle's pending money changes to D1 now (CSRF token)", role: "operator", responses: { 303: bare("to the claim, with the result"), 403: html("bad CSRF token") } }), async (c) => {
  const db = database(c.env.DB);
  const claim = await readClaim(db, c.req.param("id"));
  if (!claim) return c.notFound();
  const result = await flushLifecycleNow(c.env, db, claim.lifecycle.id);
  const said = result.outcome === "flushed" ? `flushed (${result.entries} change(s))` : `refused: ${result.error} (${result.pending} waiting)`;
  return c.redirect(`/console/claims/${claim.id}?flush=${encodeURIComponent(said)}`, 303);
});

serve(consoleApp, page({ method: "post", path: "/events/{id}/reprocess", summary: "Reprocess an invalid or failed event (CSRF token)", role: "operator", responses: { 303: bare("to the event, with the result"), 403: html("bad CSRF token") } }), async (c) => {
  const id = c.req.param("id");
  let result: string;
  try {
    result = (await reprocessEvent(c.env, database(c.env.DB), id)).status;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status >= 500) throw e;
    result = `${e.code}: ${e.message}`;
  }
  return c.redirect(`/console/events/${id}?reprocess=${encodeURIComponent(result)}`, 303);
});

/** Replay buttons only for roles that may replay (operator and admin); viewers see the metadata. */
function DeliveryTable(p: { rows: (typeof deliveries.$inferSelect)[]; csrf: string; canReplay: boolean }) {
  return (
    <table>
      <tr><th>delivery</th><th>type</th><th>subscription</th><th>status</th><th>attempts</th><th>created</th><th>next attempt</th><th>last</th><th></th></tr>
      {p.rows.map((d) => (
        <tr>
          <td><a href={`/console/deliveries/${d.id}`}>{d.id}</a></td><td>{d.eventType}</td><td>{d.subscriptionId}</td><td><Status s={d.status} /></td><td>{d.attempts}</td><td><Time at={d.createdAt} /></td>
          <td>{d.status === "pending" && d.nextAttemptAt ? <Time at={d.nextAttemptAt} /> : ""}</td>
          <td>{d.lastStatusCode ?? ""} {d.lastError ?? ""}</td>
          <td>{p.canReplay && (d.status === "dead" || d.status === "cancelled") ? <ReplayButton id={d.id} csrf={p.csrf} /> : null}</td>
        </tr>
      ))}
    </table>
  );
}

/** A one-button, CSRF-protected POST form. */
const Action = (p: { path: string; label: string; csrf: string }) => (
  <form class="inline" method="post" action={p.path}>
    <input type="hidden" name="csrf" value={p.csrf} />
    <button type="submit">{p.label}</button>
  </form>
);

const ReplayButton = (p: { id: string; csrf: string }) => (
  <form class="inline" method="post" action={`/console/deliveries/${p.id}/replay`}>
    <input type="hidden" name="csrf" value={p.csrf} />
    <button type="submit">Replay</button>
  </form>
);

serve(consoleApp, page({ method: "get", path: "/deliveries", summary: "Deliveries; ?status=dead lists dead letters with Replay", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const status = c.req.query("status") || undefined;
  const subscription = c.req.query("subscription") || undefined;
  const before = c.req.query("before") || undefined;
  const { data: rows, nextBefore } = await listDeliveries(database(c.env.DB), { status: (DELIVERY_STATUSES as readonly string[]).includes(status ?? "") ? (status as (typeof DELIVERY_STATUSES)[number]) : undefined, subscription, before, limit: pageSize(c.req.query("limit"), 100) });
  const keep = new URLSearchParams(Object.entries({ status, subscription, limit: c.req.query("limit") }).filter((e): e is [string, string] => !!e[1]));
  keep.set("before", nextBefore ?? "");
  return c.html(
    <Page title={status === "dead" ? "Dead letters" : "Deliveries"} csrf={c.get("csrf")}>
      <DeliveryTable rows={rows} csrf={c.get("csrf")} canReplay={roleAllows(c.get("operator")!.role, "operator")} />
      {nextBefore ? <p><a class="next" href={`/console/deliveries?${keep.toString()}`}>Older deliveries →</a></p> : null}
    </Page>,
  );
});

serve(consoleApp, page({ method: "get", path: "/deliveries/{id}", summary: "A delivery's attempts timeline", role: "operator", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const found = await deliveryWithAttempts(database(c.env.DB), c.req.param("id"));
  if (!found) return c.notFound();
  const { delivery: d, attempts } = found;
  return c.html(
    <Page title={`Delivery ${d.id}`} csrf={c.get("csrf")}>
      <p>{d.eventType} → {d.subscriptionId} · <Status s={d.status} /> {d.status === "dead" || d.status === "cancelled" ? <ReplayButton id={d.id} csrf={c.get("csrf")} /> : null}</p>
      <h2>Attempts</h2>
      <table class="attempts">
        <tr><th>#</th><th>at</th><th>status</th><th>latency</th><th>response / error</th></tr>
        {attempts.map((a) => (
          <tr><td>{a.attempt}</td><td><Time at={a.at} /></td><td class={a.statusCode && a.statusCode < 300 ? "ok" : "bad"}>{a.statusCode ?? "—"}</td><td>{a.latencyMs} ms</td><td>{a.error ?? a.responseBody ?? ""}</td></tr>
        ))}
      </table>
      {d.lifecycleId ? <p>Claim lifecycle {d.lifecycleId}</p> : null}
    </Page>,
  );
});

serve(consoleApp, page({ method: "post", path: "/deliveries/{id}/replay", summary: "Replay a delivery (CSRF token)", role: "operator", responses: { 303: bare("to the delivery"), 403: html("bad CSRF token") } }), async (c) => {
  // a pending delivery is not replayed again (its page says pending); a missing one is a 404 below
  await replayDelivery(c.env, database(c.env.DB), c.req.param("id"));
  return c.redirect(`/console/deliveries/${c.req.param("id")}`, 303);
});

/** A subscription form whose event types come from the catalog: a typo cannot be made. */
serve(consoleApp, page({ method: "get", path: "/subscriptions/new", summary: "A subscription form; event types picked from the catalog", role: "admin", responses: { 200: html("HTML"), 303: bare("to login"), 403: html("role") } }), (c) =>
  c.html(
    <Page title="New subscription" csrf={c.get("csrf")}>
      <form method="post" action="/console/subscriptions">
        <input type="hidden" name="csrf" value={c.get("csrf")} />
        <p><label>Endpoint URL <input name="url" type="url" size={60} required placeholder="https://hooks.example.com/claimgate" /></label></p>
        <fieldset>
          <legend>Event types</legend>
          {[...EVENT_PATTERNS, ...EVENT_TYPES.map((t) => t.name)].map((name) => (
            <label class="event-type" style="display:block">
              <input type="checkbox" name="events" value={name} /> <code>{name}</code>{" "}
              <span class="muted">{EVENT_TYPES.find((t) => t.name === name)?.description ?? (name === "*" ? "every event type" : "both remit types")}</span>
            </label>
          ))}
        </fieldset>
        <p>
          Signing: <label><input type="checkbox" name="signing" value="v1" checked /> v1 (HMAC)</label>{" "}
          <label><input type="checkbox" name="signing" value="v1a" /> v1a (Ed25519)</label>
        </p>
        <p>
          <label>Payload <select name="payload"><option value="full">full</option><option value="thin">thin (ids and a fetch URL)</option></select></label>{" "}
          <label>Rate limit (deliveries/s, empty: none) <input name="rateLimit" type="number" min="1" max="1000" /></label>
        </p>
        <p><label>Description <input name="description" size={50} /></label></p>
        <button type="submit">Create</button>
      </form>
    </Page>,
  ),
);

serve(consoleApp, page({ method: "post", path: "/subscriptions", summary: "Create a subscription (CSRF token); the secret, fetch token and public key shown once", role: "admin", responses: { 201: html("HTML with the secret"), 422: html("HTML naming the problem"), 403: html("bad CSRF token or role") } }), async (c) => {
  const form = await c.req.parseBody({ all: true });
  const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === "string");
  const candidate = {
    url: typeof form.url === "string" ? form.url : "",
    events: list(form.events),
    signing: list(form.signing),
    payload: form.payload === "thin" ? "thin" : "full",
    ...(typeof form.rateLimit === "string" && form.rateLimit ? { rateLimit: Number(form.rateLimit) } : {}),
    ...(typeof form.description === "string" && form.description ? { description: form.description } : {}),
  };
  const parsed = createSubscriptionBody.safeParse(candidate);
  let created: Awaited<ReturnType<typeof registerSubscription>> | null = null;
  let problem: string | null = parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join(".") || "form"}: ${i.message}`).join("; ");
  if (parsed.success) {
    try {
      created = await registerSubscription(c.env, parsed.data);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      problem = e.message;
    }
  }
  if (!created) return c.html(<Page title="New subscription" csrf={c.get("csrf")}><p class="bad">Not created: {problem}</p><p><a href="/console/subscriptions/new">Back to the form</a></p></Page>, 422);
  return c.html(
    <Page title={`Subscription ${created.id}`} csrf={c.get("csrf")}>
      <p class="ok">Created. Copy these now: they are shown this once.</p>
      <table>
        <tr><th>signing secret</th><td><code>{created.secret}</code></td></tr>
        {created.publicKey ? <tr><th>public key (v1a)</th><td><code>{created.publicKey}</code></td></tr> : null}
        {created.fetchToken ? <tr><th>fetch token (thin payloads)</th><td><code>{created.fetchToken}</code></td></tr> : null}
        <tr><th>events</th><td>{created.events.join(", ")}</td></tr>
      </table>
      <p><a href="/console">Overview</a></p>
    </Page>,
    201,
  );
});

// Manage (admin; audited like every console POST). Secrets the gateway makes are shown once, on the answer.
const shownOnce = (c: Context<ConsoleContext>, title: string, rows: [string, string][]) =>
  c.html(
    <Page title={title} csrf={c.get("csrf")}>
      <p class="ok">Done. Copy this now: it is shown this once.</p>
      <table>{rows.map(([k, v]) => <tr><th>{k}</th><td><code>{v}</code></td></tr>)}</table>
      <p><a href="/console">Overview</a></p>
    </Page>,
  );
const problemPage = (c: Context<ConsoleContext>, e: unknown) => {
  if (!(e instanceof ApiError) || e.status >= 500) throw e;
  return c.html(<Page title="Not done" csrf={c.get("csrf")}><p class="bad">{e.message}</p><p><a href="/console">Overview</a></p></Page>, e.status as 404);
};

for (const [action, active] of [["enable", true], ["disable", false]] as const) {
  const verb = action === "enable" ? "Enable" : "Disable";
  const done = { 303: bare("to the overview"), 403: html("bad CSRF token or role") };
  serve(consoleApp, page({ method: "post", path: `/subscriptions/{id}/${action}`, summary: `${verb} a subscription (CSRF token)`, role: "admin", responses: done }), async (c) => {
    const row = await updateSubscription(database(c.env.DB), c.req.param("id"), active ? { active, disabledReason: null, failingSince: null } : { active, disabledReason: "disabled by an operator" });
    if (!row) return problemPage(c, new ApiError(404, "SUBSCRIPTION_NOT_FOUND", "No such subscription."));
    return c.redirect("/console", 303);
  });
  serve(consoleApp, page({ method: "post", path: `/sources/{id}/${action}`, summary: `${verb} a source (CSRF token)`, role: "admin", responses: done }), async (c) => {
    if (!(await updateSource(database(c.env.DB), c.req.param("id"), { enabled: active }))) return problemPage(c, new ApiError(404, "SOURCE_NOT_FOUND", "No such source."));
    invalidateSource(c.req.param("id"));
    return c.redirect("/console", 303);
  });
}

serve(consoleApp, page({ method: "post", path: "/subscriptions/{id}/rotate", summary: "Rotate a subscription's secret (CSRF token); the new one shown once, the old one signs for 24 h", role: "admin", responses: { 200: html("HTML with the new secret"), 403: html("bad CSRF token or role") } }), async (c) => {
  const db = database(c.env.DB);
  const id = c.req.param("id");
  if (!(await getSubscription(db, id))) return problemPage(c, new ApiError(404, "SUBSCRIPTION_NOT_FOUND", "No such subscription."));
  const secret = newSubscriptionSecret();
  const rotated = await rotateSubscriptionSecret(db, c.env.SECRETS_KEY, id, secret, 86_400);
  return shownOnce(c, `Subscription ${id}: secret rotated`, [
    ["new signing secret", secret],
    ...(rotated.publicKey ? ([["new public key (v1a)", rotated.publicKey]] as [string, string][]) : []),
    ["old secret signs until", rotated.previousSecretsExpireAt],
  ]);
});

serve(consoleApp, page({ method: "post", path: "/sources/{id}/secrets", summary: "Add a generated secret to a source (CSRF token), shown once", role: "admin", responses: { 200: html("HTML with the secret"), 403: html("bad CSRF token or role") } }), async (c) => {
  try {
    const added = await addSecret(c.env, c.req.param("id"), undefined);
    return shownOnce(c, `Source ${added.sourceId}: secret #${added.n} added`, [["secret", added.secret!]]);
  } catch (e) {
    return problemPage(c, e);
  }
});

serve(consoleApp, page({ method: "post", path: "/sources/{id}/secrets/{n}/delete", summary: "Remove a source secret, never the last (CSRF token)", role: "admin", responses: { 303: bare("to the overview"), 409: html("LAST_SECRET"), 403: html("bad CSRF token or role") } }), async (c) => {
  try {
    await removeSecret(c.env, c.req.param("id"), Number(c.req.param("n")));
    return c.redirect("/console", 303);
  } catch (e) {
    return problemPage(c, e);
  }
});


/** Claim rows: ids, bill, status and money; each opens the claim page. */
function ClaimTable(p: { rows: Awaited<ReturnType<typeof listClaims>>["data"] }) {
  return (
    <table class="claims">
      <tr><th>claim</th><th>bill</th><th>status</th><th>payer</th><th>charge</th><th>patient responsibility</th><th>patient paid</th><th>service date</th><th>created</th></tr>
      {p.rows.map((r) => (
        <tr>
          <td><a href={`/console/claims/${r.id}`}>{r.id}</a></td><td>{r.billId ?? "—"}</td><td>{r.status}</td><td>{r.payerId ?? ""}</td>
          <td>{usd(r.totalCharge)}</td><td>{usd(r.patientResponsibility)}</td><td>{usd(r.patientPaid)}</td><td>{r.serviceDate ?? ""}</td><td><Time at={r.createdAt} /></td>
        </tr>
      ))}
    </table>
  );
}

/** Both searches are POST forms: bill ids and patient references never sit in a URL, a history or a trace store. */
function ClaimSearchForms(p: { csrf: string; patient?: string }) {
  return (
    <>
      <form method="post" action="/console/claims/search" class="search-identifier">
        <input type="hidden" name="csrf" value={p.csrf} />
        <input name="identifier" placeholder="a bill id, CLM- id, partner claim id or our id; or system|value" size={70} required />{" "}
        <button type="submit">Find by identifier</button>
      </form>
      <form method="post" action="/console/claims/search" class="search-patient">
        <input type="hidden" name="csrf" value={p.csrf} />
        <input name="patient" placeholder="patient reference: Patient/<id>, a partner's patient id, or ours" size={70} value={p.patient ?? ""} required />{" "}
        <button type="submit">Find by patient</button>
      </form>
    </>
  );
}

serve(consoleApp, page({ method: "get", path: "/claims", summary: "Claims, newest first, with search by identifier or patient reference (POST forms); cursor pages", role: "operator", responses: { 200: html("HTML"), 303: bare("to login"), 403: html("role") } }), async (c) => {
  const before = c.req.query("before") || undefined;
  const limit = pageSize(c.req.query("limit"), 50);
  const { data, nextBefore } = await listClaims(database(c.env.DB), { before, limit });
  return c.html(
    <Page title="Claims" csrf={c.get("csrf")}>
      <ClaimSearchForms csrf={c.get("csrf")} />
      <ClaimTable rows={data} />
      {nextBefore ? <p><a class="next" href={`/console/claims?before=${encodeURIComponent(nextBefore)}${c.req.query("limit") ? `&limit=${limit}` : ""}`}>Older claims →</a></p> : null}
    </Page>,
  );
});

serve(consoleApp, page({ method: "post", path: "/claims/search", summary: "Find a claim by identifier (opens its page by our opaque id) or a patient's claims by patient reference (a page of results; the next page is a POST too). Form body, CSRF token", role: "operator", responses: { 200: html("the patient's claims"), 303: bare("to /console/claims/{id}"), 403: html("bad CSRF token or role"), 404: html("no claim has that identifier") } }), async (c) => {
  const form = await c.req.parseBody();
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string).trim() : "");
  const db = database(c.env.DB);
  const patient = text("patient");
  if (patient) {
    const { data, nextBefore } = await listClaims(db, { patient, before: text("before") || undefined, limit: 50 });
    return c.html(
      <Page title="Claims of a patient" csrf={c.get("csrf")}>
        <ClaimSearchForms csrf={c.get("csrf")} patient={patient} />
        <p>{data.length ? `${data.length} claim(s) on this page` : <span class="bad">No claims for that patient reference.</span>}</p>
        <ClaimTable rows={data} />
        {nextBefore ? (
          <form method="post" action="/console/claims/search" class="next">
            <input type="hidden" name="csrf" value={c.get("csrf")} />
            <input type="hidden" name="patient" value={patient} />
            <input type="hidden" name="before" value={nextBefore} />
            <button type="submit">Older claims →</button>
          </form>
        ) : null}
      </Page>,
    );
  }
  const identifier = text("identifier");
  const parts = parseIdentifier(identifier);
  const claimId = parts ? await findClaimByIdentifier(db, parts.system, parts.value) : identifier ? await findClaimByAnyId(db, identifier) : null;
  if (claimId) return c.redirect(`/console/claims/${claimId}`, 303);
  return c.html(<Page title="Claim not found" csrf={c.get("csrf")}><p class="bad">No claim has that identifier.</p><ClaimSearchForms csrf={c.get("csrf")} /></Page>, 404);
});

/** The claim's FHIR PaymentReconciliation resources, as the API serves them, for reading in the console. */
serve(consoleApp, page({ method: "get", path: "/claims/{id}/payment-reconciliation", summary: "A claim's FHIR PaymentReconciliation resources, readable in the console", role: "operator", responses: { 200: html("HTML"), 303: bare("to login"), 403: html("role") } }), async (c) => {
  const resources = await claimReconciliations(database(c.env.DB), c.req.param("id"));
  return c.html(
    <Page title="PaymentReconciliation" csrf={c.get("csrf")}>
      <p><a href={`/console/claims/${c.req.param("id")}`}>Back to the claim</a> · {resources.length} resource(s), FHIR R4B</p>
      {resources.map((r) => <pre>{JSON.stringify(r, null, 2)}</pre>)}
    </Page>,
  );
});

serve(consoleApp, page({ method: "get", path: "/claims/{id}", summary: "A claim's lifecycle timeline, remit, payments and credits", role: "operator", responses: { 200: html("HTML"), 303: bare("to login") } }), async (c) => {
  const db = database(c.env.DB);
  const claim = await readClaim(db, c.req.param("id"));
  if (!claim) return c.notFound();
  const [{ patientId, remits, scrub }, contributing, outbox] = await Promise.all([
    claimPageFacts(db, claim.id, claim.lifecycle.id),
    contributingEvents(db, claim.id, claim.lifecycle.id),
    lifecycleOutbox(c.env, claim.lifecycle.id),
  ]);
  const credits = patientId ? await listCredits(db, patientId) : [];
  const lc = claim.lifecycle;
  const flushNotice = c.req.query("flush");
  return c.html(
    <Page title={`Claim ${claim.claim_id}`} csrf={c.get("csrf")}>
      <p>status {claim.status} · amount {usd(claim.amount)} · patient paid {usd(lc.payments.patientPaid)} · lifecycle {lc.id} (bill {lc.billId ?? "—"}) · {lc.claims.length} version(s)</p>
      <p>
        patient responsibility <b>{lc.money.patientResponsibility === null ? "unknown (no remit yet)" : usd(lc.money.patientResponsibility)}</b>
        {lc.money.provisional ? " (provisional)" : ""} · applied {usd(lc.money.applied)}
        {" · "}<a href={`/console/claims/${claim.id}/payment-reconciliation`}>PaymentReconciliation (FHIR)</a>
      </p>
      <h2>Timeline</h2>
      <table>
        <tr><th>at</th><th>change</th><th>source</th><th>message</th></tr>
        {lc.statusHistory.map((h) => (
          <tr><td><Time at={h.at} /></td><td>{h.from ?? "—"} → {h.to}{h.applied ? "" : " (stale, not applied)"}</td><td>{h.source}</td><td>{h.message ?? ""}</td></tr>
        ))}
      </table>
      <h2>Lines</h2>
      <table>
        <tr><th>#</th><th>code</th><th>modifiers</th><th>units</th><th>charge</th><th>diagnoses</th><th>service date</th></tr>
        {lc.lines.map((l) => <tr><td>{l.sequence}</td><td>{l.code}</td><td>{l.modifiers.join(" ")}</td><td>{l.units}</td><td>{usd(l.charge)}</td><td>{l.diagnosisPointers.join(", ")}</td><td>{l.serviceDate ?? ""}</td></tr>)}
      </table>
      <h2>Diagnoses</h2>
      <p>{lc.diagnoses.map((d) => `${d.sequence}. ${d.code}`).join(" · ") || "none"}</p>
      <h2>Remits</h2>
      <table class="remits">
        <tr><th>ClaimResponse</th><th>kind</th><th>decision</th><th>patient responsibility</th><th>payment</th><th>flags</th><th>version</th></tr>
        {remits.map((r) => (
          <tr>
            <td>{r.id}</td><td>{r.kind}</td><td>{r.decision}</td><td>{centsToDecimalString(r.patientResponsibilityCents)}{r.responsibilityInferred ? " (inferred)" : ""}</td><td>{centsToDecimalString(r.paymentCents)}</td>
            <td>{[r.provisional ? "provisional" : "", r.reversal ? "reversal" : "", r.withdrawn ? "withdrawn" : ""].filter(Boolean).join(", ")}</td><td>{r.versionAt.split("|")[0] || r.createdDate}</td>
          </tr>
        ))}
      </table>
      <h2>Scrub</h2>
      {scrub ? (
        <>
          <p>run {scrub.id}: {scrub.rulesApplied.length} rules applied, {scrub.rulesFlagged.length} flagged, {scrub.edits.length} edits</p>
          <table class="scrub">
            <tr><th>rule</th><th></th></tr>
            {scrub.rulesFlagged.map((r) => <tr><td class="bad">flagged</td><td>{r.text ?? r.id}</td></tr>)}
            {scrub.rulesApplied.map((r) => <tr><td class="ok">applied</td><td>{r.text ?? r.id}</td></tr>)}
          </table>
          <table class="edits">
            <tr><th>edit</th><th>rationale</th></tr>
            {scrub.edits.map((e) => <tr><td>{e.difference}</td><td>{e.rationale}</td></tr>)}
          </table>
        </>
      ) : <p>no scrub result</p>}
      <h2>Payments</h2>
      {flushNotice ? <p class={flushNotice.startsWith("flushed") ? "ok" : "bad"} id="flush-result">Send to D1: {flushNotice}</p> : null}
      {outbox.pending > 0 ? (
        // the lifecycle's object has decided more than D1 shows yet (src/lifecycle/outbox.ts)
        <div class="bad" id="outbox-pending">
          {outbox.pending} change(s) of this lifecycle's money are not in D1 yet{outbox.oldestAt ? <> (oldest <Time at={outbox.oldestAt} />)</> : null}
          {outbox.failing ? (
            // D1 refuses them: say what it said and when the object tries again (src/lifecycle/claim-lifecycle.ts)
            <>
              : D1 refused the last {outbox.failing.inARow} attempt(s) to write them ({outbox.failing.lastError}); the next is at <Time at={outbox.failing.nextTryAt} />. Later
              changes wait behind them; the log has lifecycle.flush_failed for {claim.lifecycle.id}.
              <form class="inline" method="post" action={`/console/claims/${claim.id}/flush`}>
                <input type="hidden" name="csrf" value={c.get("csrf")} />
                <button type="submit">Send to D1 now</button> <span class="muted">once what D1 refused is fixed</span>
              </form>
            </>
          ) : (
            <>: the figures on this page follow within seconds. If this stays, the log has lifecycle.flush_failed for {claim.lifecycle.id}.</>
          )}
        </div>
      ) : null}
      <table>
        <tr><th>payment</th><th>trace id</th><th>amount</th><th>set on claim</th><th>excess</th><th>date</th><th>status</th></tr>
        {lc.payments.entries.map((p) => <tr><td>{p.id}</td><td>{p.paymentTraceId ?? ""}</td><td>{usd(p.amount)}</td><td>{usd(p.amountSetOnClaim)}</td><td>{usd(p.excessAmount)}</td><td>{p.paymentDate}</td><td>{p.status}</td></tr>)}
      </table>
      <h2>Credits of the patient</h2>
      <table>
        <tr><th>credit</th><th>amount</th><th>remaining</th><th>status</th><th>allocations</th></tr>
        {credits.map((cr) => <tr><td>{cr.id}</td><td>{usd(cr.amount)}</td><td>{usd(cr.remaining)}</td><td>{cr.status}</td><td>{cr.allocations.map((a) => `${usd(a.amount)} → ${a.claimId}${a.reversedAt ? " (reversed)" : ""}`).join("; ")}</td></tr>)}
      </table>
      <h2>Events that fed it</h2>
      <ul>{contributing.map((e) => <li><a href={`/console/events/${e.id}`}>{e.id}</a> · {e.kind} · <Status s={e.status} /> · <Time at={e.receivedAt} /></li>)}</ul>
    </Page>,
  );
});
