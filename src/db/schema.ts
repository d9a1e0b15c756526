import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Times are ISO 8601 UTC strings; money is integer cents (columns end in _cents).

const createdAt = () =>
  text("created_at")
    .notNull()
    .default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`);

/** A configured partner endpoint: which payload it carries and how its requests are verified. */
export const sources = sqliteTable("sources", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  description: text("description"),
  /** JSON of VerificationConfig (src/verify/config.ts), never a secret. */
  verification: text("verification").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
  updatedAt: text("updated_at").notNull(),
});

/** Secrets of a source, encrypted at rest (AES-GCM under SECRETS_KEY). `n` numbers them per source. */
export const sourceSecrets = sqliteTable(
  "source_secrets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sourceId: text("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    n: integer("n").notNull(),
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("source_secrets_source_n").on(t.sourceId, t.n)],
);

/**
 * Raw partner events as received. (source_id, dedup_key) is unique: a redelivered webhook is stored once.
 * status: pending (stored, not yet processed) → processed | failed (dead-lettered).
 * enqueued_at is set once the events queue accepted the message; the outbox sweep re-sends
 * pending events whose enqueue never succeeded.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    sourceId: text("source_id").notNull(),
    kind: text("kind").notNull(),
    dedupKey: text("dedup_key").notNull(),
    body: text("body").notNull(),
    /** JSON object of request headers with verification headers and secrets removed. */
    headers: text("headers").notNull(),
    status: text("status", { enum: ["pending", "processed", "failed"] })
      .notNull()
      .default("pending"),
    eventType: text("event_type"),
    receivedAt: text("received_at").notNull(),
    enqueuedAt: text("enqueued_at"),
    processedAt: text("processed_at"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("events_source_dedup").on(t.sourceId, t.dedupKey),
    index("events_status_received").on(t.status, t.receivedAt),
    index("events_received").on(t.receivedAt),
  ],
);

/** FHIR R4B ClaimResponse (remit) as projected from cair.claim_response events. */
export const claimResponses = sqliteTable(
  "claim_responses",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    /** `request.reference`, e.g. Claim/44f4… */
    claimReference: text("claim_reference"),
    status: text("status"),
    outcome: text("outcome").notNull(),
    disposition: text("disposition"),
    patientReference: text("patient_reference"),
    createdDate: text("created_date"),
    submittedCents: integer("submitted_cents").notNull().default(0),
    benefitCents: integer("benefit_cents").notNull().default(0),
    paymentCents: integer("payment_cents").notNull().default(0),
    patientResponsibilityCents: integer("patient_responsibility_cents").notNull().default(0),
    /** The ClaimResponse resource as received (JSON). */
    resource: text("resource").notNull(),
    receivedAt: text("received_at").notNull(),
  },
  (t) => [index("claim_responses_claim_ref").on(t.claimReference)],
);
