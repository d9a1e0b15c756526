import claimResponseBundle from "../fixtures/cair-claim-response.json";

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The seed ClaimResponse bundle, optionally with a fresh ClaimResponse id and edits. */
export function remitBundle(edit?: (claimResponse: any, bundle: any) => void): any {
  const bundle = clone(claimResponseBundle) as any;
  edit?.(bundle.entry[0].resource, bundle);
  return bundle;
}
