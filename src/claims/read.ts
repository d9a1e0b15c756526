import { z } from "zod";
import { and, asc, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  claimDiagnoses,
  claimIdentifiers,
  claimLifecycles,
  claimLines,
  claimResponses,
  claims,
  claimStatusHistory,
  patientCredits,
  patientPaymentDetails,
  payorSubmissions,
  scrubResults,
} from "../db/schema";
import { centsToAmount } from "../domain/money";
import { CLAIM_ID_SYSTEM, ID_SYSTEM } from "./resolve";

/** Finds a claim by our id, an HCMS CLM-… id, or any stored identifier. */
export async function findClaimId(db: Db, idOrHcms: string): Promise<string | null> {
  const [own] = await db.select({ id: claims.id }).from(claims).where(eq(claims.id, idOrHcms));
  if (own) return own.id;
  return findClaimByIdentifier(db, ID_SYSTEM.hcmsClaim, idOrHcms);
}

/** POST /api/claims/search: the identifier (`system|value`) in the body, out of the URL. */
export const claimSearchBody = z.strictObject({ identifier: z.string().min(3).max(600) });

/** `system|value` → its parts (split at the last bar); null when either part is empty. */
export function parseIdentifier(text: string | undefined): { system: string; value: string } | null {
  const bar = text?.lastIndexOf("|") ?? -1;
  if (!text || bar <= 0 || bar === text.length - 1) return null;
  return { system: text.slice(0, bar), value: text.slice(bar + 1) };
}

/** A claim-specific identifier names one claim; the Cair claim-id (bill id) names the lifecycle's latest. */
export async function findClaimByIdentifier(db: Db, system: string, value: string): Promise<string | null> {
  const [hit] = await db
    .select({ claimId: claimIdentifiers.claimId })
    .from(claimIdentifiers)
    .where(and(eq(claimIdentifiers.system, system), eq(claimIdentifiers.value, value)));
  if (hit || system !== CLAIM_ID_SYSTEM) return hit?.claimId ?? null;
  const [latest] = await db
    .select({ id: claims.id })
    .from(claims)
    .innerJoin(claimLifecycles, eq(claimLifecycles.id, claims.lifecycleId))
    .where(eq(claimLifecycles.billId, value))
    .orderBy(desc(claims.createdAt), desc(claims.id))
    .limit(1);
  return latest?.id ?? null;
}

/**
 * The claim a bill id names (as findClaimByIdentifier with the claim-id system: the claim carrying it, else
 * the latest claim of the lifecycle whose bill it is), with its lifecycle and patient, in one D1 round trip
 * instead of up to three in a row: a payment to a bill its isolate has not seen yet waits on this first.
 */
export async function claimOfBill(db: Db, billId: string): Promise<{ id: string; lifecycleId: string; patientId: string | null } | null> {
  const columns = { id: claims.id, lifecycleId: claims.lifecycleId, patientId: claims.patientId };
  const [tagged, latest] = await db.batch([
    db
      .select(columns)
      .from(claimIdentifiers)
      .innerJoin(claims, eq(claims.id, claimIdentifiers.claimId))
      .where(and(eq(claimIdentifiers.system, CLAIM_ID_SYSTEM), eq(claimIdentifiers.value, billId))),
    db
      .select(columns)
      .from(claims)
      .innerJoin(claimLifecycles, eq(claimLifecycles.id, claims.lifecycleId))
      .where(eq(claimLifecycles.billId, billId))
      .orderBy(desc(claims.createdAt), desc(claims.id))
      .limit(1),
  ]);
  return tagged[0] ?? latest[0] ?? null;
}

/**
 * A claim by a bare value, as an operator types it: our id or an HCMS CLM- id, else a bill id (the Cair
 * claim-id), else a partner's claim id (FHIR Claim, Healthie CMS-1500).
 */
