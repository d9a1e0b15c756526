import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app";
import { openApiDocument } from "../../src/http/docs";
import { admin, call } from "../helpers/api";
import { rows } from "../helpers/db";

// Every operator route, as its own declaration documents it (`x-role` in the OpenAPI document, the same
// declaration that enforces it), called with each role's token. A new route cannot forget its rule: the
// OpenAPI test makes every registered route a declared one, and a declared operator route always has a role.

const RANK = { viewer: 0, operator: 1, admin: 2 } as const;
type Role = keyof typeof RANK;
const tokens: Record<Role, string> = { viewer: "", operator: "", admin: "" };
const ids: Record<Role, string> = { viewer: "", operator: "", admin: "" };

beforeAll(async () => {
  for (const role of ["viewer", "operator", "admin"] as const) {
    const res = await admin("POST", "/admin/operators", { name: `${role} person`, role });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^cgop_/);
    tokens[role] = res.body.token;
    ids[role] = res.body.id;
  }
});

type Op = { method: string; path: string; role: Role };
const operatorRoutes: Op[] = Object.entries(openApiDocument(buildApp()).paths).flatMap(([path, ops]) =>
  Object.entries(ops as Record<string, any>)
    .filter(([, op]) => (op["x-auth"] === "admin" || op["x-auth"] === "admin-or-provider") && !path.startsWith("/console"))
    .map(([method, op]) => ({ method, path, role: op["x-role"] as Role })),
);
const need = (r: Op): Role => r.role;
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, "x-role-test");

describe("the role matrix, generated from the route table", () => {
  it("covers the admin API and operator claim reads", () => {
    expect(operatorRoutes.length).toBeGreaterThan(30);
  });
  for (const route of operatorRoutes) {
    for (const role of ["viewer", "operator", "admin"] as const) {
      const allowed = RANK[role] >= RANK[need(route)];
      it(`${route.method.toUpperCase()} ${route.path} as ${role}: ${allowed ? "allowed" : "403"}`, async () => {
        const path = concrete(route.path) + (route.path === "/api/claims" && route.method === "get" ? "?identifier=a|b" : "");
        const res = await call(route.method.toUpperCase(), path, {
          headers: { authorization: `Bearer ${tokens[role]}` },
          ...(route.method === "get" || route.method === "delete" ? {} : { json: {} }),
        });
        if (allowed) {
          expect(JSON.stringify(res.body)).not.toContain("No route for");
          expect(res.status, JSON.stringify(res.body)).not.toBe(401);
          expect(res.status, JSON.stringify(res.body)).not.toBe(403);
        } else {
          expect(res.status, JSON.stringify(res.body)).toBe(403);
          expect(JSON.stringify(res.body)).toContain("FORBIDDEN");
        }
      });
    }
  }
});

describe("the HCMS submission keeps the guide's error shape", () => {
  it("an operator whose role is too low is refused in the guide's shape", async () => {
    const res = await call("POST", "/api/claims", { headers: { authorization: `Bearer ${tokens.viewer}` }, json: {} });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: "FORBIDDEN", claim_id: null });
    expect(res.body.suggestions.length).toBeGreaterThan(0);
  });
});

