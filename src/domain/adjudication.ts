/** A payor plan's coverage rules (stored in D1, managed at /admin/coverage-plans). */
export interface CoveragePlan {
  insuranceId: string;
  payorId: string;
  planName: string;
  /** Inclusive YYYY-MM-DD bounds; null is open-ended. */
  activeFrom: string | null;
  activeTo: string | null;
  /** Patient's coinsurance share in basis points (2000 = 20 %). */
  coinsuranceBps: number;
  copayCents: number;
  excludedCpt: string[];
  excludedIcd: string[];
  /** When set, only these procedure codes are covered. */
  coveredCpt: string[] | null;
  /** Claims above this go to manual review. */
  autoApproveCeilingCents: number;
}

export interface ClaimToAdjudicate {
  amountCents: number;
  diagnosisCode: string;
  procedureCode: string | null;
  /** YYYY-MM-DD; coverage is checked on the date of service, else on the submission date. */
  date: string;
}

export type Adjudication =
  | { status: "approved"; coverageMessage: string; expectedPaymentCents: number; patientResponsibilityCents: number }
  | { status: "under_review"; coverageValidated: boolean; coverageMessage: string; reviewReason: string }
  | { status: "rejected"; coverageMessage: string; rejectionReason: string };

/** Patient share of an approved amount: copay first, then coinsurance of the rest (half-up to the cent). */
export function patientShare(plan: Pick<CoveragePlan, "copayCents" | "coinsuranceBps">, amountCents: number): number {
  const copay = Math.min(plan.copayCents, amountCents);
  const rest = amountCents - copay;
  const coinsurance = Math.floor((rest * plan.coinsuranceBps + 5000) / 10000);
  return copay + coinsurance;
}

/**
 * The built-in adjudication, in order: coverage not active on the date → rejected; an excluded (or not
 * covered) procedure or an excluded diagnosis → under_review; over the plan's auto-approve ceiling →
 * under_review; otherwise approved with expected payment and patient responsibility in exact cents.
 */
export function adjudicate(plan: CoveragePlan, claim: ClaimToAdjudicate): Adjudication {
  if ((plan.activeFrom && claim.date < plan.activeFrom) || (plan.activeTo && claim.date > plan.activeTo)) {
    return {
      status: "rejected",
      coverageMessage: `Coverage for ${plan.insuranceId} is not active on ${claim.date}`,
      rejectionReason: "Patient coverage inactive on the date of service",
    };
  }
  const cpt = claim.procedureCode;
  if (cpt && (plan.excludedCpt.includes(cpt) || (plan.coveredCpt && !plan.coveredCpt.includes(cpt)))) {
    return {
      status: "under_review",
      coverageValidated: false,
      coverageMessage: `Procedure code ${cpt} is excluded from coverage`,
      reviewReason: "Procedure not covered under patient's current plan",
    };
  }
  if (plan.excludedIcd.includes(claim.diagnosisCode)) {
    return {
      status: "under_review",
      coverageValidated: false,
      coverageMessage: `Diagnosis code ${claim.diagnosisCode} is excluded from coverage`,
      reviewReason: "Diagnosis not covered under patient's current plan",
    };
  }
  if (claim.amountCents > plan.autoApproveCeilingCents) {
    return {
      status: "under_review",
      coverageValidated: true,
      coverageMessage: "Coverage validated successfully",
      reviewReason: "Amount exceeds the plan's auto-approval limit",
    };
  }
  const patientResponsibilityCents = patientShare(plan, claim.amountCents);
  return {
    status: "approved",
    coverageMessage: "Coverage validated successfully",
    expectedPaymentCents: claim.amountCents - patientResponsibilityCents,
    patientResponsibilityCents,
  };
}
