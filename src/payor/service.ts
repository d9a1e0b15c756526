import { eq } from "drizzle-orm";
import { findClaimId } from "../claims/read";
import { ID_SYSTEM, resolveClaim, type LifecycleHooks } from "../claims/resolve";
import { applyStatus, recordDomainEvents, replaceLines } from "../claims/write";
import type { Db } from "../db/client";
import { claims, payorSubmissions } from "../db/schema";
import { adjudicate, patientShare, type Adjudication } from "../domain/adjudication";
import type { ClaimStatus } from "../domain/claim-status";
import { centsToAmount } from "../domain/money";
import { insuranceNotFound, PayorError } from "./errors";
import { getPlan } from "./repository";
import type { ClaimSubmission } from "./schema";

const REVIEWER_CONTACT = "claims@payor.com";
const REVIEW_TIME = "24-48 hours";

type Submission = typeof payorSubmissions.$inferSelect;

/** claim ids as the guide shows them: CLM-YYYYMMDD-XXXXXX */
export function hcmsClaimId(now: Date): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const rand = [...crypto.getRandomValues(new Uint8Array(6))].map((b) => alphabet[b % alphabet.length]).join("");
  return `CLM-${now.toISOString().slice(0, 10).replace(/-/g, "")}-${rand}`;
}

const seconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Submits a claim: adjudicates it with the stored coverage rules, records it in the claim model
 * (status submitted, then the decision) and emits a claim_status_update for each change.
 * Returns the guide's 201 body.
 */
export async function submitClaim(db: Db, hooks: LifecycleHooks, providerId: string | null, body: ClaimSubmission, started: number) {
  const plan = await getPlan(db, body.insurance_id);
  if (!plan) throw insuranceNotFound(body.insurance_id);
  const now = new Date();
  const submittedDate = seconds(now);
  const result = adjudicate(plan, {
    amountCents: body.amount,
    diagnosisCode: body.diagnosis_code,
    procedureCode: body.procedure_code ?? null,
    date: body.date_of_service ?? submittedDate.slice(0, 10),
  });
  const id = hcmsClaimId(now);
  const provider = providerId ?? body.provider_id ?? null;
  const { claimId, lifecycleId, factsChanged } = await resolveClaim(db, {
    keys: [{ system: ID_SYSTEM.hcmsClaim, value: id }],
    patient: body.patient_id ? { system: `hcms:${provider ?? "open"}`, externalId: body.patient_id } : null,
  }, hooks);
  if (factsChanged) await hooks.factsChanged(lifecycleId);
  await replaceLines(
    db,
    claimId,
    now.toISOString(),
    body.procedure_code
      ? [{ sequence: 1, code: body.procedure_code, codeSystem: "http://www.ama-assn.org/go/cpt", modifiers: [], units: 1, chargeCents: body.amount, diagnosisPointers: [1], serviceDate: body.date_of_service ?? null }]
      : [],
    [{ sequence: 1, code: body.diagnosis_code, codeSystem: "http://hl7.org/fhir/sid/icd-10-cm" }],
    { providerId: provider, payerId: plan.payorId, payerName: plan.planName },
  );
  // a claim without a procedure line still carries its amount
  if (!body.procedure_code) await db.update(claims).set({ totalChargeCents: body.amount }).where(eq(claims.id, claimId));

  const decided = result.status !== "under_review";
  const { patient_name, insurance_id, diagnosis_code, procedure_code, amount: _amount, notes, ...details } = body;
  const [submission] = await db
    .insert(payorSubmissions)
    .values({
      claimId,
      hcmsClaimId: id,
      providerId: provider,
      patientName: patient_name,
      insuranceId: insurance_id,
      diagnosisCode: diagnosis_code,
      procedureCode: procedure_code ?? null,
      amountCents: body.amount,
      details: JSON.stringify(details),
      coverageValidated: result.status === "approved" || (result.status === "under_review" && result.coverageValidated),
      coverageMessage: result.coverageMessage,
      autoApproved: result.status === "approved",
      reviewReason: result.status === "under_review" ? result.reviewReason : null,
      rejectionReason: result.status === "rejected" ? result.rejectionReason : null,
      expectedPaymentCents: result.status === "approved" ? result.expectedPaymentCents : null,
      patientResponsibilityCents: result.status === "approved" ? result.patientResponsibilityCents : null,
      payorId: plan.payorId,
      submittedDate,
      processedDate: decided ? submittedDate : null,
      notes: notes ?? (result.status === "approved" ? "Auto-approved based on policy coverage" : null),
    })
    .returning();

  await changeStatus(db, submission!, claimId, lifecycleId, null, "submitted", "Claim received", "automated_system", now.toISOString());
  await changeStatus(db, submission!, claimId, lifecycleId, "submitted", result.status, statusMessage(result), "automated_system", new Date(now.getTime() + 1).toISOString());
  return { body: submissionResponse(submission!, result, Date.now() - started) };
}

function statusMessage(r: Adjudication): string {
  if (r.status === "approved") return "Claim approved after validation";
  if (r.status === "rejected") return r.rejectionReason;
  return r.reviewReason;
}

