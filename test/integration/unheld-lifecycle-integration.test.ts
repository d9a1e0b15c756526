import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { reconcileUnheld, reloadUnheld, writeUnheld, type UnheldReload } from "../../src/lifecycle/unheld";
import { createSource } from "../helpers/api";
import { PAYMENT_SECRET, pay, project, remit, scrub, snapshot } from "../helpers/lifecycle";

// A lifecycle no ClaimLifecycle object holds yet (no payment ever reached it) gets its figures from the
// projection, without waking an object (src/lifecycle/unheld.ts, issue 17); once an object holds it, only
// the object writes them. The guards are shown one by one below.

beforeAll(async () => {
  await createSource({ id: "patient-payments", kind: "cair.patient_payment", verification: { scheme: "api_secret", header: "X-API-KEY" }, secrets: [PAYMENT_SECRET] });
});

/** D1 as it is, without the helpers' settling (which would flush lifecycle objects). */
const lifecycleRow = async (billId: string) =>
  (await env.DB.prepare("SELECT id, responsibility_cents AS r, applied_cents AS applied, object_since, facts_version FROM claim_lifecycles WHERE bill_id = ?").bind(billId).first<{
    id: string;
    r: number | null;
    applied: number;
    object_since: string | null;
    facts_version: number;
  }>())!;

/** What the lifecycle's object has stored (instantiating it to look does not load anything). */
const objectState = (lifecycleId: string) =>
  runInDurableObject(env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(lifecycleId)), (_o, state) => ({
    states: state.storage.sql.exec("SELECT count(*) AS n FROM lifecycle_state").one().n,
    outbox: state.storage.sql.exec("SELECT count(*) AS n FROM outbox").one().n,
  }));

const db = database(env.DB);
const reload = async (id: string) => (await reloadUnheld(db, [id]))[0]!;
const write = async (r: UnheldReload) => (await writeUnheld(db, [r])).has(r.lifecycleId);

let n = 0;
async function claim() {
  n++;
  const billId = `UNHELD-${n}`;
  const spec = { claimId: `unheld-claim-${n}`, billId, patient: `unheld-pt-${n}` };
  await project("cair.claim_scrubber", scrub({ ...spec, created: "2024-10-01" }));
  return spec;
}

describe("a lifecycle no object holds: the projection writes its figures", () => {
  it("remits set the responsibility in D1 with no object brought into being", async () => {
    const c = await claim();
    await project("cair.claim_response", remit({ id: `unheld-a-${n}`, identifier: `ICN-A-${n}`, claimId: c.claimId, patient: c.patient, prCents: 5000 }));
    let lc = await lifecycleRow(c.billId);
    expect(lc).toMatchObject({ r: 5000, applied: 0, object_since: null });
    // a corrected remit replaces it, again without the object
    await project("cair.claim_response", remit({ id: `unheld-b-${n}`, identifier: `ICN-B-${n}`, claimId: c.claimId, patient: c.patient, prCents: 3000, lastUpdated: "2024-11-05T10:00:00Z" }));
    await project("cair.claim_response", remit({ id: `unheld-r-${n}`, identifier: `ICN-A-${n}`, claimId: c.claimId, patient: c.patient, prCents: -5000, lastUpdated: "2024-11-05T09:00:00Z" }));
    lc = await lifecycleRow(c.billId);
    expect(lc).toMatchObject({ r: 3000, applied: 0, object_since: null });
    expect(lc.facts_version).toBeGreaterThanOrEqual(3);
    expect(await objectState(lc.id)).toEqual({ states: 0, outbox: 0 });
  });

  it("the first payment has the object hold the lifecycle; later remits go through the object and move the money", async () => {
    const c = await claim();
    await project("cair.claim_response", remit({ id: `unheld-a-${n}`, identifier: `ICN-A-${n}`, claimId: c.claimId, patient: c.patient, prCents: 5000 }));
    const paid = await pay({ billId: c.billId, paymentAmount: 50, paymentTraceId: `unheld-pay-${n}` });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const lc = await lifecycleRow(c.billId);
    expect(lc.object_since).not.toBeNull();
    expect(await reload(lc.id)).toBeNull();
    // the corrected remit lowers the responsibility: only the object can turn the excess into a credit
    await project("cair.claim_response", remit({ id: `unheld-b-${n}`, identifier: `ICN-B-${n}`, claimId: c.claimId, patient: c.patient, prCents: 3000, lastUpdated: "2024-11-05T10:00:00Z" }));
    await project("cair.claim_response", remit({ id: `unheld-r-${n}`, identifier: `ICN-A-${n}`, claimId: c.claimId, patient: c.patient, prCents: -5000, lastUpdated: "2024-11-05T09:00:00Z" }));
    const s = await snapshot(c.billId);
    expect(s).toMatchObject({ responsibility: 3000, applied: 3000, paidOnClaims: [3000] });
    expect(s.payments[`unheld-pay-${n}`]).toMatchObject({ applied: 3000, credit: 2000 });
    expect((await objectState(lc.id)).states).toBe(1);
  });
});

