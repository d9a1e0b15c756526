import { describe, expect, it } from "vitest";
import { admin, call } from "../helpers/api";
import { rows } from "../helpers/db";

const hmacSource = {
  id: "cair-remit",
  kind: "cair.claim_response",
  description: "Cair remits",
  verification: { scheme: "hmac_sha256", header: "X-Signature", encoding: "hex", prefix: "sha256=", timestampHeader: null, toleranceSeconds: 300 },
  secrets: ["very-secret-value-1"],
};

describe("/admin/sources", () => {
  it("requires the admin bearer token", async () => {
    expect((await call("GET", "/admin/sources")).status).toBe(401);
    const wrong = await call("GET", "/admin/sources", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("UNAUTHORIZED");
  });

  it("creates a source from the contract's example without echoing secrets, and stores them encrypted", async () => {
    const res = await admin("POST", "/admin/sources", hmacSource);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: "cair-remit",
      kind: "cair.claim_response",
      description: "Cair remits",
      enabled: true,
      verification: { scheme: "hmac_sha256", header: "x-signature", encoding: "hex", prefix: "sha256=", timestampHeader: null },
      secrets: [{ n: 1, createdAt: expect.any(String) }],
    });
    expect(JSON.stringify(res.body)).not.toContain("very-secret-value-1");
    const [stored] = await rows<any>("SELECT ciphertext FROM source_secrets WHERE source_id = 'cair-remit'");
    expect(stored.ciphertext).toMatch(/^v1:/);
    expect(stored.ciphertext).not.toContain("very-secret-value-1");

    const dup = await admin("POST", "/admin/sources", hmacSource);
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("SOURCE_EXISTS");
  });

  it("generates a secret when none is given and shows it once", async () => {
    const res = await admin("POST", "/admin/sources", { id: "sw-src", kind: "cair.claim_response", verification: { scheme: "standard_webhooks" } });
    expect(res.status).toBe(201);
    expect(res.body.generatedSecret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const again = await admin("GET", "/admin/sources/sw-src");
    expect(again.body.generatedSecret).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain(res.body.generatedSecret.slice(6));
  });

  it("refuses invalid bodies with 422 details, malformed JSON with 400", async () => {
    const bad = await admin("POST", "/admin/sources", { ...hmacSource, id: "Bad Id", kind: "nope", verification: { scheme: "hmac_sha256" } });
    expect(bad.status).toBe(422);
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["id", "kind", "verification.header"]));
    const stripeNoSecret = await admin("POST", "/admin/sources", { id: "s1", kind: "cair.claim_response", verification: { scheme: "stripe" } });
    expect(stripeNoSecret.status).toBe(422);
    expect(stripeNoSecret.body.error.details[0].path).toBe("secrets");
    const swBadSecret = await admin("POST", "/admin/sources", { id: "s2", kind: "cair.claim_response", verification: { scheme: "standard_webhooks" }, secrets: ["not base64 !!"] });
    expect(swBadSecret.status).toBe(422);
    expect(swBadSecret.body.error.details[0].path).toBe("secrets[0]");
    // a secret that decodes to nothing would make every request to the source fail: refused up front
    const swEmpty = await admin("POST", "/admin/sources", { id: "s3", kind: "cair.claim_response", verification: { scheme: "standard_webhooks" }, secrets: ["whsec_        "] });
    expect(swEmpty.status).toBe(422);
    expect(swEmpty.body.error.details[0].path).toBe("secrets[0]");
    const good = await admin("POST", "/admin/sources", { id: "s4", kind: "cair.claim_response", verification: { scheme: "standard_webhooks" }, secrets: ["whsec_" + btoa("k".repeat(32))] });
    expect(good.status).toBe(201);
    const addEmpty = await admin("POST", "/admin/sources/s4/secrets", { secret: "whsec_          " });
    expect(addEmpty.status).toBe(422);
    const malformed = await call("POST", "/admin/sources", { admin: true, body: "{", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("MALFORMED_JSON");
  });

  it("lists, filters and patches sources", async () => {
    const list = await admin("GET", "/admin/sources?kind=cair.claim_response");
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: any) => s.id)).toEqual(expect.arrayContaining(["cair-remit", "sw-src"]));
    const patched = await admin("PATCH", "/admin/sources/cair-remit", {
      description: "Cair remits (prod)",
      enabled: false,
      verification: { scheme: "api_secret", header: "X-API-KEY" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: "Cair remits (prod)", enabled: false, verification: { scheme: "api_secret", header: "x-api-key" } });
    expect((await admin("GET", "/admin/sources?enabled=false")).body.data.map((s: any) => s.id)).toEqual(["cair-remit"]);
    expect((await admin("PATCH", "/admin/sources/missing", { enabled: true })).status).toBe(404);
    expect((await admin("PATCH", "/admin/sources/cair-remit", { kind: "x" })).status).toBe(422);
  });

  it("adds and removes secrets, never removing the last one", async () => {
    const added = await admin("POST", "/admin/sources/cair-remit/secrets", { secret: "second-secret-value" });
    expect(added.body).toEqual({ sourceId: "cair-remit", n: 2 });
    const generated = await admin("POST", "/admin/sources/cair-remit/secrets", {});
    expect(generated.body).toMatchObject({ n: 3, secret: expect.stringMatching(/^cgsk_/) });
    expect((await admin("GET", "/admin/sources/cair-remit")).body.secrets.map((s: any) => s.n)).toEqual([1, 2, 3]);
    expect((await admin("DELETE", "/admin/sources/cair-remit/secrets/1")).status).toBe(204);
    expect((await admin("DELETE", "/admin/sources/cair-remit/secrets/1")).status).toBe(404);
    expect((await admin("DELETE", "/admin/sources/cair-remit/secrets/2")).status).toBe(204);
    const last = await admin("DELETE", "/admin/sources/cair-remit/secrets/3");
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe("LAST_SECRET");
  });
});