async function changeStatus(
  db: Db,
  s: Submission,
  claimId: string,
  lifecycleId: string,
  from: ClaimStatus | null,
  to: ClaimStatus,
  message: string,
  processedBy: string,
  at: string,
) {
  await applyStatus(db, { claimId, eventId: `${s.hcmsClaimId}:${to}`, to, at, source: "payor.api", message });
  await recordDomainEvents(db, `${s.hcmsClaimId}:${to}`, [
    { type: "claim_status_update", claimId, lifecycleId, payload: statusUpdatePayload(s, from, to, message, processedBy, at) },
  ]);
}

/** The guide's "Webhook Payload Structure". */
export function statusUpdatePayload(s: Submission, from: string | null, to: string, message: string, processedBy: string, at: string) {
  return {
    event_type: "claim_status_update",
    timestamp: at,
    claim_id: s.hcmsClaimId,
    previous_status: from,
    new_status: to,
    message,
    processed_by: processedBy,
    processed_date: at,
    patient_name: s.patientName,
    insurance_id: s.insuranceId,
    provider_id: s.providerId,
    amount: centsToAmount(s.amountCents),
    coverage_validated: s.coverageValidated,
    coverage_message: s.coverageMessage,
    auto_approved: s.autoApproved,
    ...(to === "approved" && s.expectedPaymentCents !== null
      ? {
          payment_details: {
            approved_amount: centsToAmount(s.expectedPaymentCents),
            patient_responsibility: centsToAmount(s.patientResponsibilityCents ?? 0),
            expected_payment_date: new Date(Date.parse(at) + 7 * 86_400_000).toISOString().slice(0, 10),
            payment_method: "ACH",
          },
        }
      : {}),
  };
}

function submissionResponse(s: Submission, r: Adjudication, processingMs: number) {
  const base = { claim_id: s.hcmsClaimId, status: r.status, coverage_validated: s.coverageValidated, coverage_message: s.coverageMessage, auto_approved: s.autoApproved };
  const full = {
    claim_id: s.hcmsClaimId,
    patient_name: s.patientName,
    insurance_id: s.insuranceId,
    diagnosis_code: s.diagnosisCode,
    procedure_code: s.procedureCode,
    amount: centsToAmount(s.amountCents),
    status: r.status,
    coverage_validated: s.coverageValidated,
    coverage_message: s.coverageMessage,
    auto_approved: s.autoApproved,
    submitted_date: s.submittedDate,
    processed_date: s.processedDate,
    payor_id: s.payorId,
  };
  const claim =
    r.status === "approved"
      ? { ...full, expected_payment: centsToAmount(r.expectedPaymentCents), patient_responsibility: centsToAmount(r.patientResponsibilityCents), notes: s.notes }
      : r.status === "under_review"
        ? { ...base, review_reason: r.reviewReason, estimated_review_time: REVIEW_TIME, reviewer_contact: REVIEWER_CONTACT }
        : { ...full, rejection_reason: r.rejectionReason };
  const message = r.status === "approved" ? "Claim submitted successfully" : r.status === "under_review" ? "Claim submitted for manual review" : "Claim rejected";
  return { success: true, message, claim, status: r.status, auto_approved: s.autoApproved, processing_time_ms: processingMs };
}

/** Finishes a manual review: approved (with payment figures from the plan) or rejected. */
export async function reviewClaim(db: Db, idOrHcms: string, decision: "approved" | "rejected", message: string, reviewer: string) {
  const claimId = await findClaimId(db, idOrHcms);
  const [row] = claimId
    ? await db.select({ s: payorSubmissions, status: claims.status, lifecycleId: claims.lifecycleId }).from(payorSubmissions).innerJoin(claims, eq(claims.id, payorSubmissions.claimId)).where(eq(payorSubmissions.claimId, claimId))
    : [];
  if (!row) throw new PayorError(404, "CLAIM_NOT_FOUND", `Claim ${idOrHcms} not found`, ["Check the claim id"]);
  if (row.status !== "under_review") {
    throw new PayorError(409, "CLAIM_NOT_UNDER_REVIEW", `Claim ${row.s.hcmsClaimId} is ${row.status}, not under review`, [], undefined, row.s.hcmsClaimId);
  }
  const now = new Date();
  let patch: Partial<Submission> = { processedDate: seconds(now) };
  if (decision === "approved") {
    const plan = await getPlan(db, row.s.insuranceId);
    const responsibility = plan ? patientShare(plan, row.s.amountCents) : 0;
    patch = { ...patch, coverageValidated: true, expectedPaymentCents: row.s.amountCents - responsibility, patientResponsibilityCents: responsibility, reviewReason: null };
  } else {
    patch = { ...patch, rejectionReason: message };
  }
  const [updated] = await db.update(payorSubmissions).set(patch).where(eq(payorSubmissions.claimId, row.s.claimId)).returning();
  await changeStatus(db, updated!, row.s.claimId, row.lifecycleId, "under_review", decision, message, reviewer, now.toISOString());
  return { success: true, message: `Claim ${decision}`, claim_id: updated!.hcmsClaimId, status: decision };
}
