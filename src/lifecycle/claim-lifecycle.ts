import { DurableObject } from "cloudflare:workers";
import { database } from "../db/client";
import type { Env } from "../env";
import * as ops from "./operations";

export type { MoneySummary, PaymentInput, PaymentOutcome, PaymentResult, ReserveInput, ReserveResult, ReversalOutcome, ReversalResult, DueResult, Moved } from "./operations";

/**
 * One object per claim lifecycle: the place where that lifecycle's patient money changes, strictly one
 * operation at a time (a promise chain: D1 calls are outside I/O, during which a Durable Object would
 * otherwise start the next request). D1 holds every fact; each operation recomputes the ledger from the
 * facts (src/lifecycle/operations.ts) and writes the difference atomically, so a crash between operations
 * loses nothing and applies nothing twice. The surface speaks domain outcomes, never HTTP.
 */
export class ClaimLifecycle extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();

  applyPayment(input: ops.PaymentInput): Promise<ops.PaymentResult> {
    return this.serial(() => ops.applyPayment(this.db, input));
  }

  /** After a remit, a claim version, a merge or a reversal elsewhere: the ledger follows the facts. */
  reconcile(lifecycleId: string): Promise<ops.MoneySummary | ops.Moved> {
    return this.serial(() => ops.reconcile(this.db, lifecycleId));
  }

  due(lifecycleId: string): Promise<ops.DueResult> {
    return this.serial(() => ops.due(this.db, lifecycleId));
  }

  reserveCredit(input: ops.ReserveInput): Promise<ops.ReserveResult> {
    return this.serial(() => ops.reserveCredit(this.db, input));
  }

  reversePayment(input: { lifecycleId: string; traceKey: string }): Promise<ops.ReversalResult> {
    return this.serial(() => ops.reversePayment(this.db, input.lifecycleId, input.traceKey));
  }

  summary(lifecycleId: string): Promise<ops.MoneySummary | ops.Moved> {
    return this.serial(() => ops.summary(this.db, lifecycleId));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private get db() {
    return database(this.env.DB);
  }
}
