import { DurableObject } from "cloudflare:workers";
import { and, desc, eq, gte, sql } from "drizzle-orm";
import { ID_SYSTEM } from "../claims/resolve";
import { domainEventInsert } from "../claims/write";
import { newId } from "../crypto/ids";
import { database, nowIso, type Db } from "../db/client";
import {
  claimIdentifiers,
  claimResponses,
  claims,
  creditAllocations,
  patientCredits,
  patientPaymentDetails,
  patients,
  paymentReconciliations,
} from "../db/schema";
import { centsToAmount } from "../domain/money";
import { applyPayment } from "../domain/payment";
import type { Env } from "../env";
import { errorText, log } from "../log";
import { paymentReconciliation } from "../payments/reconciliation";

export type LifecycleResult<T> = { ok: true; value: T } | { ok: false; status: number; code: string; message: string };

const fail = (status: number, code: string, message: string): LifecycleResult<never> => ({ ok: false, status, code, message });

export interface PaymentInput {
  lifecycleId: string;
  claimId: string;
  billId: string;
  patientId: string | null;
  traceKey: string;
  traceId: string | null;
  amountCents: number;
  paymentDate: string;
  paymentMethod: string | null;
  source: string;
}

export interface PaymentOutcome {
  paymentId: string;
  claimId: string;
  claimLifecycleId: string;
  amountCents: number;
  appliedCents: number;
  excessCents: number;
  creditId: string | null;
}

export interface AllocationOutcome {
  allocationId: string;
  creditId: string;
  claimId: string;
  claimLifecycleId: string;
  allocatedCents: number;
  creditRemainingCents: number;
}

export interface ReversalOutcome {
  paymentId: string;
  claimId: string;
  claimLifecycleId: string;
  removedFromClaimCents: number;
  creditVoidedCents: number;
  creditAlreadyAllocatedCents: number;
}

interface LedgerRow extends Record<string, SqlStorageValue> {
  key: string;
  kind: string;
  ref_id: string;
  applied_cents: number;
  reversed: number;
  response: string;
  reversal: string | null;
}

/**
 * One object per claim lifecycle. Every change to the lifecycle's patient money runs here, strictly one
 * at a time (a promise chain: D1 calls are outside I/O, during which a Durable Object would otherwise
 * take the next request). The ledger in the object's own SQLite storage says what has been applied; D1
 * is written from it, D1 first and the ledger after, and a fresh instance first imports into the ledger
 * whatever D1 holds for the lifecycle, so a crash between the two never lets money be applied twice.
 */
