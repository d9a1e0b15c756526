import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, createSource, postWebhook } from "../helpers/api";
import { eventually, rows } from "../helpers/db";
import { remitBundle } from "../helpers/fixtures";

const BASE = "https://claimgate.test";
const form = (data: Record<string, string>) => new URLSearchParams(data).toString();
const post = (path: string, body: Record<string, string>, cookie?: string, origin = BASE) =>
  exports.default.fetch(new Request(BASE + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin, ...(cookie ? { cookie } : {}) }, body: form(body) }));
const get = (path: string, cookie?: string) => exports.default.fetch(new Request(BASE + path, { redirect: "manual", headers: cookie ? { cookie } : {} }));

async function login(): Promise<string> {
  const res = await post("/console/login", { token: ADMIN_TOKEN });
  await res.text();
  expect(res.status).toBe(303);
  const set = res.headers.get("set-cookie")!;
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/Secure/i);
  expect(set).toMatch(/SameSite=Strict/i);
  return set.split(";")[0]!;
}

describe("console", () => {
  it("needs a login; a wrong token or a foreign origin is refused", async () => {
    const anon = await get("/console");
    await anon.text();
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/console/login");
    const wrong = await post("/console/login", { token: "nope" });
    await wrong.text();
    expect(wrong.headers.get("location")).toContain("failed");
    const foreign = await post("/console/login", { token: ADMIN_TOKEN }, undefined, "https://evil.example");
    await foreign.text();
    expect(foreign.headers.get("set-cookie")).toBeNull();
  });

  it("shows sources, events and dead letters, and replays a dead delivery only with the CSRF token", async () => {
    await createSource({ id: "console-src", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["console-secret"] });
    const sub = await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/console/down", events: ["*"] });
    const posted = await postWebhook("console-src", JSON.stringify(remitBundle()), { "x-api-key": "console-secret" });
    const [dead] = await eventually(async () => {
      const r = await rows<any>("SELECT id FROM deliveries WHERE subscription_id = ? AND status = 'dead'", sub.body.id);
      return r.length ? r : null;
    }, 20_000);

    const cookie = await login();
    const overview = await (await get("/console", cookie)).text();
    expect(overview).toContain("console-src");
    // health at a glance: inline SVG charts per source and subscription, and the counts that need attention
    expect(overview).toMatch(/<svg[^>]*aria-label="events of console-src"/);
    expect(overview).toMatch(new RegExp(`<svg[^>]*aria-label="deliveries of ${sub.body.id}"`));
    expect(overview).toMatch(/failed [1-9]\d*/); // a bar title counts the failed attempts
    expect(overview).toMatch(/<b>\d+<\/b> dead letters/);
    expect(overview).toContain(posted.body.eventId);
    expect(overview).toContain(sub.body.id);
    const eventPage = await (await get(`/console/events/${posted.body.eventId}`, cookie)).text();
    expect(eventPage).toContain("Payload (admins only)");
    expect(eventPage).toMatch(/href="\/console\/claims\/clm_/);
    const audit = (await admin("GET", "/admin/audit")).body.data;
    expect(audit[0]).toMatchObject({ action: "GET /console/events/:id", target: `/console/events/${posted.body.eventId}`, actor: "bootstrap-admin" });
    const deadPage = await (await get("/console/deliveries?status=dead", cookie)).text();
    expect(deadPage).toContain(dead.id);
    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(deadPage)![1]!;

    const forged = await post(`/console/deliveries/${dead.id}/replay`, { csrf: "00" }, cookie);
    expect(forged.status).toBe(403);
    await forged.text();
    const replay = await post(`/console/deliveries/${dead.id}/replay`, { csrf }, cookie);
    await replay.text();
    expect(replay.status).toBe(303);
    // the replay gives a fresh attempt budget (the endpoint still fails, so three more attempts)
    await eventually(async () => (await rows<any>("SELECT attempt FROM delivery_attempts WHERE delivery_id = ?", dead.id)).length >= 4, 20_000);
    const timeline = await (await get(`/console/deliveries/${dead.id}`, cookie)).text();
    expect((timeline.match(/<td>\d+ ms<\/td>/g) ?? []).length).toBeGreaterThanOrEqual(4);
  });

  it("a landing page at /; the claim page shows remits, lines, payments and the events that fed it; events filter and page", async () => {
    const landing = await exports.default.fetch(new Request(`${BASE}/`));
    const html = await landing.text();
    expect(landing.status).toBe(200);
    expect(html).toContain('href="/console"');
    expect(html).toContain('href="/docs"');

    await createSource({ id: "console-src2", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["console-secret-2"] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postWebhook("console-src2", JSON.stringify(remitBundle((cr) => ((cr.id = `cpage-${i}`), (cr.request.reference = "Claim/cpage-claim")))), { "x-api-key": "console-secret-2" });
      ids.push(res.body.eventId);
    }
    await eventually(async () => (await rows<any>("SELECT id FROM events WHERE id IN (?, ?, ?) AND status = 'processed'", ...ids)).length === 3);
    const [claim] = await rows<any>("SELECT claim_id FROM claim_identifiers WHERE value = 'cpage-claim'");
    const cookie = await login();
    const page = await (await get(`/console/claims/${claim.claim_id}`, cookie)).text();
    for (const id of ["cpage-0", "cpage-1", "cpage-2", ...ids]) expect(page).toContain(id);
    expect(page).toContain("Events that fed it");
    expect(page).toContain(`href="/console/claims/${claim.claim_id}/payment-reconciliation"`);
    const prc = await get(`/console/claims/${claim.claim_id}/payment-reconciliation`, cookie);
    expect(prc.status).toBe(200);
    expect(await prc.text()).toContain("FHIR R4B");
    expect(page).toContain("patient responsibility");

    const filtered = await (await get(`/console/events?source=console-src2&claim=${claim.claim_id}`, cookie)).text();
    for (const id of ids) expect(filtered).toContain(id);
    expect(filtered).not.toContain("console-src<");
    const older = await (await get(`/console/events?source=console-src2&before=${ids[2]}`, cookie)).text();
    expect(older).toContain(ids[0]);
    expect(older).not.toContain(`>${ids[2]}<`);
  });

  it("claims: a paginated list, search by patient reference (POST, the next page a POST too) and by identifier; times in the viewer's zone", async () => {
    // 55 claims of one patient (external id p-list-7731), and one of another
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const inserts = [
      env.DB.prepare("INSERT INTO patients (id, system, external_id, created_at) VALUES ('pat_list_a', 'fhir-patient', 'p-list-7731', ?), ('pat_list_b', 'healthie', 'p-list-other', ?)").bind(at(0), at(0)),
    ];
    for (let i = 0; i < 56; i++) {
      const patient = i === 55 ? "pat_list_b" : "pat_list_a";
      inserts.push(env.DB.prepare("INSERT INTO claim_lifecycles (id, bill_id, patient_id, created_at) VALUES (?, ?, ?, ?)").bind(`lc_list_${i}`, `LIST-BILL-${i}`, patient, at(i)));
      inserts.push(
        env.DB.prepare("INSERT INTO claims (id, claim_lifecycle_id, patient_id, status, total_charge_cents, created_at, updated_at) VALUES (?, ?, ?, 'submitted', ?, ?, ?)").bind(`clm_list_${String(i).padStart(2, "0")}`, `lc_list_${i}`, patient, 10_000 + i, at(i), at(i)),
      );
    }
    // a claim without a patient of its own whose lifecycle names one (a remit said who the patient is)
    inserts.push(env.DB.prepare("INSERT INTO claim_lifecycles (id, bill_id, patient_id, created_at) VALUES ('lc_list_lp', 'LIST-BILL-LP', 'pat_list_b', ?)").bind(at(60)));
    inserts.push(env.DB.prepare("INSERT INTO claims (id, claim_lifecycle_id, patient_id, status, total_charge_cents, created_at, updated_at) VALUES ('clm_list_lp', 'lc_list_lp', NULL, 'submitted', 1, ?, ?)").bind(at(60), at(60)));
    await env.DB.batch(inserts);
    const cookie = await login();
    const mine = (html: string) => [...html.matchAll(/href="\/console\/claims\/(clm_list_\w+)"/g)].map((m) => m[1]);

    const list = await (await get("/console/claims", cookie)).text();
    expect(list).toContain('href="/console/claims"'); // in the nav
    expect(mine(list)[0]).toBe("clm_list_lp"); // newest first
    const next = /class="next" href="([^"]+)"/.exec(list)![1]!.replace(/&amp;/g, "&");
    expect(next).not.toMatch(/LIST-BILL|p-list/); // the cursor is a time and our id, no PHI
    const page2 = await (await get(next, cookie)).text();
    expect(mine(page2).length).toBeGreaterThan(0);
    expect(mine(page2)).not.toContain("clm_list_55");

    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(list)![1]!;
    const first = await post("/console/claims/search", { csrf, patient: "Patient/p-list-7731" }, cookie);
    expect(first.status).toBe(200);
    const firstHtml = await first.text();
    expect(mine(firstHtml)).toHaveLength(50);
    expect(mine(firstHtml)).not.toContain("clm_list_55"); // another patient's
    expect(firstHtml).toContain("LIST-BILL-54");
    const before = /name="before" value="([^"]+)"/.exec(firstHtml)![1]!;
    const second = await (await post("/console/claims/search", { csrf, patient: "Patient/p-list-7731", before }, cookie)).text();
    expect(mine(second)).toEqual(["clm_list_04", "clm_list_03", "clm_list_02", "clm_list_01", "clm_list_00"]);
    expect(second).not.toContain('name="before"'); // the last page
    const byOurId = await (await post("/console/claims/search", { csrf, patient: "pat_list_b" }, cookie)).text();
    expect(mine(byOurId)).toEqual(["clm_list_lp", "clm_list_55"]);
    const byBill = await post("/console/claims/search", { csrf, identifier: "https://fhir.cairhealth.com/fhir/identifier/claim-id|LIST-BILL-7" }, cookie);
    await byBill.text();
    expect(byBill.status).toBe(303);
    expect(byBill.headers.get("location")).toBe("/console/claims/clm_list_07");
    // a bare value, as an operator types it: a bill id, or our id
    for (const [typed, id] of [["LIST-BILL-9", "clm_list_09"], ["clm_list_12", "clm_list_12"]]) {
      const found = await post("/console/claims/search", { csrf, identifier: typed! }, cookie);
      await found.text();
      expect(found.headers.get("location"), typed).toBe(`/console/claims/${id}`);
    }
    const unknown = await post("/console/claims/search", { csrf, identifier: "NO-SUCH-BILL" }, cookie);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain("NO-SUCH-BILL"); // not echoed back

    // the same list through the API, the patient reference in the body
    const api1 = await admin("POST", "/api/claims/list", { patient: "p-list-7731" });
    expect(api1.status).toBe(200);
    expect(api1.body.data).toHaveLength(50);
    expect(api1.body.data[0]).toMatchObject({ id: "clm_list_54", billId: "LIST-BILL-54", totalCharge: 100.54 });
    const api2 = await admin("POST", "/api/claims/list", { patient: "p-list-7731", before: api1.body.nextBefore });
    expect(api2.body.data.map((c: any) => c.id)).toEqual(["clm_list_04", "clm_list_03", "clm_list_02", "clm_list_01", "clm_list_00"]);
    expect(api2.body.nextBefore).toBeNull();
    expect((await admin("POST", "/api/claims/list", { patient: "" })).status).toBe(422);
    expect((await admin("POST", "/api/claims/list", { limit: 1000 })).body.error.details[0].path).toBe("limit");

    // times: UTC on the server in <time datetime>, rewritten to the viewer's zone by the console's one script
    expect(list).toMatch(/<time datetime="2026-01-01T00:01:00.000Z" title="2026-01-01T00:01:00.000Z \(UTC\)">2026-01-01 00:01:00 UTC<\/time>/);
    expect(list).toContain('<script src="/console/assets/local-time.js" defer=""></script>');
    const script = await get("/console/assets/local-time.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("text/javascript");
    expect(await script.text()).toContain("toLocaleString");
  });

  it("manage: disable and enable a subscription and a source, rotate a secret (shown once), add and remove source secrets", async () => {
    await createSource({ id: "console-manage", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: ["console-manage-secret"] });
    const sub = await admin("POST", "/admin/subscriptions", { url: "https://receiver.test/console-manage/ok", events: ["*"] });
    const cookie = await login();
    const overview = await (await get("/console", cookie)).text();
    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(overview)![1]!;
    expect(overview).toContain(`action="/console/subscriptions/${sub.body.id}/disable"`);
    const act = async (path: string) => {
      const res = await post(path, { csrf }, cookie);
      return { status: res.status, html: await res.text() };
    };
    expect((await act(`/console/subscriptions/${sub.body.id}/disable`)).status).toBe(303);
    expect((await admin("GET", `/admin/subscriptions/${sub.body.id}`)).body.active).toBe(false);
    expect((await act(`/console/subscriptions/${sub.body.id}/enable`)).status).toBe(303);
    expect((await admin("GET", `/admin/subscriptions/${sub.body.id}`)).body.active).toBe(true);
    const rotated = await act(`/console/subscriptions/${sub.body.id}/rotate`);
    expect(rotated.html).toMatch(/whsec_[A-Za-z0-9+/=]+/);
    expect((await act("/console/sources/console-manage/disable")).status).toBe(303);
    expect((await admin("GET", "/admin/sources/console-manage")).body.enabled).toBe(false);
    expect((await act("/console/sources/console-manage/enable")).status).toBe(303);
    const added = await act("/console/sources/console-manage/secrets");
    expect(added.html).toMatch(/cgsk_/);
    expect((await admin("GET", "/admin/sources/console-manage")).body.secrets).toHaveLength(2);
    expect((await act("/console/sources/console-manage/secrets/1/delete")).status).toBe(303);
    const last = await act("/console/sources/console-manage/secrets/2/delete");
    expect(last.status).toBe(409);
    expect(last.html).toContain("last one");
    const actions = (await admin("GET", "/admin/audit")).body.data.map((a: any) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["POST /console/subscriptions/:id/rotate", "POST /console/sources/:id/secrets"]));
  });
});
