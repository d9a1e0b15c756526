/**
 * Applying a patient payment to a lifecycle: what the patient still owes caps what is applied; the rest
 * is excess, which becomes an unallocated patient credit. All integer cents.
 *   remaining = max(0, responsibility − already applied)
 *   applied   = min(amount, remaining)
 *   excess    = amount − applied
 */
export function applyPayment(amountCents: number, responsibilityCents: number, alreadyAppliedCents: number) {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw new RangeError("amount must be positive cents");
  const remaining = Math.max(0, responsibilityCents - alreadyAppliedCents);
  const applied = Math.min(amountCents, remaining);
  return { remainingBefore: remaining, applied, excess: amountCents - applied };
}

/**
 * The idempotency key of a payment: its trace id when it has one; otherwise billId + amount + date +
 * method, so the same payment posted twice without a trace id is still applied once.
 */
export function paymentTraceKey(p: { traceId?: string | null; billId: string; amountCents: number; paymentDate: string; paymentMethod?: string | null }): string {
  if (p.traceId) return `trace:${p.traceId}`;
  return `key:${p.billId}|${p.amountCents}|${p.paymentDate}|${p.paymentMethod ?? ""}`;
}