export class ClaimLifecycle extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private syncedLifecycle: string | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ledger (
      key TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      ref_id TEXT NOT NULL,
      applied_cents INTEGER NOT NULL,
      reversed INTEGER NOT NULL DEFAULT 0,
      response TEXT NOT NULL,
      reversal TEXT
    )`);
  }

  applyPayment(input: PaymentInput): Promise<LifecycleResult<PaymentOutcome>> {
    return this.serial(input.lifecycleId, () => this.apply(input));
  }

  allocateCredit(input: { creditId: string; claimId: string; lifecycleId: string }): Promise<LifecycleResult<AllocationOutcome>> {
    return this.serial(input.lifecycleId, () => this.allocate(input));
  }

  reversePayment(input: { lifecycleId: string; traceKey: string }): Promise<LifecycleResult<ReversalOutcome>> {
    return this.serial(input.lifecycleId, () => this.reverse(input.lifecycleId, input.traceKey));
  }

  /** Applied cents and ledger size (for tests and operators). */
  ledgerSummary(): { appliedCents: number; entries: number } {
    const row = this.ctx.storage.sql
      .exec<{ applied: number; n: number }>("SELECT coalesce(sum(CASE WHEN reversed = 0 THEN applied_cents END), 0) AS applied, count(*) AS n FROM ledger")
      .one();
    return { appliedCents: row.applied, entries: row.n };
  }

  private serial<T>(lifecycleId: string, fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      await this.syncFromD1(lifecycleId);
      return fn();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private get db(): Db {
    return database(this.env.DB);
  }

  private ledgerGet(key: string): LedgerRow | undefined {
    return this.ctx.storage.sql.exec<LedgerRow>("SELECT * FROM ledger WHERE key = ?", key).toArray()[0];
  }

  private appliedTotal(): number {
    return this.ledgerSummary().appliedCents;
  }

  /** Imports into the ledger what D1 holds for this lifecycle and the ledger lacks (see class comment). */
  private async syncFromD1(lifecycleId: string): Promise<void> {
    if (this.syncedLifecycle === lifecycleId) return;
    const [payments, allocations] = await Promise.all([
      this.db.select().from(patientPaymentDetails).where(eq(patientPaymentDetails.lifecycleId, lifecycleId)),
      this.db.select().from(creditAllocations).where(eq(creditAllocations.lifecycleId, lifecycleId)),
    ]);
    for (const p of payments) {
      const outcome: PaymentOutcome = {
        paymentId: p.id,
        claimId: p.claimId,
        claimLifecycleId: p.lifecycleId,
        amountCents: p.amountCents,
        appliedCents: p.appliedCents,
        excessCents: p.excessCents,
        creditId: null,
      };
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO ledger (key, kind, ref_id, applied_cents, reversed, response) VALUES (?, 'payment', ?, ?, ?, ?)",
        p.traceKey,
        p.id,
        p.appliedCents,
        p.status === "reversed" ? 1 : 0,
        JSON.stringify(outcome),
      );
    }
    for (const a of allocations) {
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO ledger (key, kind, ref_id, applied_cents, response) VALUES (?, 'credit', ?, ?, '{}')",
        `alloc:${a.id}`,
        a.id,
        a.amountCents,
      );
    }
    this.syncedLifecycle = lifecycleId;
  }

  private async responsibility(lifecycleId: string): Promise<number | null> {
    const [remit] = await this.db
      .select({ cents: claimResponses.patientResponsibilityCents })
      .from(claimResponses)
      .where(eq(claimResponses.lifecycleId, lifecycleId))
      .orderBy(desc(claimResponses.createdDate), desc(claimResponses.receivedAt))
      .limit(1);
    return remit ? remit.cents : null;
  }

  private async apply(input: PaymentInput): Promise<LifecycleResult<PaymentOutcome>> {
    const seen = this.ledgerGet(input.traceKey);
    if (seen) return { ok: true, value: JSON.parse(seen.response) as PaymentOutcome };

    const responsibility = await this.responsibility(input.lifecycleId);
    if (responsibility === null) {
      return fail(409, "NO_CLAIM_RESPONSE", "The claim has no ClaimResponse yet, so the patient's responsibility is unknown.");
    }
    const alreadyApplied = this.appliedTotal();
    const { applied, excess } = applyPayment(input.amountCents, responsibility, alreadyApplied);
    const paymentId = newId("pay");
    const creditId = excess > 0 ? newId("crd") : null;
    const now = nowIso();
    const outcome: PaymentOutcome = {
      paymentId,
      claimId: input.claimId,
      claimLifecycleId: input.lifecycleId,
      amountCents: input.amountCents,
      appliedCents: applied,
      excessCents: excess,
      creditId,
    };
    const reconciliation = paymentReconciliation({
      id: paymentId,
      claimId: input.claimId,
      fhirClaimId: await this.fhirClaimId(input.claimId),
      patientRef: await this.patientRef(input.patientId),
      amountCents: input.amountCents,
      appliedCents: applied,
      paymentDate: input.paymentDate,
      traceId: input.traceId,
      method: input.paymentMethod,
      created: now,
      status: "active",
    });
    const db = this.db;
    try {
      await db.batch([
        db.insert(patientPaymentDetails).values({
          id: paymentId,
          traceKey: input.traceKey,
          traceId: input.traceId,
          claimId: input.claimId,
          lifecycleId: input.lifecycleId,
          patientId: input.patientId,
          billId: input.billId,
          amountCents: input.amountCents,
          appliedCents: applied,
          excessCents: excess,
          paymentDate: input.paymentDate,
          paymentMethod: input.paymentMethod,
          source: input.source,
          createdAt: now,
        }),
        db.update(claims).set({ patientPaidCents: alreadyApplied + applied, updatedAt: now }).where(eq(claims.lifecycleId, input.lifecycleId)),
        db.insert(paymentReconciliations).values({ id: newId("prc"), paymentId, claimId: input.claimId, resource: JSON.stringify(reconciliation), updatedAt: now }),
        ...(creditId
          ? [
              db.insert(patientCredits).values({
                id: creditId,
                patientId: input.patientId,
                sourcePaymentId: paymentId,
                amountCents: excess,
                remainingCents: excess,
                status: "unallocated",
                createdAt: now,
                updatedAt: now,
              }),
            ]
          : []),
        domainEventInsert(db, paymentId, {
          type: "patient_payment.applied",
          claimId: input.claimId,
          lifecycleId: input.lifecycleId,
          payload: paymentEventData(input, outcome),
        }, now),
        ...(creditId
          ? [
              domainEventInsert(db, paymentId, {
                type: "patient_credit.created",
                claimId: input.claimId,
                lifecycleId: input.lifecycleId,
                payload: { creditId, patientId: input.patientId, amount: centsToAmount(excess), sourcePaymentId: paymentId, billId: input.billId },
              }, now),
            ]
          : []),
      ]);
    } catch (e) {
      if (!String((e as Error)?.message).includes("UNIQUE constraint failed: patient_payment_details.trace_key")) throw e;
      // Applied by an earlier instance that stopped before its ledger write: adopt that answer.
      this.syncedLifecycle = null;
      await this.syncFromD1(input.lifecycleId);
      const adopted = this.ledgerGet(input.traceKey);
      if (!adopted) throw e;
      return { ok: true, value: JSON.parse(adopted.response) as PaymentOutcome };
    }
    this.ctx.storage.sql.exec(
      "INSERT INTO ledger (key, kind, ref_id, applied_cents, response) VALUES (?, 'payment', ?, ?, ?)",
      input.traceKey,
      paymentId,
      applied,
      JSON.stringify(outcome),
    );
    log.info("payment.applied", { paymentId, lifecycleId: input.lifecycleId, amountCents: input.amountCents, appliedCents: applied, excessCents: excess });
    return { ok: true, value: outcome };
  }

  private async allocate(input: { creditId: string; claimId: string; lifecycleId: string }): Promise<LifecycleResult<AllocationOutcome>> {
    const db = this.db;
    const responsibility = await this.responsibility(input.lifecycleId);
    if (responsibility === null) return fail(409, "NO_CLAIM_RESPONSE", "The target claim has no ClaimResponse yet.");
    const alreadyApplied = this.appliedTotal();
    const due = Math.max(0, responsibility - alreadyApplied);
    if (due === 0) return fail(409, "NO_BALANCE_DUE", "The target claim has no patient balance left to apply a credit to.");

    for (let attempt = 0; attempt < 3; attempt++) {
      const [credit] = await db.select().from(patientCredits).where(eq(patientCredits.id, input.creditId));
      if (!credit) return fail(404, "CREDIT_NOT_FOUND", `No credit ${input.creditId}.`);
      if (credit.remainingCents <= 0 || credit.status === "void") return fail(409, "CREDIT_EXHAUSTED", "The credit has nothing left to allocate.");
      const take = Math.min(credit.remainingCents, due);
      const left = credit.remainingCents - take;
      // The guard makes two lifecycles allocating one credit at once unable to spend it twice.
      const taken = await db
        .update(patientCredits)
        .set({ remainingCents: left, status: left === 0 ? "allocated" : "partially_allocated", updatedAt: nowIso() })
        .where(and(eq(patientCredits.id, credit.id), eq(patientCredits.remainingCents, credit.remainingCents), gte(patientCredits.remainingCents, take)))
        .returning({ id: patientCredits.id });
      if (taken.length === 0) continue;

      const allocationId = newId("alc");
      const now = nowIso();
      try {
        await db.batch([
          db.insert(creditAllocations).values({ id: allocationId, creditId: credit.id, claimId: input.claimId, lifecycleId: input.lifecycleId, amountCents: take, createdAt: now }),
          db.update(claims).set({ patientPaidCents: alreadyApplied + take, updatedAt: now }).where(eq(claims.lifecycleId, input.lifecycleId)),
          domainEventInsert(db, allocationId, {
            type: "patient_credit.allocated",
            claimId: input.claimId,
            lifecycleId: input.lifecycleId,
            payload: { creditId: credit.id, allocationId, claimId: input.claimId, amount: centsToAmount(take), creditRemaining: centsToAmount(left) },
          }, now),
        ]);
      } catch (e) {
        // give the credit back; the allocation did not happen
        await db
          .update(patientCredits)
          .set({ remainingCents: sql`${patientCredits.remainingCents} + ${take}`, status: "partially_allocated", updatedAt: nowIso() })
          .where(eq(patientCredits.id, credit.id));
        log.error("credit.allocate_failed", { creditId: credit.id, error: errorText(e) });
        throw e;
      }
      const outcome: AllocationOutcome = {
        allocationId,
        creditId: credit.id,
        claimId: input.claimId,
        claimLifecycleId: input.lifecycleId,
        allocatedCents: take,
        creditRemainingCents: left,
      };
      this.ctx.storage.sql.exec(
        "INSERT INTO ledger (key, kind, ref_id, applied_cents, response) VALUES (?, 'credit', ?, ?, ?)",
        `alloc:${allocationId}`,
        allocationId,
        take,
        JSON.stringify(outcome),
      );
      return { ok: true, value: outcome };
    }
    return fail(409, "CREDIT_CONFLICT", "The credit changed while it was being allocated; try again.");
  }

  private async reverse(lifecycleId: string, traceKey: string): Promise<LifecycleResult<ReversalOutcome>> {
    const entry = this.ledgerGet(traceKey);
    if (!entry || entry.kind !== "payment") return fail(404, "PAYMENT_NOT_FOUND", "No payment with that trace id on this claim.");
    if (entry.reversed && entry.reversal) return { ok: true, value: JSON.parse(entry.reversal) as ReversalOutcome };
    const payment = JSON.parse(entry.response) as PaymentOutcome;
    const db = this.db;

    // Credits first: the unallocated rest of this payment's credit is voided before the claim is touched.
    let voided = 0;
    let allocated = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const [credit] = await db.select().from(patientCredits).where(eq(patientCredits.sourcePaymentId, payment.paymentId));
      if (!credit) break;
      const rows = await db
        .update(patientCredits)
        .set({ remainingCents: 0, status: "void", updatedAt: nowIso() })
        .where(and(eq(patientCredits.id, credit.id), eq(patientCredits.remainingCents, credit.remainingCents)))
        .returning({ id: patientCredits.id });
      if (rows.length === 0) continue;
      voided = credit.status === "void" ? 0 : credit.remainingCents;
      allocated = credit.amountCents - credit.remainingCents;
      break;
    }

    const now = nowIso();
    const applied = this.appliedTotal();
    const [rec] = await db.select().from(paymentReconciliations).where(eq(paymentReconciliations.paymentId, payment.paymentId));
    const outcome: ReversalOutcome = {
      paymentId: payment.paymentId,
      claimId: payment.claimId,
      claimLifecycleId: lifecycleId,
      removedFromClaimCents: payment.appliedCents,
      creditVoidedCents: voided,
      creditAlreadyAllocatedCents: allocated,
    };
    await db.batch([
      db.update(patientPaymentDetails).set({ status: "reversed", reversedAt: now }).where(eq(patientPaymentDetails.id, payment.paymentId)),
      db.update(claims).set({ patientPaidCents: applied - payment.appliedCents, updatedAt: now }).where(eq(claims.lifecycleId, lifecycleId)),
      ...(rec
        ? [
            db
              .update(paymentReconciliations)
              .set({ resource: JSON.stringify({ ...JSON.parse(rec.resource), status: "cancelled" }), updatedAt: now })
              .where(eq(paymentReconciliations.id, rec.id)),
          ]
        : []),
      domainEventInsert(db, payment.paymentId, {
        type: "patient_payment.reversed",
        claimId: payment.claimId,
        lifecycleId,
        payload: {
          paymentId: payment.paymentId,
          claimId: payment.claimId,
          claimLifecycleId: lifecycleId,
          amountRemovedFromClaim: centsToAmount(payment.appliedCents),
          creditVoided: centsToAmount(voided),
        },
      }, now),
    ]);
    this.ctx.storage.sql.exec("UPDATE ledger SET reversed = 1, reversal = ? WHERE key = ?", JSON.stringify(outcome), traceKey);
    log.info("payment.reversed", { paymentId: payment.paymentId, lifecycleId });
    return { ok: true, value: outcome };
  }

  private async fhirClaimId(claimId: string): Promise<string | null> {
    const [row] = await this.db
      .select({ value: claimIdentifiers.value })
      .from(claimIdentifiers)
      .where(and(eq(claimIdentifiers.claimId, claimId), eq(claimIdentifiers.system, ID_SYSTEM.fhirClaim)));
    return row?.value ?? null;
  }

  private async patientRef(patientId: string | null): Promise<string | null> {
    if (!patientId) return null;
    const [row] = await this.db.select().from(patients).where(eq(patients.id, patientId));
    return row?.system === "fhir-patient" ? `Patient/${row.externalId}` : `Patient/${patientId}`;
  }
}

function paymentEventData(input: PaymentInput, o: PaymentOutcome) {
  return {
    paymentId: o.paymentId,
    claimId: o.claimId,
    claimLifecycleId: o.claimLifecycleId,
    billId: input.billId,
    paymentAmount: centsToAmount(o.amountCents),
    amountSetOnClaim: centsToAmount(o.appliedCents),
    ...(o.excessCents > 0 ? { excessAmount: centsToAmount(o.excessCents) } : {}),
    paymentDate: input.paymentDate,
    paymentMethod: input.paymentMethod,
    paymentTraceId: input.traceId,
  };
}
