/** Claim statuses, the HCMS payor guide's set plus `draft` for a claim no payor has seen yet. */
export const CLAIM_STATUSES = ["draft", "submitted", "under_review", "approved", "rejected"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

/**
 * FHIR date or date-time → an ISO instant comparable as a string (a bare date is its midnight UTC), so
 * instants compare as instants: `2024-11-01T23:00:00-05:00` (04:00Z on the 2nd) sorts after
 * `2024-11-02T01:00:00Z`. A date-time without an offset is read as UTC.
 */
export function toInstant(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00.000Z`;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01T00:00:00.000Z`;
  if (/^\d{4}$/.test(value)) return `${value}-01-01T00:00:00.000Z`;
  const naive = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
  const t = Date.parse(naive ? `${value.replace(/(\.\d{3})\d+$/, "$1")}Z` : value);
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

/**
 * Status updates carry their own time. One older than the status in force is history, not a change:
 * it is recorded and does not move the status back. Equal times apply (a replay changes nothing).
 */
export const supersedes = (at: string, currentAt: string | null): boolean => currentAt === null || at >= currentAt;
