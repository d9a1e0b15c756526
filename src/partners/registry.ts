import { cairClaimResponse } from "./cair-claim-response/adapter";
import type { PartnerAdapter } from "./types";

const adapters: PartnerAdapter<any>[] = [cairClaimResponse];

const byKind = new Map(adapters.map((a) => [a.kind, a]));

export const SOURCE_KINDS = adapters.map((a) => a.kind) as [string, ...string[]];

export function adapterFor(kind: string): PartnerAdapter<unknown> | undefined {
  return byKind.get(kind);
}