describe("the guards", () => {
  /** A claim with a PR 42.00 remit projected (its facts in D1), its lifecycle's figures then cleared. */
  async function remittedWithoutFigures() {
    const c = await claim();
    const { id } = await lifecycleRow(c.billId);
    await project("cair.claim_response", remit({ id: `unheld-a-${n}`, claimId: c.claimId, patient: c.patient, prCents: 4200 }));
    await env.DB.prepare("UPDATE claim_lifecycles SET responsibility_cents = NULL WHERE id = ?").bind(id).run();
    return { c, id };
  }

  it("a reload whose version another reload moved on does not write; the later one does", async () => {
    const { c, id } = await remittedWithoutFigures();
    // two reloads race
    const earlier = (await reload(id))!;
    const later = (await reload(id))!;
    expect(later.version).toBe(earlier.version + 1);
    expect(earlier.figures).toMatchObject({ responsibilityCents: 4200 });
    expect(await write(earlier)).toBe(false);
    expect((await lifecycleRow(c.billId)).r).toBeNull();
    expect(await write(later)).toBe(true);
    expect((await lifecycleRow(c.billId)).r).toBe(4200);
  });

  it("once the object has loaded the lifecycle, a reload made before does not write", async () => {
    const { c, id } = await remittedWithoutFigures();
    const before = (await reload(id))!;
    // the object loads the lifecycle (any operation does; here a summary) and so holds it
    const summary = await env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(id)).summary(id);
    expect(summary).toMatchObject({ responsibilityCents: 4200, appliedCents: 0 });
    expect((await lifecycleRow(c.billId)).object_since).not.toBeNull();
    expect(await write(before)).toBe(false);
    expect(await reload(id)).toBeNull();
    // and the caller's fallback is the object's own reconcile, which writes the figures
    expect(await reconcileUnheld(db, [id])).toEqual([id]);
  });

  it("a lifecycle with money but no mark (a merge brought a payment) is left to its object", async () => {
    const c = await claim();
    await project("cair.claim_response", remit({ id: `unheld-a-${n}`, claimId: c.claimId, patient: c.patient, prCents: 4200 }));
    expect((await pay({ billId: c.billId, paymentAmount: 10, paymentTraceId: `unheld-pay-${n}` })).status).toBe(200);
    await snapshot(c.billId); // D1 has the payment
    const { id } = await lifecycleRow(c.billId);
    await env.DB.prepare("UPDATE claim_lifecycles SET object_since = NULL WHERE id = ?").bind(id).run();
    expect(await reload(id)).toBeNull();
    // the payment row alone says so (figures that show no money, as a payment held wholly as credit would)
    await env.DB.prepare("UPDATE claim_lifecycles SET applied_cents = 0 WHERE id = ?").bind(id).run();
    await env.DB.prepare("UPDATE claims SET patient_paid_cents = 0 WHERE claim_lifecycle_id = ?").bind(id).run();
    expect(await reload(id)).toBeNull();
  });

  it("a lifecycle another lifecycle's credit is allocated to is left to its object; once that allocation is reversed it is not", async () => {
    const c = await claim();
    await project("cair.claim_response", remit({ id: `unheld-a-${n}`, claimId: c.claimId, patient: c.patient, prCents: 4200 }));
    const { id } = await lifecycleRow(c.billId);
    const [claimRow] = (await env.DB.prepare("SELECT id FROM claims WHERE claim_lifecycle_id = ?").bind(id).all<{ id: string }>()).results;
    // (the allocation row as another lifecycle's object writes it; its credit is that lifecycle's business)
    const allocation = `alloc-unheld-${n}`;
    await env.DB.prepare("INSERT INTO credit_allocations (id, credit_id, claim_id, claim_lifecycle_id, amount_cents, created_at) VALUES (?, 'credit-elsewhere', ?, ?, 500, ?)")
      .bind(allocation, claimRow!.id, id, new Date().toISOString())
      .run();
    expect(await reload(id)).toBeNull();
    await env.DB.prepare("UPDATE credit_allocations SET reversed_at = ? WHERE id = ?").bind(new Date().toISOString(), allocation).run();
    expect(await reload(id)).toMatchObject({ lifecycleId: id });
  });

  it("a batch of lifecycles is reloaded and written together; only the held one is left to its object", async () => {
    const specs = [await claim(), await claim(), await claim()];
    const ids: string[] = [];
    for (const [i, c] of specs.entries()) {
      await project("cair.claim_response", remit({ id: `unheld-many-${n}-${i}`, claimId: c.claimId, patient: c.patient, prCents: 1000 * (i + 1) }));
      ids.push((await lifecycleRow(c.billId)).id);
    }
    await env.DB.prepare(`UPDATE claim_lifecycles SET responsibility_cents = NULL WHERE id IN (?, ?, ?)`).bind(...ids).run();
    await env.CLAIM_LIFECYCLE.get(env.CLAIM_LIFECYCLE.idFromName(ids[1]!)).summary(ids[1]!); // the second is held now
    await env.DB.prepare(`UPDATE claim_lifecycles SET responsibility_cents = NULL WHERE id = ?`).bind(ids[1]).run();
    expect(await reconcileUnheld(db, ids)).toEqual([ids[1]]);
    expect((await lifecycleRow(specs[0]!.billId)).r).toBe(1000);
    expect((await lifecycleRow(specs[1]!.billId)).r).toBeNull();
    expect((await lifecycleRow(specs[2]!.billId)).r).toBe(3000);
  });
});
