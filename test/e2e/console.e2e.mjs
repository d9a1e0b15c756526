// End-to-end console test in a real browser: Debian's chromium driven by playwright-core against
// wrangler dev. Log in, see a seeded event, replay a dead delivery, see the new attempt; find a claim by
// its bill id and see its remit and payment; reprocess a failed payment event once its remit has come;
// the Claims page: a patient's claims by patient reference, pages of claims and of events; times in the
// browser's zone; create a subscription from the catalog. Screenshots are written beside this file
// (test/e2e/*.png); docs/console-claim.png in the README is one of them.
// Run with `npm run test:e2e` (CI runs it after `npm test`). Prints "N passed, N failed".
import http from "node:http";
import { chromium } from "playwright-core";
import { ADMIN, api, fixture, startWorker, waitFor } from "../../bench/lib.mjs";

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`  ✓ ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`  ✗ ${name}\n    ${e?.stack ?? e}`);
    throw e;
  }
}
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg);
};

// a subscriber that fails until told to succeed
let healthy = false;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(healthy ? 200 : 500).end(healthy ? "ok" : "down"));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));

const { base, stop } = await startWorker(Number(process.env.PORT ?? 8796), {
  extraVars: { DELIVERY_RETRY_SCHEDULE: "1,1", DELIVERY_TIMEOUT_MS: "2000" },
  ...(process.env.INSPECTOR_PORT ? { args: ["--inspector-port", process.env.INSPECTOR_PORT] } : {}),
});
let browser;
try {
  const SECRET = "e2e-secret";
  let eventId;
  let deadId;
  await step("seed a source, a failing subscriber and one event", async () => {
    assert((await api(base, "POST", "/admin/sources", { id: "e2e-remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] })).status === 201, "source");
    const sub = await api(base, "POST", "/admin/subscriptions", { url: `http://127.0.0.1:${server.address().port}/hooks`, events: ["*"] });
    assert(sub.status === 201, `subscription ${sub.status}`);
    const res = await api(base, "POST", "/webhooks/e2e-remit", fixture("cair-claim-response.json"), { "x-api-key": SECRET });
    assert(res.status === 202, `ingest ${res.status}`);
    eventId = res.body.eventId;
    await waitFor(async () => {
      const dead = (await api(base, "GET", "/admin/deliveries?status=dead")).body.data;
      deadId = dead[0]?.id;
      return deadId;
    }, 60_000);
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  // the session cookie is Secure; Chromium treats http://127.0.0.1 as a secure context
  // a zone that is not UTC, so local times are visibly the browser's own
  const page = await browser.newPage({ timezoneId: "America/New_York", viewport: { width: 1280, height: 900 } });

  await step("log in with the admin token", async () => {
    await page.goto(`${base}/console`);
    assert(page.url().endsWith("/console/login"), `not redirected to login: ${page.url()}`);
    await page.fill('input[name="token"]', ADMIN);
    await Promise.all([page.waitForURL(`${base}/console`), page.click('button[type="submit"]')]);
  });

  await step("see the seeded event on the overview", async () => {
    await page.getByText(eventId).first().waitFor({ timeout: 10_000 });
  });

  await step("replay the dead delivery from the dead letters and see the new attempt", async () => {
    await page.click('a[href="/console/deliveries?status=dead"]');
    await page.getByText(deadId).first().waitFor();
    const before = await api(base, "GET", `/admin/deliveries/${deadId}/attempts`);
    healthy = true;
    await Promise.all([page.waitForURL(`${base}/console/deliveries/${deadId}`), page.locator(`form[action="/console/deliveries/${deadId}/replay"] button`).first().click()]);
    const n = before.body.data.length;
    await waitFor(async () => {
      await page.reload();
      return (await page.locator("table.attempts tr").count()) - 1 > n;
    }, 30_000);
    const last = (await page.locator("table.attempts tr").last().innerText()).split("\t");
    assert(last.includes("200"), `last attempt is not 200: ${last.join(" | ")}`);
    await page.screenshot({ path: "test/e2e/console-after-replay.png", fullPage: true });
  });

  await step("a payment before its remit fails visibly; after the remit arrives, Reprocess applies it", async () => {
    const scrub = fixture("cair-claim-scrubber.json");
    assert((await api(base, "POST", "/admin/sources", { id: "e2e-scrub", kind: "cair.claim_scrubber", verification: { scheme: "api_secret" }, secrets: [SECRET] })).status === 201, "scrub source");
    assert((await api(base, "POST", "/admin/sources", { id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] })).status === 201, "payments source");
    assert((await api(base, "POST", "/webhooks/e2e-scrub", scrub, { "x-api-key": SECRET })).status === 202, "scrub");
    await waitFor(async () => (await api(base, "POST", "/api/claims/search", { identifier: "https://fhir.cairhealth.com/fhir/identifier/claim-id|52343746129383" })).status === 200, 30_000);
    const early = await api(base, "POST", "/api/webhooks/patient-payment", { billId: "52343746129383", paymentAmount: 40, paymentTraceId: "pi_e2e_1" }, { "X-API-KEY": SECRET });
    assert(early.status === 409 && early.body.error.code === "NO_CLAIM_RESPONSE", `early payment: ${early.status}`);
    const failed = (await api(base, "GET", "/admin/events?status=failed&source=patient-payments")).body.data[0];
    assert(failed, "the refused payment is kept as a failed event");
    const remit = JSON.parse(JSON.stringify(fixture("cair-claim-response.json")));
    const cr = remit.entry[0].resource;
    cr.id = "e2e-remit-copay";
    cr.request.reference = "Claim/58ba229f-b35c-4e46-9af5-e54df39b6e48";
    cr.identifier = [{ system: "https://payer.example/remit", value: "E2E-1" }];
    cr.item[0].adjudication.push({ category: { coding: [{ system: "https://x12.org/codes/claim-adjustment-group-codes", code: "PR" }] }, reason: { coding: [{ code: "3" }] }, amount: { value: 25, currency: "USD" } });
    assert((await api(base, "POST", "/webhooks/e2e-remit", remit, { "x-api-key": SECRET })).status === 202, "remit");
    await waitFor(async () => (await api(base, "POST", "/api/claims/search", { identifier: "https://fhir.cairhealth.com/fhir/identifier/claim-id|52343746129383" })).body?.claim?.lifecycle?.money?.patientResponsibility === 25, 30_000);
    await page.goto(`${base}/console/events/${failed.id}`);
    await page.getByText("NO_CLAIM_RESPONSE").first().waitFor();
    await Promise.all([page.waitForURL(/reprocess=processed/), page.locator(`form[action="/console/events/${failed.id}/reprocess"] button`).click()]);
    await page.getByText("Reprocess: processed").waitFor();
    await page.screenshot({ path: "test/e2e/console-reprocessed.png", fullPage: true });
  });

  await step("find the claim by its bill id and see its remit, payment and the events that fed it", async () => {
    await page.goto(`${base}/console`);
    await page.fill('input[name="identifier"]', "https://fhir.cairhealth.com/fhir/identifier/claim-id|52343746129383");
    await Promise.all([page.waitForURL(/\/console\/claims\/clm_/), page.locator("form.search-identifier button").click()]);
    assert(!page.url().includes("52343746129383"), "the bill id must not be in the URL");
    await page.getByText("e2e-remit-copay").first().waitFor();
    await page.getByText("pi_e2e_1").first().waitFor();
    await page.getByText("Events that fed it").waitFor();
    // the scrub's rules and edits in full
    await page.getByText("All Aetna claims should be billed with place of service code 11").waitFor();
    await page.getByText("Diagnosis sequence numbers must be unique for each diagnosis entry.").waitFor();
    await page.screenshot({ path: "test/e2e/console-claim.png", fullPage: true });
  });

  await step("Claims page: a patient's claims by patient reference (POST), pages of claims and events, times in the browser's zone", async () => {
    await page.click('a[href="/console/claims"]');
    await page.waitForURL(`${base}/console/claims`);
    await page.locator("table.claims a").first().waitFor();
    // the overview's remits and the scrub made claims; one row per page, then the next page
    await page.goto(`${base}/console/claims?limit=1`);
    const first = await page.locator("table.claims a").first().innerText();
    await Promise.all([page.waitForURL(/before=/), page.click("a.next")]);
    const second = await page.locator("table.claims a").first().innerText();
    assert(first !== second && /^clm_/.test(second), `claims page 2 shows ${second} after ${first}`);
    // by patient reference: a POST, so the reference stays out of the URL
    await page.fill('form.search-patient input[name="patient"]', "Patient/550e8400-e29b-41d4-a716-446655440000");
    await Promise.all([page.waitForURL(`${base}/console/claims/search`), page.locator("form.search-patient button").click()]);
    assert(!page.url().includes("550e8400"), "the patient reference must not be in the URL");
    await page.getByText("claim(s) on this page").waitFor();
    assert((await page.locator("table.claims a").count()) >= 1, "no claims for the patient");
    // times: the server writes UTC; the console's script shows the browser's zone (New York here)
    const shown = await page.locator("table.claims time").first().innerText();
    const instant = await page.locator("table.claims time").first().getAttribute("datetime");
    assert(!shown.endsWith("UTC") && /EST|EDT|GMT-[45]/.test(shown), `time not local: ${shown} (${instant})`);
    assert((await page.locator("table.claims time").first().getAttribute("title")).includes(instant), "the UTC instant is on hover");
    await page.screenshot({ path: "test/e2e/console-claims.png", fullPage: true });
    // events: two per page, the next page older
    await page.goto(`${base}/console/events?limit=2`);
    const newest = await page.locator("table tr td a").first().innerText();
    await Promise.all([page.waitForURL(/before=/), page.getByText("Older events").click()]);
    const older = await page.locator("table tr td a").first().innerText();
    assert(older < newest, `events page 2 starts at ${older}, not older than ${newest}`);
  });

  await step("create a subscription from the catalog and see its secret once", async () => {
    await page.goto(`${base}/console/subscriptions/new`);
    await page.fill('input[name="url"]', `http://127.0.0.1:${server.address().port}/from-console`);
    await page.check('input[name="events"][value="patient_payment.applied"]');
    await Promise.all([page.waitForURL(`${base}/console/subscriptions`), page.locator('form[action="/console/subscriptions"] button[type="submit"]').click()]);
    await page.getByText("shown this once").waitFor();
    assert(/whsec_[A-Za-z0-9+/=]+/.test(await page.content()), "no secret on the page");
    const subs = (await api(base, "GET", "/admin/subscriptions")).body.data;
    assert(subs.some((x) => x.url.endsWith("/from-console") && x.events.includes("patient_payment.applied")), "subscription not created");
    await page.screenshot({ path: "test/e2e/console-subscription.png", fullPage: true });
  });
} finally {
  await browser?.close();
  stop();
  server.close();
  const passed = results.filter(([, ok]) => ok).length;
  const failed = results.length - passed;
  console.log(`\ne2e: ${passed} passed, ${failed} failed`);
  if (failed || results.length < 8) process.exitCode = 1;
}
