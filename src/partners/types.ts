import type { z } from "zod";
import type { Db } from "../db/client";
import type { ProducedEvent } from "../claims/write";
import type { Env } from "../env";

/** A stored raw event as the projection sees it. */
export interface StoredEvent {
  id: string;
  sourceId: string;
  kind: string;
  receivedAt: string;
  /** Stored request headers (credentials removed). */
  headers: Record<string, string>;
}

export interface ProjectionContext {
  env: Env;
  db: Db;
  event: StoredEvent;
  /** The body as the partner sent it (parsed, not transformed): what subscribers receive as `data`. */
  raw: unknown;
}

export interface ProjectionResult {
  /** Events for subscribers, e.g. CLAIMS_REMIT_APPROVED; recorded once per raw event and type. */
  produced: ProducedEvent[];
  /**
   * The lifecycle whose object recorded a patient payment for this event: its outbox marks the event
   * processed together with the payment rows, so the consumer leaves the event pending until then. Should
   * the runtime die before that flush, the sweep drives the event again, which wakes the object to flush.
   */
  processedByLifecycle?: string;
  /**
   * Lifecycles whose facts this projection changed (a remit, a claim version, a claim or patient added):
   * the consumer reconciles each once per message batch, however many of the batch's events named it,
   * before any of them is marked processed (from D1 while no object holds it, else by its object).
   */
  reconcile?: string[];
}

/**
 * One module per partner kind. The ingest path uses `schema` and `partnerEventId`; the events queue
 * consumer uses `project`. Adapters hold no storage calls beyond what their projection needs.
 */
export interface PartnerAdapter<P = unknown> {
  kind: string;
  /** Validates the parsed JSON body; issues name the field (422 PAYLOAD_INVALID). */
  schema: z.ZodType<P>;
  /** The partner's event id carried in the payload itself (e.g. a Stripe event id), for dedup. */
  partnerEventId?(payload: P): string | null;
  /** Writes the payload's effect into the claim model. Must be idempotent: replays change nothing. */
  project(ctx: ProjectionContext, payload: P): Promise<ProjectionResult>;
}

export const defineAdapter = <P>(adapter: PartnerAdapter<P>): PartnerAdapter<P> => adapter;

/**
 * A projection that can never succeed as the payload stands (e.g. a Stripe payment intent whose id is
 * already another payment's): the consumer marks the event `failed` with this reason, visibly, instead
 * of retrying it in silence. An operator can reprocess it after a fix.
 */
export class ProjectionRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
