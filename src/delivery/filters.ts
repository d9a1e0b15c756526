export const REMIT_TYPES = ["CLAIMS_REMIT_APPROVED", "CLAIMS_REMIT_DENIED"];

/** Exact types, `*` for all, and CLAIMS_REMIT_ALL for both remit types (Cair's own subscription type). */
export function wantsEvent(subscribed: readonly string[], type: string): boolean {
  return subscribed.some((s) => s === "*" || s === type || (s === "CLAIMS_REMIT_ALL" && REMIT_TYPES.includes(type)));
}
