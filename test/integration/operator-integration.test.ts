import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app";
import { admin, call, createSource, postWebhook } from "../helpers/api";
import { remitBundle } from "../helpers/fixtures";

describe("OpenAPI", () => {
  it("documents every registered route, and only those", async () => {
    const app = buildApp();
    const registered = new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`),
    );
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const documented = new Set(Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)));
    expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((d) => !registered.has(d))).toEqual([]);
    // every operator route carries the role its declaration enforces
    for (const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op["x-auth"] === "admin" || op["x-auth"] === "admin-or-provider") expect(["viewer", "operator", "admin"], `${method} ${path}`).toContain(op["x-role"]);
      }
    }
  });

  it("carries request schemas from the routes' zod schemas and every partner payload", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const claim = doc.paths["/api/claims"].post.requestBody.content["application/json"].schema;
    // request and response schemas, from the routes' declarations
    const created = doc.paths["/admin/subscriptions"].post;
    expect(created.requestBody.content["application/json"].schema).toBeTruthy();
    expect(created.responses["201"].content["application/json"].schema).toBeTruthy();
    expect(doc.paths["/admin/events"].get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(["source", "kind", "status", "since", "until", "before", "limit"]));
    expect(claim.required).toEqual(expect.arrayContaining(["patient_name", "insurance_id", "diagnosis_code", "amount"]));
    expect(doc.paths["/admin/sources"].post.responses["409"].description).toContain("SOURCE_EXISTS");
    expect(Object.keys(doc["x-partner-payloads"])).toEqual(expect.arrayContaining(["cair.claim_response", "cair.claim_scrubber", "healthie.cms1500", "payor.claim_status", "cair.patient_payment", "stripe.payment"]));
    const page = await call("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.body).toContain("/api/webhooks/patient-payment");
    // each route with its request and response schemas and an example of each body
    expect(page.body).toContain("Request body");
    expect((page.body.match(/<summary>example<\/summary>/g) ?? []).length).toBeGreaterThan(60);
    expect(page.body).toContain("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); // a declared example
    expect(page.body).toContain("role <b>operator</b>");
  });
});

describe("audit trail", () => {
  it("records admin mutations and payload reads, never the token, and cannot be changed", async () => {
    await createSource({ id: "audited", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["audited-secret"] });
    const posted = await postWebhook("audited", JSON.stringify(remitBundle()), { "x-api-key": "audited-secret" });
    await admin("GET", "/admin/events");
    await admin("GET", `/admin/events/${posted.body.eventId}`);
    await admin("PATCH", "/admin/sources/audited", { description: "changed" });
    const audit = (await admin("GET", "/admin/audit")).body.data;
    expect(audit.map((a: any) => [a.action, a.target, a.status])).toEqual([
      ["PATCH /admin/sources/:id", "/admin/sources/audited", 200],
      ["GET /admin/events/:id", `/admin/events/${posted.body.eventId}`, 200],
      ["POST /admin/sources", "/admin/sources", 201],
    ]);
    expect(audit[0].actor).toBe("bootstrap-admin");
    expect(JSON.stringify(audit)).not.toContain("test-admin-token");
    await expect(env.DB.prepare("UPDATE audit_log SET action = 'x'").run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM audit_log").run()).rejects.toThrow(/append-only/);
  });

  it("shows one event with its payload, produced events and deliveries", async () => {
    const list = (await admin("GET", "/admin/events?source=audited")).body.data;
    const one = await admin("GET", `/admin/events/${list[0].id}`);
    expect(one.body).toMatchObject({ id: list[0].id, sourceId: "audited", payload: { resourceType: "Bundle" } });
    expect(one.body.headers).not.toHaveProperty("x-api-key");
    await new Promise((r) => setTimeout(r, 1500)); // projected by the events consumer
    const claimId = (await admin("GET", `/admin/events/${list[0].id}`)).body.produced[0]?.claimId;
    expect(claimId).toMatch(/^clm_/);
    const byClaim = (await admin("GET", `/admin/events?claim=${claimId}`)).body.data;
    expect(byClaim.map((e: any) => e.id)).toEqual([list[0].id]);
    for (const bad of ["/admin/events?status=bogus", "/admin/events?since=yesterday", "/admin/deliveries?until=soon", "/admin/deliveries?status=nope"]) {
      const res = await admin("GET", bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("INVALID_FILTER");
    }
  });
});
