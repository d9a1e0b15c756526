import type { ClaimLifecycle } from "./lifecycle/claim-lifecycle";

/** Bindings and variables of the Worker (wrangler.toml + secrets from `wrangler secret put` / .dev.vars). */
export interface ClaimgateEnv {
  DB: D1Database;
  /** Raw bodies of processed events, archived out of D1 (src/ingest/archive.ts). */
  BODIES: R2Bucket;
  EVENTS_QUEUE: Queue<EventMessage>;
  DELIVERIES_QUEUE: Queue<DeliveryMessage>;
  DELIVERIES_DLQ: Queue<DeliveryMessage>;
  CLAIM_LIFECYCLE: DurableObjectNamespace<ClaimLifecycle>;
  SUBSCRIPTION_THROTTLE: DurableObjectNamespace<import("./delivery/throttle").SubscriptionThrottle>;
  /** Bearer token for /admin/* (secret). */
  ADMIN_TOKEN?: string;
  /** base64 of 32 random bytes: AES-GCM key for secrets at rest (secret). */
  SECRETS_KEY?: string;
  /** "production" or "development"; development relaxes subscriber URL rules. */
  ENVIRONMENT?: string;
  /** Seconds a source's configuration is cached per isolate. */
  SOURCE_CACHE_TTL_SECONDS?: string;
  /** Milliseconds a lifecycle object waits before flushing its outbox to D1 (default 100). */
  LIFECYCLE_FLUSH_DELAY_MS?: string;
  /** At most one alarm flush per this many ms per lifecycle under load (default 1000). */
  LIFECYCLE_FLUSH_INTERVAL_MS?: string;
  /** Seconds a subscription and its decrypted signing keys are cached per isolate (default 30; 0 off). */
  SUBSCRIPTION_CACHE_TTL_SECONDS?: string;
  /** Comma-separated seconds between delivery attempts. */
  DELIVERY_RETRY_SCHEDULE?: string;
  /** Subscriber request timeout, ms (default 15000). */
  DELIVERY_TIMEOUT_MS?: string;
  /** "true" allows the HCMS guide's unauthenticated claim submission (never in production). */
  HCMS_OPEN_MODE?: string;
  /** Lowest log level written: debug, info (default), warn or error. */
  LOG_LEVEL?: string;
  /** A subscription whose deliveries only failed for this long is disabled (default 5 days). */
  SUBSCRIPTION_DISABLE_AFTER_SECONDS?: string;
  /** The gateway's public origin (https://…), for the fetch URL of thin deliveries. */
  PUBLIC_URL?: string;
  /** Days a thin delivery's full body can be fetched (default 30). */
  PAYLOAD_RETENTION_DAYS?: string;
  /** …and gets one subscription.failing warning after this long (default 1 hour). */
  SUBSCRIPTION_FAILING_AFTER_SECONDS?: string;
  /** The sweep enqueues a pending event never put on the queue after this many seconds (default 60). */
  SWEEP_ENQUEUE_AFTER_SECONDS?: string;
  /** The sweep sends a pending event again when its queue message has been out this long (default 900). */
  SWEEP_REDRIVE_AFTER_SECONDS?: string;
}

export type Env = ClaimgateEnv;

export interface EventMessage {
  eventId: string;
}

export interface DeliveryMessage {
  deliveryId: string;
}

/** The operator a request authenticated as (admin API, console, operator claim reads). */
export type AppContext = {
  Bindings: Env;
  /** `auditActor`: who else may read PHI (an HCMS provider), named in the audit trail. */
  Variables: { requestId: string; operator?: import("./operators/identity").Operator; auditActor?: string };
};

declare global {
  namespace Cloudflare {
    interface Env extends ClaimgateEnv {}
  }
}

/** A numeric var (milliseconds, seconds …): a finite number ≥ 0, else the default (unset or not a number). */
export function nonNegativeVar(value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