export async function findClaimByAnyId(db: Db, value: string): Promise<string | null> {
  return (
    (await findClaimId(db, value)) ??
    (await findClaimByIdentifier(db, CLAIM_ID_SYSTEM, value)) ??
    (await findClaimByIdentifier(db, ID_SYSTEM.fhirClaim, value)) ??
    (await findClaimByIdentifier(db, ID_SYSTEM.healthieCms1500, value))
  );
}

const money = (cents: number | null | undefined) => (cents == null ? null : centsToAmount(cents));

/**
 * The HCMS claim shape plus `lifecycle`: lines, diagnoses, the latest ClaimResponse, scrub summary, status
 * history and payment totals. Money leaves as decimal USD.
 */
export async function readClaim(db: Db, claimId: string) {
  const [claim] = await db.select().from(claims).where(eq(claims.id, claimId));
  if (!claim) return null;
  const [lifecycle, identifiers, lines, diagnoses, history, latestRemit, scrub, siblings, submission, payments, credits] = await Promise.all([
    db.select().from(claimLifecycles).where(eq(claimLifecycles.id, claim.lifecycleId)),
    db.select().from(claimIdentifiers).where(eq(claimIdentifiers.claimId, claimId)),
    db.select().from(claimLines).where(eq(claimLines.claimId, claimId)).orderBy(asc(claimLines.sequence)),
    db.select().from(claimDiagnoses).where(eq(claimDiagnoses.claimId, claimId)).orderBy(asc(claimDiagnoses.sequence)),
    db.select().from(claimStatusHistory).where(eq(claimStatusHistory.claimId, claimId)).orderBy(asc(claimStatusHistory.at), asc(claimStatusHistory.id)),
    db
      .select()
      .from(claimResponses)
      .where(eq(claimResponses.lifecycleId, claim.lifecycleId))
      .orderBy(desc(claimResponses.createdDate), desc(claimResponses.receivedAt))
      .limit(1),
    db.select().from(scrubResults).where(eq(scrubResults.claimId, claimId)).orderBy(desc(scrubResults.receivedAt)).limit(1),
    db.select({ id: claims.id, status: claims.status }).from(claims).where(eq(claims.lifecycleId, claim.lifecycleId)).orderBy(asc(claims.createdAt)),
    db.select().from(payorSubmissions).where(eq(payorSubmissions.claimId, claimId)),
    db.select().from(patientPaymentDetails).where(eq(patientPaymentDetails.lifecycleId, claim.lifecycleId)).orderBy(asc(patientPaymentDetails.createdAt)),
    db
      .select({ credit: patientCredits })
      .from(patientCredits)
      .innerJoin(patientPaymentDetails, eq(patientPaymentDetails.id, patientCredits.sourcePaymentId))
      .where(eq(patientPaymentDetails.lifecycleId, claim.lifecycleId)),
  ]);
  const hcms = submission[0];
  const hcmsId = identifiers.find((i) => i.system === ID_SYSTEM.hcmsClaim)?.value ?? null;
  const remit = latestRemit[0];
  const s = scrub[0];
  return {
    claim_id: hcmsId ?? claim.id,
    id: claim.id,
    status: claim.status,
    ...(hcms
      ? {
          patient_name: hcms.patientName,
          insurance_id: hcms.insuranceId,
          coverage_validated: hcms.coverageValidated,
          coverage_message: hcms.coverageMessage,
          auto_approved: hcms.autoApproved,
          review_reason: hcms.reviewReason,
          rejection_reason: hcms.rejectionReason,
          notes: hcms.notes,
        }
      : {}),
    amount: money(hcms?.amountCents ?? claim.totalChargeCents),
    diagnosis_code: hcms?.diagnosisCode ?? diagnoses[0]?.code ?? null,
    procedure_code: hcms?.procedureCode ?? lines[0]?.code ?? null,
    payor_id: hcms?.payorId ?? claim.payerId,
    provider_id: claim.providerId,
    date_of_service: claim.serviceDate,
    expected_payment: money(hcms?.expectedPaymentCents ?? claim.approvedCents),
    patient_responsibility: money(hcms?.patientResponsibilityCents ?? claim.payorPatientResponsibilityCents ?? remit?.patientResponsibilityCents),
    submitted_date: hcms?.submittedDate ?? claim.createdAt,
    processed_date: hcms?.processedDate ?? claim.statusAt,
    lifecycle: {
      id: claim.lifecycleId,
      billId: lifecycle[0]?.billId ?? null,
      placeholder: claim.placeholder,
      claims: siblings,
      identifiers: identifiers.map((i) => ({ system: i.system, value: i.value })),
      lines: lines.map((l) => ({
        sequence: l.sequence,
        code: l.code,
        codeSystem: l.codeSystem,
        modifiers: JSON.parse(l.modifiers) as string[],
        units: l.units,
        charge: money(l.chargeCents),
        diagnosisPointers: JSON.parse(l.diagnosisPointers) as number[],
        serviceDate: l.serviceDate,
      })),
      diagnoses: diagnoses.map((d) => ({ sequence: d.sequence, code: d.code, codeSystem: d.codeSystem })),
      claimResponse: remit
        ? {
            id: remit.id,
            outcome: remit.outcome,
            disposition: remit.disposition,
            decision: remit.decision,
            created: remit.createdDate,
            submitted: money(remit.submittedCents),
            benefit: money(remit.benefitCents),
            payment: money(remit.paymentCents),
            patientResponsibility: money(remit.patientResponsibilityCents),
            kind: remit.kind,
            provisional: remit.provisional,
            reversal: remit.reversal,
            withdrawn: remit.withdrawn,
            responsibilityBasis: remit.responsibilityBasis,
            responsibilityInferred: remit.responsibilityInferred,
            // the `total` list's own figure, when it differs from the lines' (a cross-check for analysts)
            totalResponsibility: remit.totalResponsibilityCents !== null && remit.totalResponsibilityCents !== remit.patientResponsibilityCents ? money(remit.totalResponsibilityCents) : null,
          }
        : null,
      // The lifecycle's ledger (CONTRACT.md "Money rules"): what the patient owes over every version and
      // remit, whether that figure is still provisional, and what has been applied against it.
      money: {
        patientResponsibility: lifecycle[0]?.responsibilityCents == null ? null : money(lifecycle[0].responsibilityCents),
        provisional: lifecycle[0]?.responsibilityProvisional ?? false,
        applied: money(lifecycle[0]?.appliedCents ?? 0),
        currentClaimId: lifecycle[0]?.currentClaimId ?? null,
      },
      scrub: s
        ? {
            optimizerRunId: s.id,
            rulesApplied: (JSON.parse(s.rulesApplied) as { id: string }[]).length,
            rulesFlagged: (JSON.parse(s.rulesFlagged) as { id: string }[]).length,
            edits: (JSON.parse(s.edits) as unknown[]).length,
            receivedAt: s.receivedAt,
          }
        : null,
      statusHistory: history.map((h) => ({
        from: h.fromStatus,
        to: h.toStatus,
        source: h.source,
        message: h.message,
        at: h.at,
        applied: h.applied,
      })),
      payments: {
        patientPaid: money(claim.patientPaidCents),
        entries: payments.map((p) => ({
          id: p.id,
          paymentTraceId: p.traceId,
          amount: money(p.amountCents),
          amountSetOnClaim: money(p.appliedCents),
          excessAmount: money(p.excessCents),
          paymentDate: p.paymentDate,
          paymentMethod: p.paymentMethod,
          source: p.source,
          status: p.status,
        })),
      },
      credits: credits.map(({ credit: c }) => ({ id: c.id, amount: money(c.amountCents), remaining: money(c.remainingCents), status: c.status, sourcePaymentId: c.sourcePaymentId })),
    },
  };
}
