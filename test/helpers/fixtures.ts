import claimResponseBundle from "../fixtures/cair-claim-response.json";

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The seed ClaimResponse bundle, optionally with a fresh ClaimResponse id and edits. */
export function remitBundle(edit?: (claimResponse: any, bundle: any) => void): any {
  const bundle = clone(claimResponseBundle) as any;
  edit?.(bundle.entry[0].resource, bundle);
  return bundle;
}

import scrubberFixture from "../fixtures/cair-claim-scrubber.json";
import cms1500Fixture from "../fixtures/healthie-cms1500.json";
import payorStatusFixture from "../fixtures/payor-claim-status.json";

export const CLAIM_ID_SYSTEM = "https://fhir.cairhealth.com/fhir/identifier/claim-id";

/** The mended scrubber seed for one claim: its FHIR Claim id, bill id and optimizer run id replaced. */
export function scrubPayload(opts: { claimId?: string; billId?: string; runId?: string; edit?: (claim: any) => void } = {}): any {
  const payload = clone(scrubberFixture) as any;
  const claim = JSON.parse(payload.output.ai_generated_x12_837);
  if (opts.claimId) {
    payload.output.claim_id = opts.claimId;
    claim.id = opts.claimId;
  }
  if (opts.billId) claim.identifier[0].value = opts.billId;
  if (opts.runId) payload.output.optimizer_run_id = opts.runId;
  opts.edit?.(claim);
  payload.output.ai_generated_x12_837 = JSON.stringify(claim, null, 2);
  return payload;
}

/** A remit for a claim: the seed bundle pointing at Claim/<claimId>, optionally naming the bill id too. */
export function remitFor(opts: { crId: string; claimId: string; billId?: string; edit?: (cr: any) => void }): any {
  return remitBundle((cr) => {
    cr.id = opts.crId;
    cr.request.reference = `Claim/${opts.claimId}`;
    if (opts.billId) cr.identifier.push({ system: CLAIM_ID_SYSTEM, value: opts.billId });
    opts.edit?.(cr);
  });
}

export const cms1500 = (edit?: (form: any) => void): any => {
  const form = clone(cms1500Fixture) as any;
  edit?.(form);
  return form;
};

export const payorStatus = (edit?: (update: any) => void): any => {
  const update = clone(payorStatusFixture) as any;
  edit?.(update);
  return update;
};
