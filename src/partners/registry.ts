import { cairClaimResponse } from "./cair-claim-response/adapter";
import { cairClaimScrubber } from "./cair-claim-scrubber/adapter";
import { cairPatientPayment } from "./cair-patient-payment/adapter";
import { healthieCms1500 } from "./healthie-cms1500/adapter";
import { healthieEvent } from "./healthie-event/adapter";
import { payorClaimStatus } from "./payor-claim-status/adapter";
import { stripePayment } from "./stripe-payment/adapter";
import type { PartnerAdapter } from "./types";

const adapters: PartnerAdapter<any>[] = [
  cairClaimResponse,
  cairClaimScrubber,
  healthieCms1500,
  healthieEvent,
  payorClaimStatus,
  cairPatientPayment,
  stripePayment,
];

const byKind = new Map(adapters.map((a) => [a.kind, a]));

export const SOURCE_KINDS = adapters.map((a) => a.kind) as [string, ...string[]];

export function adapterFor(kind: string): PartnerAdapter<unknown> | undefined {
  return byKind.get(kind);
}
