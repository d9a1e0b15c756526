import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ID_SYSTEM, resolveClaim, type LifecycleHooks } from "../../src/claims/resolve";
import { database } from "../../src/db/client";
import { rows } from "../helpers/db";

// resolveClaim against the real local D1: it says whether it changed what a lifecycle's object holds
// (issue 17: a CMS-1500 or payor update to a known claim must not cost a reconcile of its lifecycle).

function recordingHooks() {
  const calls: string[] = [];
  const hooks: LifecycleHooks = {
    beforeFold: async (drop, into) => void calls.push(`beforeFold ${drop}→${into}`),
    afterFold: async (into) => void calls.push(`afterFold ${into}`),
    factsChanged: async (id) => void calls.push(`factsChanged ${id}`),
  };
  return { hooks, calls };
}

const db = () => database(env.DB);
const unique = () => crypto.randomUUID().slice(0, 8);

describe("resolveClaim: factsChanged", () => {
  it("a new claim in a new lifecycle: false (its object has loaded nothing); the same payload again: false", async () => {
    const { hooks, calls } = recordingHooks();
    const key = { system: ID_SYSTEM.healthieCms1500, value: `cms-${unique()}` };
    const patient = { system: "healthie", externalId: `pat-${unique()}` };
    const first = await resolveClaim(db(), { keys: [key], patient }, hooks);
    expect(first.factsChanged).toBe(false);
    expect(first.patientId).not.toBeNull();
    const again = await resolveClaim(db(), { keys: [key], patient }, hooks);
    expect(again).toEqual({ ...first, factsChanged: false });
    expect(calls).toEqual([]);
    // the patient was created once, and both answers name it
    expect(await rows("SELECT id FROM patients WHERE system = ? AND external_id = ?", patient.system, patient.externalId)).toHaveLength(1);
  });

  it("a patient given to a claim that had none: true; then false", async () => {
    const { hooks } = recordingHooks();
    const key = { system: ID_SYSTEM.hcmsClaim, value: `hcms-${unique()}` };
    const bare = await resolveClaim(db(), { keys: [key] }, hooks);
    expect(bare).toMatchObject({ patientId: null, factsChanged: false });
    const withPatient = await resolveClaim(db(), { keys: [key], patient: { system: "hcms:open", externalId: `p-${unique()}` } }, hooks);
    expect(withPatient.claimId).toBe(bare.claimId);
    expect(withPatient.patientId).not.toBeNull();
    expect(withPatient.factsChanged).toBe(true);
    const [claim] = await rows<{ patient_id: string | null }>("SELECT patient_id FROM claims WHERE id = ?", bare.claimId);
    expect(claim!.patient_id).toBe(withPatient.patientId);
    // a later payload naming another patient does not move the claim's patient, and changes nothing
    const other = await resolveClaim(db(), { keys: [key], patient: { system: "hcms:open", externalId: `q-${unique()}` } }, hooks);
    expect(other).toMatchObject({ patientId: withPatient.patientId, factsChanged: false });
  });

  it("a new identifier or a bill on a known claim: true; a claim added to a bill's lifecycle: true", async () => {
    const { hooks } = recordingHooks();
    const bill = `BILL-${unique()}`;
    const fhirClaim = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    const created = await resolveClaim(db(), { keys: [fhirClaim] }, hooks);
    expect(created.factsChanged).toBe(false);
    const billed = await resolveClaim(db(), { keys: [fhirClaim], billId: bill }, hooks);
    expect(billed).toMatchObject({ claimId: created.claimId, lifecycleId: created.lifecycleId, factsChanged: true });
    expect(await resolveClaim(db(), { keys: [fhirClaim], billId: bill }, hooks)).toMatchObject({ factsChanged: false });
    const second = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    expect(await resolveClaim(db(), { keys: [fhirClaim, second], billId: bill }, hooks)).toMatchObject({ claimId: created.claimId, factsChanged: true });
    // another claim of the same bill lands in the bill's lifecycle, which its object may hold
    const replacement = await resolveClaim(db(), { keys: [{ system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` }], billId: bill }, hooks);
    expect(replacement.claimId).not.toBe(created.claimId);
    expect(replacement).toMatchObject({ lifecycleId: created.lifecycleId, factsChanged: true });
    // a bill-only payload finds the lifecycle's latest claim and changes nothing
    expect(await resolveClaim(db(), { keys: [], billId: bill }, hooks)).toMatchObject({ lifecycleId: created.lifecycleId, factsChanged: false });
  });

  it("two claims of one lifecycle shown to be one: true (the object's claims changed), with no fold", async () => {
    const { hooks, calls } = recordingHooks();
    const bill = `BILL-${unique()}`;
    const a = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    const b = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    const first = await resolveClaim(db(), { keys: [a], billId: bill }, hooks);
    const second = await resolveClaim(db(), { keys: [b], billId: bill }, hooks);
    expect(second.lifecycleId).toBe(first.lifecycleId);
    expect(second.claimId).not.toBe(first.claimId);
    const joined = await resolveClaim(db(), { keys: [a, b], billId: bill }, hooks);
    expect(joined).toMatchObject({ claimId: first.claimId, lifecycleId: first.lifecycleId, factsChanged: true });
    expect(await rows("SELECT id FROM claims WHERE id = ?", second.claimId)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("two lifecycles shown to be one: the fold's hooks run (seal, then reconcile the survivor)", async () => {
    const { hooks, calls } = recordingHooks();
    const a = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    const b = { system: ID_SYSTEM.fhirClaim, value: `claim-${unique()}` };
    const first = await resolveClaim(db(), { keys: [a] }, hooks);
    const second = await resolveClaim(db(), { keys: [b] }, hooks);
    expect(first.lifecycleId).not.toBe(second.lifecycleId);
    const joined = await resolveClaim(db(), { keys: [a, b] }, hooks);
    expect(joined.lifecycleId).toBe(first.lifecycleId);
    expect(calls).toEqual([`beforeFold ${second.lifecycleId}→${first.lifecycleId}`, `afterFold ${first.lifecycleId}`]);
  });
});
