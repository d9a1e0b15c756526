// End-to-end console test in a real browser: Debian's chromium driven by playwright-core against
// wrangler dev. Log in, see a seeded event, replay a dead delivery, see the new attempt.
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
  const page = await browser.newPage();

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
} finally {
  await browser?.close();
  stop();
  server.close();
  const passed = results.filter(([, ok]) => ok).length;
  const failed = results.length - passed;
  console.log(`\ne2e: ${passed} passed, ${failed} failed`);
  if (failed || results.length < 4) process.exitCode = 1;
}
