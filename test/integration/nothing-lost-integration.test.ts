import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ADMIN_TOKEN, admin, call, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { cms1500, payorStatus, remitBundle } from "../helpers/fixtures";

const SECRET = "nothing-lost-secret";
const headers = { "X-API-KEY": SECRET };

beforeAll(async () => {
  await createSource({ id: "nl-healthie", kind: "healthie.cms1500", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  await createSource({ id: "nl-payor", kind: "payor.claim_status", verification: { scheme: "api_secret" }, secrets: [SECRET] });
  await createSource({ id: "nl-remit", kind: "cair.claim_response", verification: { scheme: "api_secret" }, secrets: [SECRET] });
});

const send = (source: string, body: unknown) => postWebhook(source, typeof body === "string" ? body : JSON.stringify(body), headers);
const processed = (eventId: string) => eventually(async () => (await count("events", "id = ? AND status = 'processed'", eventId)) === 1);

/** Stores an event as an older schema would have left it (invalid or failed), for reprocessing. */
async function storedAs(status: "invalid" | "failed", kind: string, sourceId: string, body: unknown): Promise<string> {
  const id = `evt_nl_${Math.random().toString(36).slice(2, 10)}`;
  await env.DB.prepare(
    "INSERT INTO events (id, source_id, kind, dedup_key, body, headers, received_at, status, validation_errors, last_error) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)",
  )
    .bind(id, sourceId, kind, `test:${id}`, JSON.stringify(body), new Date().toISOString(), status, status === "invalid" ? '[{"path":"x","message":"old schema"}]' : null, "OLD: refused")
    .run();
  return id;
}

describe("verified but invalid ⇒ stored, listed, shown", () => {
  it("a signed body that fails validation is answered 422 with details and kept as `invalid` with its errors", async () => {
    const bad = cms1500((f) => (f.cpt_codes_cms1500s[0].cpt_code = "NOT-A-CPT"));
    const res = await send("nl-healthie", bad);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("PAYLOAD_INVALID");
    expect(res.body.error.details[0].path).toBe("cpt_codes_cms1500s[0].cpt_code");
    const eventId = res.body.error.eventId;
    expect(eventId).toMatch(/^evt_/);
    const [row] = await rows<any>("SELECT status, validation_errors, last_error, enqueued_at FROM events WHERE id = ?", eventId);
    expect(row).toMatchObject({ status: "invalid", enqueued_at: null });
    expect(JSON.parse(row.validation_errors)[0].path).toBe("cpt_codes_cms1500s[0].cpt_code");

    // the partner's retries of the same bytes are the same kept event
    const again = await send("nl-healthie", bad);
    expect(again.status).toBe(422);
    expect(again.body.error.eventId).toBe(eventId);
    expect(await count("events", "source_id = 'nl-healthie' AND status = 'invalid'")).toBe(1);

    const listed = await admin("GET", "/admin/events?status=invalid");
    expect(listed.body.data.map((e: any) => e.id)).toContain(eventId);
    const shown = await admin("GET", `/admin/events/${eventId}`);
    expect(shown.body).toMatchObject({ status: "invalid", validationErrors: [expect.objectContaining({ path: "cpt_codes_cms1500s[0].cpt_code" })] });
  });

  it("a signed body that is not JSON is 400 and kept too; an unsigned one is 401 and nothing is stored", async () => {
    const res = await send("nl-payor", '{"event_type": "claim_status_update", ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("MALFORMED_JSON");
    const shown = await admin("GET", `/admin/events/${res.body.error.eventId}`);
    expect(shown.body).toMatchObject({ status: "invalid", payloadText: '{"event_type": "claim_status_update", ' });
    const before = await count("events");
    const unsigned = await postWebhook("nl-payor", "{not json", { "X-API-KEY": "wrong" });
    expect(unsigned.status).toBe(401);
    expect(await count("events")).toBe(before);
  });
});

describe("reprocess", () => {
  it("an invalid event that today's schema accepts is projected once; again is a no-op; audited", async () => {
    const id = await storedAs("invalid", "healthie.cms1500", "nl-healthie", cms1500((f) => ((f.id = "reproc-1"), (f.accept_assignment = null))));
    const first = await admin("POST", `/admin/events/${id}/reprocess`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ eventId: id, status: "processed", reprocessed: true, lastError: null });
    expect(await count("domain_events", "source_event_id = ? AND type = 'cms1500.created'", id)).toBe(1);
    const second = await admin("POST", `/admin/events/${id}/reprocess`);
    expect(second.body).toEqual({ eventId: id, status: "processed", reprocessed: false, lastError: null });
    expect(await count("domain_events", "source_event_id = ?", id)).toBe(1);
    expect(await count("audit_log", "action = 'POST /admin/events/:id/reprocess' AND target LIKE ?", `%${id}%`)).toBe(2);
  });

  it("still invalid: 422 with details, the stored errors brought up to date; a failed event reprocesses too", async () => {
    const id = await storedAs("invalid", "payor.claim_status", "nl-payor", payorStatus((u) => (u.new_status = "lost")));
    const res = await admin("POST", `/admin/events/${id}/reprocess`);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: any) => d.path)).toContain("new_status");
    const [row] = await rows<any>("SELECT status, validation_errors FROM events WHERE id = ?", id);
    expect(row.status).toBe("invalid");
    expect(JSON.parse(row.validation_errors)[0].path).toBe("new_status");

    const failed = await storedAs("failed", "payor.claim_status", "nl-payor", payorStatus((u) => (u.claim_id = "CLM-REPROC-F")));
    const ok = await admin("POST", `/admin/events/${failed}/reprocess`);
    expect(ok.body).toMatchObject({ status: "processed", reprocessed: true });
    expect((await admin("POST", "/admin/events/evt_nope/reprocess")).status).toBe(404);
  });

  it("the console offers Reprocess on an invalid event's page and shows the result", async () => {
    const id = await storedAs("invalid", "healthie.cms1500", "nl-healthie", cms1500((f) => (f.id = "reproc-console")));
    const BASE = "https://claimgate.test";
    const login = await exports.default.fetch(
      new Request(`${BASE}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, body: `token=${ADMIN_TOKEN}` }),
    );
    await login.text();
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await exports.default.fetch(new Request(`${BASE}/console/events/${id}`, { headers: { cookie } }))).text();
    expect(page).toContain("Validation errors");
    expect(page).toContain("old schema");
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    expect(page).toContain(`action="/console/events/${id}/reprocess"`);
    const post = await exports.default.fetch(
      new Request(`${BASE}/console/events/${id}/reprocess`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, cookie }, body: `csrf=${csrf}` }),
    );
    await post.text();
    expect(post.status).toBe(303);
    const after = await (await exports.default.fetch(new Request(BASE + post.headers.get("location")!, { headers: { cookie } }))).text();
    expect(after).toContain("Reprocess: processed");
    expect(after).toContain("cms1500.created");
  });
});

describe("tolerant partner schemas: what the partners' real APIs send", () => {
  const healthie: [string, (f: any) => void][] = [
    ["null signature flags and accept_assignment", (f) => ((f.client_sig_on_file = null), (f.insured_sig_on_file = null), (f.accept_assignment = null))],
    ["null policy fields, insurance_plan, payer_id, updated_at", (f) => ((f.cms1500_policies[0].updated_at = null), (f.cms1500_policies[0].insurance_plan = null), (f.cms1500_policies[0].num = null))],
    ["null payer_id inside a plan", (f) => (f.cms1500_policies[0].insurance_plan.payer_id = null)],
    ["null ICD active and id", (f) => ((f.icd_codes_cms1500s[0].active = null), (f.icd_codes_cms1500s[0].id = null))],
    ["null units and null patient", (f) => ((f.cpt_codes_cms1500s[0].units = null), (f.patient = null))],
    ["empty and lower-case modifiers", (f) => ((f.cpt_codes_cms1500s[0].mod1 = ""), (f.cpt_codes_cms1500s[0].mod2 = "rt"), (f.cpt_codes_cms1500s[0].mod3 = null))],
    ["numeric ids", (f) => ((f.id = 987654), (f.patient_id = 100121), (f.cms1500_policies[0].id = 202402), (f.billing_provider_id = 42))],
    ["letter pointers", (f) => (f.cpt_codes_cms1500s[0].pointers = "A,B")],
    ["percent and money strings", (f) => ((f.cms1500_policies[0].benefits[0].coinsurance = "20%"), (f.cms1500_policies[0].benefits[0].copay = "1,500.00"), (f.cpt_codes_cms1500s[0].charge = "$1,250.50"))],
  ];
  for (const [name, edit] of healthie) {
    it(`Healthie: ${name}`, async () => {
      const form = cms1500((f) => {
        f.id = `tol-${name.replace(/\W+/g, "-")}`;
        edit(f);
      });
      const res = await send("nl-healthie", form);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await processed(res.body.eventId);
    });
  }

  it("Healthie: what it stores from such a form (pointers as numbers, modifiers upper case, money in cents, unknowns null)", async () => {
    const form = cms1500((f) => {
      f.id = 555001;
      f.cpt_codes_cms1500s[0] = { ...f.cpt_codes_cms1500s[0], mod1: "rt", mod2: "", mod3: null, mod4: null, pointers: "A,B", units: null, charge: "1,250.50" };
      f.cms1500_policies[0].insurance_plan = null;
    });
    const res = await send("nl-healthie", form);
    await processed(res.body.eventId);
    const [line] = await rows<any>(
      "SELECT l.modifiers, l.diagnosis_pointers, l.units, l.charge_cents, c.payer_id FROM claim_lines l JOIN claims c ON c.id = l.claim_id JOIN claim_identifiers i ON i.claim_id = c.id WHERE i.value = '555001'",
    );
    expect(line).toEqual({ modifiers: '["RT"]', diagnosis_pointers: "[1,2]", units: 1, charge_cents: 125050, payer_id: null });
  });

  it("Healthie: refuses only what cannot be acted on (no CPT code, a pointer past L, an unreadable amount)", async () => {
    for (const [edit, path] of [
      [(f: any) => delete f.cpt_codes_cms1500s[0].cpt_code, "cpt_codes_cms1500s[0].cpt_code"],
      [(f: any) => (f.cpt_codes_cms1500s[0].pointers = "M"), "cpt_codes_cms1500s[0].pointers"],
      [(f: any) => (f.cpt_codes_cms1500s[0].charge = "twelve"), "cpt_codes_cms1500s[0].charge"],
    ] as const) {
      const res = await send("nl-healthie", cms1500(edit));
      expect(res.status).toBe(422);
      expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
    }
  });

  const payor: [string, (u: any) => void, Record<string, unknown>][] = [
    ["event_type payment_processed (the guide registers it)", (u) => ((u.event_type = "payment_processed"), (u.claim_id = "CLM-TOL-PAY")), { type: "payment_processed" }],
    ["a naive timestamp", (u) => ((u.timestamp = "2024-10-03T15:30:00.123456"), (u.claim_id = "CLM-TOL-NAIVE")), { at: "2024-10-03T15:30:00.123Z" }],
    [
      "null amounts and names on a rejection",
      (u) => {
        u.claim_id = "CLM-TOL-REJ";
        u.new_status = "rejected";
        u.amount = null;
        u.patient_name = null;
        u.payment_details = { approved_amount: null, patient_responsibility: null };
      },
      { status: "rejected", approved: null },
    ],
  ];
  for (const [name, edit, expected] of payor) {
    it(`payor status: ${name}`, async () => {
      const res = await send("nl-payor", payorStatus(edit));
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await processed(res.body.eventId);
      const [claim] = await rows<any>(
        "SELECT c.status, c.status_at AS at, c.approved_cents AS approved FROM claims c JOIN claim_identifiers i ON i.claim_id = c.id WHERE i.value = ?",
        payorStatus(edit).claim_id,
      );
      const types = (await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", res.body.eventId)).map((r) => r.type);
      const seen = { type: types[0], ...claim };
      expect(seen).toMatchObject(expected);
    });
  }

  it("FHIR: Money without a value is accepted where FHIR allows it", async () => {
    const res = await send("nl-remit", remitBundle((cr) => ((cr.id = "tol-money"), (cr.item[0].adjudication[0].amount = { currency: "USD" }))));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await processed(res.body.eventId);
  });
});

describe("recovery: every pending event ends processed, failed or invalid", () => {
  it("an event whose queue message went missing is sent again by the sweep and processed", async () => {
    const res = await send("nl-payor", payorStatus((u) => (u.claim_id = "CLM-LOST")));
    await processed(res.body.eventId);
    // as if the runtime died with the message in flight: pending, enqueued long ago, never processed
    await env.DB.prepare("UPDATE events SET status = 'pending', enqueued_at = '2020-01-01T00:00:00.000Z', processed_at = NULL WHERE id = ?").bind(res.body.eventId).run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    await processed(res.body.eventId);
    const [row] = await rows<any>("SELECT redrives FROM events WHERE id = ?", res.body.eventId);
    expect(row.redrives).toBe(1);
  });

  it("after ten sends that never got processed, the event is failed with that reason, visibly", async () => {
    const res = await send("nl-payor", payorStatus((u) => (u.claim_id = "CLM-GIVE-UP")));
    await processed(res.body.eventId);
    await env.DB.prepare("UPDATE events SET status = 'pending', enqueued_at = '2020-01-01T00:00:00.000Z', redrives = 10 WHERE id = ?").bind(res.body.eventId).run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const shown = await admin("GET", `/admin/events/${res.body.eventId}`);
    expect(shown.body.status).toBe("failed");
    expect(shown.body.lastError).toContain("NOT_PROCESSED");
  });
});

describe("payments show what they produced", () => {
  it("a patient payment's event lists the payment, its claim and its credit", async () => {
    // the money-rules tests cover the payment itself; here only what the event page says
    await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] });
    const remitRes = await send("nl-remit", remitBundle((cr) => {
      cr.id = "nl-pay-remit";
      cr.request.reference = "Claim/nl-pay-claim";
      cr.identifier = [{ system: "https://payer.example/remit-id", value: "NL-PAY-REMIT" }];
      cr.identifier.push({ system: "https://fhir.cairhealth.com/fhir/identifier/claim-id", value: "NL-PAY-1" });
      cr.item[0].adjudication.push({ category: { coding: [{ system: "https://x12.org/codes/claim-adjustment-group-codes", code: "PR" }] }, reason: { coding: [{ code: "3" }] }, amount: { value: 10, currency: "USD" } });
    }));
    await processed(remitRes.body.eventId);
    const paid = await call("POST", "/api/webhooks/patient-payment", { json: { billId: "NL-PAY-1", paymentAmount: 25, paymentTraceId: "nl-pay" }, headers });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const [event] = await rows<any>("SELECT event_id FROM patient_payment_details WHERE trace_id = 'nl-pay'");
    const shown = await admin("GET", `/admin/events/${event.event_id}`);
    expect(shown.body.payments).toEqual([
      expect.objectContaining({ claimId: paid.body.data.claimId, claimLifecycleId: paid.body.data.claimLifecycleId, amountSetOnClaim: 10, excessAmount: 15, creditId: expect.stringMatching(/^crd_/) }),
    ]);
    expect(shown.body.produced.map((p: any) => p.type).sort()).toEqual(["patient_credit.created", "patient_payment.applied"]);
    const byClaim = await admin("GET", `/admin/events?claim=${paid.body.data.claimId}`);
    expect(byClaim.body.data.map((e: any) => e.id)).toContain(event.event_id);
  });
});

describe("a projection that keeps failing ends visible, not retried forever", () => {
  it("the events dead letter queue marks the event failed with its last error; it can then be reprocessed", async () => {
    const { createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const id = await storedAs("failed", "payor.claim_status", "nl-payor", payorStatus((u) => (u.claim_id = "CLM-DLQ")));
    // as the consumer leaves it after its retries: still pending, with the error of the last try
    await env.DB.prepare("UPDATE events SET status = 'pending', last_error = 'D1_ERROR: database is locked' WHERE id = ?").bind(id).run();
    const batch = createMessageBatch("claimgate-events-dlq", [{ id: "dlq-1", timestamp: new Date(), attempts: 1, body: { eventId: id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([]);
    const shown = await admin("GET", `/admin/events/${id}`);
    expect(shown.body).toMatchObject({ status: "failed", lastError: "D1_ERROR: database is locked" });
    expect((await admin("GET", "/admin/events?status=failed")).body.data.map((e: any) => e.id)).toContain(id);
    expect((await admin("POST", `/admin/events/${id}/reprocess`)).body).toMatchObject({ status: "processed", reprocessed: true });
  });
});
