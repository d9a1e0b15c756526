/** Claim statuses, the HCMS payor guide's set plus `draft` for a claim no payor has seen yet. */
export const CLAIM_STATUSES = ["draft", "submitted", "under_review", "approved", "rejected"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

/** FHIR date or date-time → an ISO instant comparable as a string (a bare date is its midnight UTC). */
export function toInstant(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00.000Z`;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01T00:00:00.000Z`;
  if (/^\d{4}$/.test(value)) return `${value}-01-01T00:00:00.000Z`;
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

/**
 * Status updates carry their own time. One older than the status in force is history, not a change:
 * it is recorded and does not move the status back. Equal times apply (a replay changes nothing).
 */
export const supersedes = (at: string, currentAt: string | null): boolean => currentAt === null || at >= currentAt;
