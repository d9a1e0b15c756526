import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { processEvent } from "../../src/queue/events-consumer";
import scrubberAsPrinted from "../fixtures/cair-claim-scrubber.as-printed.json.txt?raw";
import { admin, createSource, postWebhook } from "../helpers/api";
import { count, eventually, rows } from "../helpers/db";
import { CLAIM_ID_SYSTEM, cms1500, payorStatus, remitBundle, remitFor, scrubPayload } from "../helpers/fixtures";

const SECRET = "claims-test-secret";
const KINDS = {
  remit: "cair.claim_response",
  scrub: "cair.claim_scrubber",
  cms: "healthie.cms1500",
  payor: "payor.claim_status",
} as const;

beforeAll(async () => {
  for (const [id, kind] of Object.entries(KINDS)) {
    await createSource({ id, kind, verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [SECRET] });
  }
});

async function send(source: keyof typeof KINDS, payload: unknown, headers: Record<string, string> = {}) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return postWebhook(source, body, { "X-API-KEY": SECRET, ...headers });
}

/** POSTs and waits for the events consumer to project it; returns the event id. */
async function deliver(source: keyof typeof KINDS, payload: unknown, headers: Record<string, string> = {}) {
  const res = await send(source, payload, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.eventId as string;
  await eventually(async () => (await count("events", "id = ? AND status = 'processed'", id)) === 1);
  // …and fanned out (the consumer fans out right after recording), so what a test reads next is settled
  await eventually(async () => (await count("domain_events", "source_event_id = ? AND fanned_out_at IS NULL", id)) === 0);
  return id;
}

const claimBy = async (system: string, value: string) =>
  (await admin("GET", `/api/claims?identifier=${encodeURIComponent(`${system}|${value}`)}`)).body.claim;

describe("each seed payload end to end", () => {
  it("the scrubber seed (mended) → claim with lines, diagnoses, scrub result, CLAIMS_AI_OPTIMIZER", async () => {
    const eventId = await deliver("scrub", scrubPayload());
    const claim = await claimBy(CLAIM_ID_SYSTEM, "52343746129383");
    expect(claim).toMatchObject({
      status: "draft",
      amount: 225,
      diagnosis_code: "E66.811",
      procedure_code: "99214",
      lifecycle: {
        billId: "52343746129383",
        placeholder: false,
        lines: [
          { sequence: 1, code: "99214", modifiers: ["RT"], units: 1, charge: 150, diagnosisPointers: [1, 2], serviceDate: "2025-11-17" },
          { sequence: 2, code: "3008F", modifiers: [], units: 1, charge: 75, diagnosisPointers: [1] },
        ],
        diagnoses: [{ sequence: 1, code: "E66.811" }, { sequence: 2, code: "F41.8" }],
        scrub: { optimizerRunId: "ba757342-2a29-4972-ab3a-341a04a4bd9b", rulesApplied: 2, rulesFlagged: 0, edits: 4 },
      },
    });
    const [dev] = await rows<any>("SELECT * FROM domain_events WHERE source_event_id = ?", eventId);
    expect(dev).toMatchObject({ type: "CLAIMS_AI_OPTIMIZER", claim_id: claim.id, claim_lifecycle_id: claim.lifecycle.id });
    expect(JSON.parse(dev.payload).output.ai_generated_x12_837).toEqual(expect.any(String));
  });

  it("a scrubber run sent again with other edits (same optimizer_run_id) replaces the stored run's result", async () => {
    const first = scrubPayload({ claimId: "scrub-rerun-claim", billId: "SCRUB-RERUN-1", runId: "scrub-rerun-run" });
    await deliver("scrub", first);
    expect((await claimBy(CLAIM_ID_SYSTEM, "SCRUB-RERUN-1")).lifecycle.scrub).toMatchObject({ optimizerRunId: "scrub-rerun-run", edits: 4 });
    const again = scrubPayload({ claimId: "scrub-rerun-claim", billId: "SCRUB-RERUN-1", runId: "scrub-rerun-run" });
    again.output.edits = again.output.edits.slice(0, 1);
    await deliver("scrub", again);
    expect((await claimBy(CLAIM_ID_SYSTEM, "SCRUB-RERUN-1")).lifecycle.scrub).toMatchObject({ optimizerRunId: "scrub-rerun-run", edits: 1 });
    expect(await count("scrub_results", "id = ?", "scrub-rerun-run")).toBe(1);
  });

  it("the remit seed → ClaimResponse linked to a placeholder claim, CLAIMS_REMIT_APPROVED", async () => {
    const eventId = await deliver("remit", remitFor({ crId: "seed-remit", claimId: "44f484fc-7946-44e2-bfad-bad583c479f5" }));
    const claim = await claimBy("urn:claimgate:fhir-claim", "44f484fc-7946-44e2-bfad-bad583c479f5");
    expect(claim.status).toBe("approved");
    expect(claim.lifecycle.placeholder).toBe(true);
    expect(claim.lifecycle.claimResponse).toMatchObject({ id: "seed-remit", decision: "approved", payment: 178.44, patientResponsibility: 0, submitted: 190.44 });
    expect(claim.lifecycle.statusHistory).toEqual([expect.objectContaining({ from: "draft", to: "approved", source: "cair.claim_response", applied: true })]);
    const [dev] = await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", eventId);
    expect(dev.type).toBe("CLAIMS_REMIT_APPROVED");
  });

  it("a denied remit → CLAIMS_REMIT_DENIED and status rejected", async () => {
    const eventId = await deliver("remit", remitFor({ crId: "denied-remit", claimId: "c-denied", edit: (cr) => (cr.outcome = "error") }));
    expect((await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", eventId))[0].type).toBe("CLAIMS_REMIT_DENIED");
    expect((await claimBy("urn:claimgate:fhir-claim", "c-denied")).status).toBe("rejected");
  });

  it("the CMS-1500 seed → created, then an update replaces lines atomically → updated", async () => {
    const created = await deliver("cms", cms1500());
    const claim = await claimBy("urn:claimgate:healthie-cms1500", "57211");
    expect(claim.lifecycle.lines).toEqual([
      expect.objectContaining({ code: "99215", modifiers: ["25", "59", "12", "34"], units: 1, diagnosisPointers: [1], serviceDate: "2025-09-22" }),
    ]);
    expect(claim.lifecycle.diagnoses).toEqual([expect.objectContaining({ code: "F41.1" })]);
    expect(claim.payor_id).toBe("629913");

    const updated = await deliver(
      "cms",
      cms1500((f) => {
        f.cpt_codes_cms1500s = [
          { cpt_code: "99213", units: "2", pointers: "1,2", service_date: "2025-09-23" },
          { cpt_code: "36415", units: "1", pointers: "2", service_date: "2025-09-23" },
        ];
        f.icd_codes_cms1500s.push({ code: "E11.9" });
      }),
    );
    const after = await claimBy("urn:claimgate:healthie-cms1500", "57211");
    expect(after.id).toBe(claim.id);
    expect(after.lifecycle.lines.map((l: any) => [l.code, l.units, l.diagnosisPointers])).toEqual([
      ["99213", 2, [1, 2]],
      ["36415", 1, [2]],
    ]);
    expect(after.lifecycle.diagnoses.map((d: any) => d.code)).toEqual(["F41.1", "E11.9"]);
    const types = await rows<any>("SELECT source_event_id, type FROM domain_events WHERE source_event_id IN (?, ?)", created, updated);
    expect(Object.fromEntries(types.map((t) => [t.source_event_id, t.type]))).toEqual({ [created]: "cms1500.created", [updated]: "cms1500.updated" });
  });

  it("an explicit event-type header wins over first-seen", async () => {
    const id = await deliver("cms", cms1500((f) => (f.id = "77001")), { "X-Healthie-Event-Type": "cms1500.updated" });
    expect((await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", id))[0].type).toBe("cms1500.updated");
  });

  it("the payor status seed → status history, payment details in cents, claim_status_update; a stale update is recorded, not applied", async () => {
    const first = await deliver("payor", payorStatus());
    let claim = await claimBy("urn:claimgate:hcms-claim", "CLM-20241003-ABC123");
    expect(claim).toMatchObject({ claim_id: "CLM-20241003-ABC123", status: "approved", expected_payment: 1000, patient_responsibility: 250 });
    expect((await rows<any>("SELECT type FROM domain_events WHERE source_event_id = ?", first))[0].type).toBe("claim_status_update");

    await deliver("payor", payorStatus((u) => {
      u.timestamp = "2024-10-03T15:00:00Z"; // older than the approval
      u.previous_status = "submitted";
      u.new_status = "under_review";
      delete u.payment_details;
    }));
    claim = (await admin("GET", "/api/claims/CLM-20241003-ABC123/")).body.claim;
    expect(claim.status).toBe("approved");
    expect(claim.lifecycle.statusHistory.map((h: any) => [h.to, h.applied])).toEqual([
      ["under_review", false],
      ["approved", true],
    ]);
  });
});

describe("bad input per kind → 4xx naming the field, kept as invalid, nothing projected", () => {
  const refused = async (source: keyof typeof KINDS, payload: unknown, status: number, code: string, path?: string) => {
    const before = await count("events", "status != 'invalid'");
    const res = await send(source, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (path) expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
    expect(await count("events", "status != 'invalid'")).toBe(before);
    expect(await count("events", "id = ? AND status = 'invalid'", res.body.error.eventId)).toBe(1);
    return res.body.error;
  };

  it("scrubber: the seed as printed is 400 MALFORMED_JSON", async () => {
    await refused("scrub", scrubberAsPrinted, 400, "MALFORMED_JSON");
  });
  it("scrubber: the nested 837 string not JSON, not a Claim, or a field wrong inside it → 422 at output.ai_generated_x12_837", async () => {
    const notJson = scrubPayload();
    notJson.output.ai_generated_x12_837 = '{"resourceType": "Claim",';
    await refused("scrub", notJson, 422, "PAYLOAD_INVALID", "output.ai_generated_x12_837");
    const notClaim = scrubPayload();
    notClaim.output.ai_generated_x12_837 = JSON.stringify({ resourceType: "Patient", id: "x" });
    await refused("scrub", notClaim, 422, "PAYLOAD_INVALID", "output.ai_generated_x12_837");
    const badItem = scrubPayload({ edit: (c) => (c.item[0].sequence = "one") });
    const err = await refused("scrub", badItem, 422, "PAYLOAD_INVALID", "output.ai_generated_x12_837");
    expect(err.details[0].message).toContain("item[0].sequence");
    const badRules = scrubPayload();
    badRules.output.relevant_rules_report = "[]";
    await refused("scrub", badRules, 422, "PAYLOAD_INVALID", "output.relevant_rules_report");
  });
  it("scrubber: missing field and wrong type", async () => {
    const missing = scrubPayload();
    delete missing.output.optimizer_run_id;
    await refused("scrub", missing, 422, "PAYLOAD_INVALID", "output.optimizer_run_id");
    const wrongType = scrubPayload();
    wrongType.output.edits = "none";
    await refused("scrub", wrongType, 422, "PAYLOAD_INVALID", "output.edits");
  });
  it("CMS-1500: missing id, wrong types, bad codes", async () => {
    await refused("cms", cms1500((f) => delete f.id), 422, "PAYLOAD_INVALID", "id");
    await refused("cms", cms1500((f) => (f.cpt_codes_cms1500s[0].units = { n: 1 })), 422, "PAYLOAD_INVALID", "cpt_codes_cms1500s[0].units");
    await refused("cms", cms1500((f) => (f.cpt_codes_cms1500s[0].cpt_code = "9921")), 422, "PAYLOAD_INVALID", "cpt_codes_cms1500s[0].cpt_code");
    await refused("cms", cms1500((f) => (f.icd_codes_cms1500s[0].code = "not-icd")), 422, "PAYLOAD_INVALID", "icd_codes_cms1500s[0].code");
  });
  it("payor status: wrong enum, missing claim_id, bad timestamp", async () => {
    await refused("payor", payorStatus((u) => (u.new_status = "paid")), 422, "PAYLOAD_INVALID", "new_status");
    await refused("payor", payorStatus((u) => delete u.claim_id), 422, "PAYLOAD_INVALID", "claim_id");
    await refused("payor", payorStatus((u) => (u.timestamp = "yesterday")), 422, "PAYLOAD_INVALID", "timestamp");
    await refused("payor", payorStatus((u) => (u.payment_details.approved_amount = "10.001")), 422, "PAYLOAD_INVALID", "payment_details.approved_amount");
  });
});

/** A claim's state without generated ids and times, for comparing two histories. */
async function normalized(billId: string) {
  const c = await claimBy(CLAIM_ID_SYSTEM, billId);
  const { id: _a, submitted_date: _b, claim_id: _c, lifecycle, ...rest } = c;
  const { id: _d, claims, identifiers, claimResponse, scrub, statusHistory, billId: _e, ...lc } = lifecycle;
  return {
    ...rest,
    lifecycle: {
      ...lc,
      money: { ...lc.money, currentClaimId: undefined },
      claims: claims.length,
      identifiers: identifiers.map((i: any) => i.system).sort(),
      claimResponse: { ...claimResponse, id: undefined },
      scrub: { ...scrub, optimizerRunId: undefined, receivedAt: undefined },
      statusHistory: statusHistory.map((h: any) => ({ ...h })),
    },
  };
}

describe("ordering and replay", () => {
  it("a remit before its claim ends in the same state as after it", async () => {
    // in order: scrub (the claim, with its bill id), then the remit naming only Claim/<id>
    await deliver("scrub", scrubPayload({ claimId: "order-a", billId: "BILL-A", runId: "run-a" }));
    await deliver("remit", remitFor({ crId: "cr-a", claimId: "order-a" }));
    // out of order: the remit arrives first and creates a placeholder, the scrub fills it in
    await deliver("remit", remitFor({ crId: "cr-b", claimId: "order-b" }));
    await deliver("scrub", scrubPayload({ claimId: "order-b", billId: "BILL-B", runId: "run-b" }));

    const a = await normalized("BILL-A");
    const b = await normalized("BILL-B");
    expect(b).toEqual(a);
    expect(a.lifecycle.claims).toBe(1);
    expect(a.lifecycle.placeholder).toBe(false);
    expect(a.status).toBe("approved");
    expect(await count("claims c JOIN claim_identifiers i ON i.claim_id = c.id", "i.value IN ('order-a', 'order-b')")).toBe(2);
  });

  it("a placeholder lifecycle found by bill id is merged with the claim's own", async () => {
    // a remit that names only the bill creates a placeholder claim in that bill's lifecycle…
    await deliver("remit", remitBundle2("cr-bill-only", "BILL-M"));
    // …and a remit naming only the FHIR claim creates another, until the scrub shows they are one bill
    await deliver("remit", remitFor({ crId: "cr-claim-only", claimId: "merge-claim" }));
    await deliver("scrub", scrubPayload({ claimId: "merge-claim", billId: "BILL-M", runId: "run-m" }));
    const claim = await claimBy(CLAIM_ID_SYSTEM, "BILL-M");
    const lifecycles = await rows<any>("SELECT claim_lifecycle_id FROM claim_responses WHERE id IN ('cr-bill-only', 'cr-claim-only')");
    expect(new Set(lifecycles.map((l) => l.claim_lifecycle_id))).toEqual(new Set([claim.lifecycle.id]));
    expect(await count("claim_lifecycles", "bill_id = 'BILL-M'")).toBe(1);
  });

  it("replaying a processed event changes nothing", async () => {
    const eventIds = [
      await deliver("scrub", scrubPayload({ claimId: "replay-1", billId: "BILL-R", runId: "run-r" })),
      await deliver("remit", remitFor({ crId: "cr-r", claimId: "replay-1" })),
      await deliver("payor", payorStatus((u) => (u.claim_id = "CLM-REPLAY"))),
      await deliver("cms", cms1500((f) => (f.id = "replay-cms"))),
    ];
    const tables = ["claims", "claim_lifecycles", "claim_identifiers", "claim_lines", "claim_diagnoses", "claim_responses", "scrub_results", "claim_status_history", "domain_events", "patients"];
    // (claim_lifecycles.facts_version counts reloads of a lifecycle's facts, a guard for concurrent writers, not a fact)
    const withoutReloadCount = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "facts_version"));
    const snapshot = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, (await rows(`SELECT * FROM ${t} ORDER BY 1, 2`)).map(withoutReloadCount)])));
    const before = await snapshot();
    const db = database(env.DB);
    for (const id of eventIds) {
      await env.DB.prepare("UPDATE events SET status = 'pending' WHERE id = ?").bind(id).run();
      await processEvent(env, db, id);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("GET /api/claims", () => {
  it("answers 404 CLAIM_NOT_FOUND and 400 without an identifier", async () => {
    const missing = await admin("GET", "/api/claims/clm_nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("CLAIM_NOT_FOUND");
    expect((await admin("GET", `/api/claims?identifier=${encodeURIComponent(`${CLAIM_ID_SYSTEM}|nope`)}`)).status).toBe(404);
    expect((await admin("GET", "/api/claims?identifier=nobar")).status).toBe(400);
  });
});

function remitBundle2(crId: string, billId: string) {
  return remitBundle((cr) => {
    cr.id = crId;
    delete cr.request;
    cr.identifier.push({ system: CLAIM_ID_SYSTEM, value: billId });
  });
}