describe("operators", () => {
  it("the token is shown once and stored hashed; lists never show tokens; no token or a wrong one is 401", async () => {
    const [row] = await rows<any>("SELECT token_hash FROM operators WHERE id = ?", ids.operator);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.token_hash).not.toContain(tokens.operator);
    const list = await admin("GET", "/admin/operators");
    expect(JSON.stringify(list.body)).not.toContain("cgop_");
    expect(list.body.data.map((o: any) => o.role)).toEqual(expect.arrayContaining(["viewer", "operator", "admin"]));
    expect((await call("GET", "/admin/sources", { headers: { authorization: "Bearer cgop_not-a-token" } })).status).toBe(401);
    expect((await call("GET", "/admin/sources")).status).toBe(401);
    expect((await admin("POST", "/admin/operators", { name: "x", role: "root" })).status).toBe(422);
  });

  it("the audit trail's actor is the operator id", async () => {
    await call("GET", "/admin/events/evt-audit-actor", { headers: { authorization: `Bearer ${tokens.operator}` } });
    const [entry] = await rows<any>("SELECT actor FROM audit_log WHERE target = '/admin/events/evt-audit-actor'");
    expect(entry.actor).toBe(ids.operator);
  });

  it("revocation is immediate: the token and the operator's console sessions stop working", async () => {
    const made = await admin("POST", "/admin/operators", { name: "leaver", role: "operator" });
    const token = made.body.token;
    expect((await call("GET", "/admin/sources", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const BASE = "https://claimgate.test";
    const login = await exports.default.fetch(new Request(`${BASE}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, body: `token=${encodeURIComponent(token)}` }));
    await login.text();
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const before = await exports.default.fetch(new Request(`${BASE}/console`, { redirect: "manual", headers: { cookie } }));
    await before.text();
    expect(before.status).toBe(200);
    expect((await admin("DELETE", `/admin/operators/${made.body.id}`)).status).toBe(204);
    expect((await call("GET", "/admin/sources", { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const after = await exports.default.fetch(new Request(`${BASE}/console`, { redirect: "manual", headers: { cookie } }));
    await after.text();
    expect(after.status).toBe(303);
    expect((await admin("DELETE", `/admin/operators/${made.body.id}`)).status).toBe(404);
  });
});

describe("console security", () => {
  const BASE = "https://claimgate.test";
  const form = (path: string, body: string, headers: Record<string, string> = {}) =>
    exports.default.fetch(new Request(BASE + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, ...headers }, body }));
  const login = async (token: string, ip = "203.0.113.50") => {
    const res = await form("/console/login", `token=${encodeURIComponent(token)}`, { "cf-connecting-ip": ip });
    await res.text();
    return res;
  };

  it("strict security headers and no-store on every page", async () => {
    const res = await exports.default.fetch(new Request(`${BASE}/console/login`));
    await res.text();
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    // one script, from the console itself (local times); nothing inline, nothing from elsewhere
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline'; script");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe|http)/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("logout ends the session server-side: the old cookie no longer works", async () => {
    const res = await login(tokens.admin);
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await exports.default.fetch(new Request(`${BASE}/console`, { headers: { cookie } }))).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const out = await form("/console/logout", `csrf=${csrf}`, { cookie });
    await out.text();
    expect(out.status).toBe(303);
    const replayed = await exports.default.fetch(new Request(`${BASE}/console`, { redirect: "manual", headers: { cookie } }));
    await replayed.text();
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get("location")).toBe("/console/login");
  });

  it("failed logins are throttled per client: after 5 failures even the right token waits", async () => {
    const ip = "198.51.100.77";
    for (let i = 0; i < 5; i++) expect((await login("wrong-token", ip)).headers.get("location")).toContain("failed");
    const blocked = await login(tokens.admin, ip);
    expect(blocked.headers.get("location")).toContain("throttled");
    expect(blocked.headers.get("set-cookie")).toBeNull();
    // another client is not affected
    expect((await login(tokens.admin, "198.51.100.78")).headers.get("set-cookie")).toMatch(/cg_console=/);
  });

  it("a viewer sees metadata without replay buttons, and gets 403 on payload and claim pages", async () => {
    const res = await login(tokens.viewer, "192.0.2.10");
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const list = await exports.default.fetch(new Request(`${BASE}/console/deliveries?status=dead`, { headers: { cookie } }));
    const html = await list.text();
    expect(list.status).toBe(200);
    expect(html).not.toContain(">Replay<");
    for (const path of ["/console/events/evt_x", "/console/claims/clm_x", "/console/deliveries/dlv_x"]) {
      const page = await exports.default.fetch(new Request(BASE + path, { headers: { cookie } }));
      await page.text();
      expect(page.status, path).toBe(403);
    }
  });
});

describe("PHI out of URLs", () => {
  it("claims and credits can be looked up with the identifier in a POST body; reads are audited with the actor", async () => {
    await admin("POST", "/admin/sources", { id: "phi-remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["phi-remit-secret"] });
    const { remitBundle } = await import("../helpers/fixtures");
    const bill = "PHI-BILL-1";
    const res = await call("POST", "/webhooks/phi-remit", {
      json: remitBundle((cr) => ((cr.id = "phi-cr"), cr.identifier.push({ system: "https://fhir.cairhealth.com/fhir/identifier/claim-id", value: bill }))),
      headers: { "X-API-KEY": "phi-remit-secret" },
    });
    expect(res.status).toBe(202);
    const { eventually, count } = await import("../helpers/db");
    await eventually(async () => (await count("events", "id = ? AND status = 'processed'", res.body.eventId)) === 1);
    const identifier = `https://fhir.cairhealth.com/fhir/identifier/claim-id|${bill}`;
    const viaBody = await call("POST", "/api/claims/search", { json: { identifier }, headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(viaBody.status).toBe(200);
    const viaQuery = await call("GET", `/api/claims?identifier=${encodeURIComponent(identifier)}`, { headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(viaBody.body).toEqual(viaQuery.body);
    const missing = await call("POST", "/api/claims/search", { json: { identifier: "https://x|PHI-SECRET-VALUE" }, headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).not.toContain("PHI-SECRET-VALUE");
    const viewer = await call("POST", "/api/claims/search", { json: { identifier }, headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(viewer.status).toBe(403);
    const audited = await rows<any>("SELECT actor, target FROM audit_log WHERE target = '/api/claims/search' ORDER BY id");
    expect(audited.map((a) => a.actor)).toEqual(expect.arrayContaining([ids.operator]));
    expect(JSON.stringify(audited)).not.toContain(bill);

    const credits = await call("POST", "/api/patients/credits/search", { json: { patientId: "550e8400-e29b-41d4-a716-446655440000" }, headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(credits.status).toBe(200);
    expect(credits.body).toEqual({ data: [] });
  });

  it("the console finds a claim by identifier through a POST form and opens it by its opaque id", async () => {
    const BASE = "https://claimgate.test";
    const login = await exports.default.fetch(new Request(`${BASE}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, "cf-connecting-ip": "192.0.2.99" }, body: `token=${encodeURIComponent(tokens.operator)}` }));
    await login.text();
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await exports.default.fetch(new Request(`${BASE}/console`, { headers: { cookie } }))).text();
    expect(page).toContain('action="/console/claims/search"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const identifier = "https://fhir.cairhealth.com/fhir/identifier/claim-id|PHI-BILL-1";
    const found = await exports.default.fetch(
      new Request(`${BASE}/console/claims/search`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, cookie }, body: `csrf=${csrf}&identifier=${encodeURIComponent(identifier)}` }),
    );
    await found.text();
    expect(found.status).toBe(303);
    expect(found.headers.get("location")).toMatch(/^\/console\/claims\/clm_[0-9A-Z]+$/);
  });
});
