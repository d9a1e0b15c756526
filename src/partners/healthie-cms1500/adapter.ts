import { and, eq, inArray } from "drizzle-orm";
import { ID_SYSTEM, resolveClaim } from "../../claims/resolve";
import { lifecycleHooks } from "../../payments/service";
import { replaceLines } from "../../claims/write";
import type { Db } from "../../db/client";
import { domainEvents } from "../../db/schema";
import { roundToCents } from "../../domain/money";
import { defineAdapter } from "../types";
import { cms1500Payload } from "./schema";

/**
 * Created or updated: the payload carries no event type, so it comes from an `X-Healthie-Event-Type`
 * (or `X-Event-Type`) header naming created/updated when the partner sends one; otherwise the first
 * payload for a CMS-1500 id is `cms1500.created` and every later one `cms1500.updated`.
 */
export function cms1500EventType(headers: Record<string, string>, known: boolean): "cms1500.created" | "cms1500.updated" {
  const hint = (headers["x-healthie-event-type"] ?? headers["x-event-type"] ?? "").toLowerCase();
  if (hint.includes("created")) return "cms1500.created";
  if (hint.includes("updated")) return "cms1500.updated";
  return known ? "cms1500.updated" : "cms1500.created";
}

/** healthie.cms1500: a Healthie CMS-1500 object (the claim form: lines, diagnoses, policies). */
export const healthieCms1500 = defineAdapter({
  kind: "healthie.cms1500",
  schema: cms1500Payload,
  async project({ env, db, event, raw }, form) {
    const { claimId, lifecycleId, factsChanged } = await resolveClaim(db, {
      keys: [{ system: ID_SYSTEM.healthieCms1500, value: form.id }],
      patient: { system: "healthie", externalId: form.patient_id },
    }, lifecycleHooks(env));
    const type = await eventTypeFor(db, claimId, event.id, event.headers);
    const lines = form.cpt_codes_cms1500s.map((cpt, i) => {
      // units unknown (null) is one unit, as on the paper form
      const units = Math.max(1, Math.round(Number(cpt.units ?? "1")));
      return {
        sequence: i + 1,
        code: cpt.cpt_code,
        codeSystem: "http://www.ama-assn.org/go/cpt",
        modifiers: [cpt.mod1, cpt.mod2, cpt.mod3, cpt.mod4].filter((m): m is string => !!m),
        units,
        chargeCents: cpt.charge != null ? roundToCents(cpt.charge) : 0,
        diagnosisPointers: cpt.pointers,
        serviceDate: cpt.service_date ?? null,
      };
    });
    const diagnoses = form.icd_codes_cms1500s.map((icd, i) => ({
      sequence: i + 1,
      code: icd.code,
      codeSystem: "http://hl7.org/fhir/sid/icd-10-cm",
    }));
    const primary = form.cms1500_policies.find((p) => p.priority_type?.toLowerCase() === "primary") ?? form.cms1500_policies[0];
    // Healthie objects carry no version of their own; arrival order versions the form.
    await replaceLines(db, claimId, event.receivedAt, lines, diagnoses, {
      payerId: primary?.insurance_plan?.payer_id ?? null,
      payerName: primary?.insurance_plan?.payer_name ?? null,
      providerId: form.billing_provider_id ?? null,
    });
    // a new claim or patient in an existing lifecycle: its object reloads (which claim a bill names, whose payments)
    return { produced: [{ type, claimId, lifecycleId, payload: raw }], reconcile: factsChanged ? [lifecycleId] : [] };
  },
});

/** A replayed event keeps the type it was first given; otherwise the header, else first-seen. */
async function eventTypeFor(db: Db, claimId: string, eventId: string, headers: Record<string, string>) {
  const prior = await db
    .select({ type: domainEvents.type, sourceEventId: domainEvents.sourceEventId })
    .from(domainEvents)
    .where(and(eq(domainEvents.claimId, claimId), inArray(domainEvents.type, ["cms1500.created", "cms1500.updated"])));
  const mine = prior.find((p) => p.sourceEventId === eventId);
  if (mine) return mine.type;
  return cms1500EventType(headers, prior.length > 0);
}
