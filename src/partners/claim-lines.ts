import type { DiagnosisInput, LineInput } from "../claims/write";
import { roundToCents } from "../domain/money";
import { codesOf } from "./fhir";
import type { FhirClaim } from "./fhir-claim";

/** Lines and diagnoses of a FHIR Claim, money in cents (line charge = net, else unitPrice × quantity). */
export function fhirClaimLines(claim: FhirClaim): { lines: LineInput[]; diagnoses: DiagnosisInput[] } {
  const lines = (claim.item ?? []).map((item) => {
    const code = codesOf(item.productOrService)[0];
    const units = Math.max(1, Math.round(item.quantity?.value ?? 1));
    const charge = item.net?.value !== undefined
      ? roundToCents(item.net.value)
      : item.unitPrice?.value !== undefined
        ? roundToCents(item.unitPrice.value) * units
        : 0;
    return {
      sequence: item.sequence,
      code: code?.code ?? "",
      codeSystem: code?.system ?? null,
      modifiers: (item.modifier ?? []).flatMap((m) => codesOf(m).map((c) => c.code ?? "")).filter(Boolean),
      units,
      chargeCents: charge,
      diagnosisPointers: item.diagnosisSequence ?? [],
      serviceDate: item.servicedDate ?? null,
    };
  });
  const diagnoses = (claim.diagnosis ?? []).flatMap((d) => {
    const c = codesOf(d.diagnosisCodeableConcept)[0];
    return c?.code ? [{ sequence: d.sequence, code: c.code, codeSystem: c.system ?? null }] : [];
  });
  return { lines, diagnoses };
}
