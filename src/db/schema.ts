import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
  /** Days an archived (processed) event's body is kept in R2; null keeps it. Metadata and audit stay. */
  retentionDays: integer("retention_days"),
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

export const EVENT_STATUSES = ["pending", "processed", "failed", "invalid"] as const;
export const DELIVERY_STATUSES = ["pending", "delivered", "dead", "cancelled"] as const;

/**
 * Raw partner events as received. (source_id, dedup_key) is unique: a redelivered webhook is stored once.
 * status: pending (stored, not yet processed) → processed | failed (dead-lettered, or refused by its
 * projection: last_error says why); invalid: verified but not valid (validation_errors says why), kept so
 * nothing verified is lost; invalid and failed events can be reprocessed.
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
    status: text("status", { enum: EVENT_STATUSES })
      .notNull()
      .default("pending"),
    /** JSON array of `{path, message}` when the body failed validation (status invalid). */
    validationErrors: text("validation_errors"),
    eventType: text("event_type"),
    receivedAt: text("received_at").notNull(),
    enqueuedAt: text("enqueued_at"),
    processedAt: text("processed_at"),
    attempts: integer("attempts").notNull().default(0),
    /** How many times the sweep has sent the event again after its queue message went missing. */
    redrives: integer("redrives").notNull().default(0),
    lastError: text("last_error"),
    /**
     * Once the event is processed its body moves to R2 (binding BODIES) under this key and `body` is
     * emptied, so D1 grows with metadata, not with history (issue 17); reads fetch it back from R2.
     */
    bodyKey: text("body_key"),
    /** When the source's retentionDays removed the archived body from R2. */
    bodyDeletedAt: text("body_deleted_at"),
  },
  (t) => [
    uniqueIndex("events_source_dedup").on(t.sourceId, t.dedupKey),
    index("events_status_received").on(t.status, t.receivedAt),
    index("events_received").on(t.receivedAt),
    // the archive sweep's work list: processed events whose body is still in D1
    index("events_unarchived").on(t.receivedAt).where(sql`status = 'processed' AND body_key IS NULL AND body_deleted_at IS NULL`),
    // the retention sweep's: archived bodies per source, oldest first
    index("events_archived").on(t.sourceId, t.receivedAt).where(sql`body_key IS NOT NULL`),
  ],
);

/** FHIR R4B ClaimResponse (remit) as projected from cair.claim_response events. */
export const claimResponses = sqliteTable(
  "claim_responses",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    claimId: text("claim_id"),
    lifecycleId: text("claim_lifecycle_id"),
    decision: text("decision"),
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
    // What the lifecycle's ledger reads (src/domain/remit.ts remitFacts): the money rules need no resource.
    /** remit | preauth | withdrawn | rejection */
    kind: text("kind").notNull().default("remit"),
    provisional: integer("provisional", { mode: "boolean" }).notNull().default(false),
    reversal: integer("reversal", { mode: "boolean" }).notNull().default(false),
    /** Once a version of this id was cancelled or entered-in-error, it stays withdrawn in any order. */
    withdrawn: integer("withdrawn", { mode: "boolean" }).notNull().default(false),
    payerKey: text("payer_key").notNull().default("unknown"),
    identity: text("identity"),
    cobRank: integer("cob_rank").notNull().default(1),
    cobPayers: integer("cob_payers").notNull().default(1),
    amounts: text("amounts").notNull().default(""),
    versionAt: text("version_at").notNull().default(""),
    paidByPatientCents: integer("paid_by_patient_cents").notNull().default(0),
    /** lines | total | none: where the responsibility came from. */
    responsibilityBasis: text("responsibility_basis").notNull().default("lines"),
    responsibilityInferred: integer("responsibility_inferred", { mode: "boolean" }).notNull().default(false),
    /** The `total` list's own figure, a cross-check recorded beside the lines' figure. */
    totalResponsibilityCents: integer("total_responsibility_cents"),
    /** The ClaimResponse resource as received (JSON). */
    resource: text("resource").notNull(),
    receivedAt: text("received_at").notNull(),
  },
  (t) => [
    index("claim_responses_claim_ref").on(t.claimReference),
    index("claim_responses_lifecycle").on(t.lifecycleId, t.createdDate),
  ],
);

// ── Claim lifecycle model ────────────────────────────────────────────────────────────────────────────
// A lifecycle is one bill (the Cair claim-id identifier, whose value is the Elation bill id); its claims
// are the original, corrected and resubmitted versions. Claim-specific identifiers (FHIR Claim id,
// Healthie CMS-1500 id, HCMS claim id) live in claim_identifiers and are unique across claims.

export const patients = sqliteTable(
  "patients",
  {
    id: text("id").primaryKey(),
    /** Where the external id comes from: fhir-patient, healthie, hcms, … (no names or birth dates here). */
    system: text("system").notNull(),
    externalId: text("external_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("patients_system_external").on(t.system, t.externalId)],
);

export const claimLifecycles = sqliteTable("claim_lifecycles", {
  id: text("id").primaryKey(),
  /** The claim-id identifier value (Elation bill id); null until a payload names it. */
  billId: text("bill_id").unique(),
  patientId: text("patient_id"),
  /** Set when this lifecycle was folded into another: its claims, remits and money live there now. */
  mergedInto: text("merged_into"),
  /** The ledger's last figures (written by the ClaimLifecycle object; null until a remit says). */
  responsibilityCents: integer("responsibility_cents"),
  responsibilityProvisional: integer("responsibility_provisional", { mode: "boolean" }).notNull().default(false),
  appliedCents: integer("applied_cents").notNull().default(0),
  currentClaimId: text("current_claim_id"),
  /**
   * When the lifecycle's ClaimLifecycle object first loaded it (null: no object holds it yet, so no
   * payment, credit or allocation can have reached it). Set in the object's load batch; from then on only
   * the object writes the figures above. See src/lifecycle/unheld.ts.
   */
  objectSince: text("object_since"),
  /** Bumped whenever a projection reloads the lifecycle's facts without its object (src/lifecycle/unheld.ts). */
  factsVersion: integer("facts_version").notNull().default(0),
  createdAt: createdAt(),
});

export const claims = sqliteTable(
  "claims",
  {
    id: text("id").primaryKey(),
    lifecycleId: text("claim_lifecycle_id").notNull(),
    /** Created from a payload that only referenced it (a remit before its claim); filled in later. */
    placeholder: integer("placeholder", { mode: "boolean" }).notNull().default(false),
    patientId: text("patient_id"),
    payerId: text("payer_id"),
    payerName: text("payer_name"),
    providerId: text("provider_id"),
    status: text("status").notNull().default("draft"),
    /** Event time of the status change in force; older status events do not move it back. */
    statusAt: text("status_at"),
    totalChargeCents: integer("total_charge_cents").notNull().default(0),
    approvedCents: integer("approved_cents"),
    payorPatientResponsibilityCents: integer("payor_patient_responsibility_cents"),
    patientPaidCents: integer("patient_paid_cents").notNull().default(0),
    serviceDate: text("service_date"),
    /** Received-at of the payload whose lines and diagnoses are stored (newer replaces, older is ignored). */
    linesAt: text("lines_at"),
    /** `Claim.created` as a UTC instant: orders versions of a lifecycle (null for a placeholder). */
    claimCreated: text("claim_created"),
    /** JSON array of `system|value` keys of the versions this one replaces (Claim.related prior, frequency 7/8). */
    replaces: text("replaces").notNull().default("[]"),
    /** X12 claim frequency code (CLM05-3): 1 original, 7 replacement, 8 void. */
    frequencyCode: text("frequency_code"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("claims_lifecycle").on(t.lifecycleId), index("claims_patient").on(t.patientId)],
);

export const claimIdentifiers = sqliteTable(
  "claim_identifiers",
  {
    system: text("system").notNull(),
    value: text("value").notNull(),
    claimId: text("claim_id").notNull(),
  },
  (t) => [uniqueIndex("claim_identifiers_system_value").on(t.system, t.value), index("claim_identifiers_claim").on(t.claimId)],
);

export const claimLines = sqliteTable(
  "claim_lines",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    claimId: text("claim_id").notNull(),
    sequence: integer("sequence").notNull(),
    code: text("code").notNull(),
    codeSystem: text("code_system"),
    modifiers: text("modifiers").notNull().default("[]"),
    units: integer("units").notNull().default(1),
    chargeCents: integer("charge_cents").notNull().default(0),
    diagnosisPointers: text("diagnosis_pointers").notNull().default("[]"),
    serviceDate: text("service_date"),
  },
  (t) => [index("claim_lines_claim").on(t.claimId)],
);

export const claimDiagnoses = sqliteTable(
  "claim_diagnoses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    claimId: text("claim_id").notNull(),
    sequence: integer("sequence").notNull(),
    code: text("code").notNull(),
    codeSystem: text("code_system"),
  },
  (t) => [index("claim_diagnoses_claim").on(t.claimId)],
);

export const scrubResults = sqliteTable(
  "scrub_results",
  {
    id: text("id").primaryKey(),
    claimId: text("claim_id").notNull(),
    eventId: text("event_id").notNull(),
    /** The AI-generated FHIR Claim (parsed from ai_generated_x12_837), JSON. */
    fhirClaim: text("fhir_claim").notNull(),
    rulesApplied: text("rules_applied").notNull(),
    rulesFlagged: text("rules_flagged").notNull(),
    edits: text("edits").notNull(),
    receivedAt: text("received_at").notNull(),
  },
  (t) => [index("scrub_results_claim").on(t.claimId)],
);

export const claimStatusHistory = sqliteTable(
  "claim_status_history",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    claimId: text("claim_id").notNull(),
    eventId: text("event_id").notNull(),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    source: text("source").notNull(),
    message: text("message"),
    at: text("at").notNull(),
    /** false when the update was older than the status in force (recorded, not applied). */
    applied: integer("applied", { mode: "boolean" }).notNull(),
  },
  (t) => [index("claim_status_history_claim").on(t.claimId), uniqueIndex("claim_status_history_event").on(t.eventId, t.claimId)],
);

/**
 * Events the gateway produces for subscribers (CLAIMS_REMIT_APPROVED, cms1500.created, …), one per raw
 * event and type: (source_event_id, type) is unique, so replaying a raw event records nothing new.
 */
export const domainEvents = sqliteTable(
  "domain_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    sourceEventId: text("source_event_id").notNull(),
    claimId: text("claim_id"),
    lifecycleId: text("claim_lifecycle_id"),
    /** The subscriber-facing `data` (JSON). */
    payload: text("payload").notNull(),
    occurredAt: text("occurred_at").notNull(),
    /** Set once deliveries were created for every matching subscription (the fan-out outbox). */
    fannedOutAt: text("fanned_out_at"),
    /**
     * Once fanned out with no delivery pending, the payload moves to R2 (binding BODIES) under this key and
     * `payload` is emptied (src/ingest/archive.ts): it is the partner's body again, PHI, and D1 need not
     * keep a copy of what the archive already moved out.
     */
    payloadKey: text("payload_key"),
    /** When the source's retentionDays removed the archived payload from R2 (with its event's body). */
    payloadDeletedAt: text("payload_deleted_at"),
  },
  (t) => [
    uniqueIndex("domain_events_source_type").on(t.sourceEventId, t.type),
    index("domain_events_occurred").on(t.occurredAt),
    index("domain_events_fan_out").on(t.fannedOutAt),
    // the archive sweep's work list: fanned-out events whose payload is still in D1
    index("domain_events_unarchived").on(t.occurredAt).where(sql`fanned_out_at IS NOT NULL AND payload_key IS NULL AND payload_deleted_at IS NULL`),
  ],
);

// ── Patient payments ─────────────────────────────────────────────────────────────────────────────────
// The ClaimLifecycle Durable Object owns each lifecycle's payment ledger (its own SQLite storage) and
// writes these D1 rows from it, one payment at a time.

/**
 * Who first used each payment trace id (a trace id names one payment across every lifecycle). Taken in the
 * same D1 batch that stores the payment's partner event (src/ingest/ingest.ts), so "stored" and "taken"
 * commit together at no extra round trip; the lifecycle objects write the payment rows later, through
 * their outboxes, so patient_payment_details' unique index cannot be the one that says "taken" at once.
 */
export const paymentTraces = sqliteTable("payment_traces", {
  /** `trace:<paymentTraceId>` */
  traceKey: text("trace_key").primaryKey(),
  billId: text("bill_id").notNull(),
  amountCents: integer("amount_cents").notNull(),
  createdAt: text("created_at").notNull(),
});

/** One patient payment as applied to a lifecycle (Cair's PatientPaymentDetails). */
export const patientPaymentDetails = sqliteTable(
  "patient_payment_details",
  {
    id: text("id").primaryKey(),
    /** `trace:<paymentTraceId>`, or `key:<billId>|<cents>|<date>|<method>` without a trace id. */
    traceKey: text("trace_key").notNull().unique(),
    traceId: text("trace_id"),
    claimId: text("claim_id").notNull(),
    lifecycleId: text("claim_lifecycle_id").notNull(),
    patientId: text("patient_id"),
    billId: text("bill_id").notNull(),
    amountCents: integer("amount_cents").notNull(),
    appliedCents: integer("applied_cents").notNull(),
    excessCents: integer("excess_cents").notNull(),
    paymentDate: text("payment_date").notNull(),
    paymentMethod: text("payment_method"),
    source: text("source").notNull(),
    status: text("status", { enum: ["applied", "reversed"] }).notNull().default("applied"),
    /** The partner event (cair.patient_payment or stripe.payment) that brought the payment. */
    eventId: text("event_id"),
    /** The first answer (JSON), returned again for a repeated trace id; applied/excess above follow the ledger. */
    response: text("response"),
    createdAt: text("created_at").notNull(),
    reversedAt: text("reversed_at"),
  },
  (t) => [
    index("patient_payment_details_lifecycle").on(t.lifecycleId),
    index("patient_payment_details_claim").on(t.claimId),
    index("patient_payment_details_event").on(t.eventId),
  ],
);

/** FHIR R4B PaymentReconciliation per payment, as JSON (updated when the payment is reversed). */
export const paymentReconciliations = sqliteTable(
  "payment_reconciliations",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id").notNull().unique(),
    claimId: text("claim_id").notNull(),
    resource: text("resource").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("payment_reconciliations_claim").on(t.claimId)],
);

/** Excess patient money, unallocated until applied to another claim of the same patient. */
export const patientCredits = sqliteTable(
  "patient_credits",
  {
    id: text("id").primaryKey(),
    patientId: text("patient_id"),
    sourcePaymentId: text("source_payment_id").notNull().unique(),
    amountCents: integer("amount_cents").notNull(),
    remainingCents: integer("remaining_cents").notNull(),
    /** reapplied: the responsibility rose again and the lifecycle took its own credit back. */
    status: text("status", { enum: ["unallocated", "partially_allocated", "allocated", "reapplied", "void"] }).notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("patient_credits_patient").on(t.patientId)],
);

export const creditAllocations = sqliteTable(
  "credit_allocations",
  {
    id: text("id").primaryKey(),
    creditId: text("credit_id").notNull(),
    claimId: text("claim_id").notNull(),
    lifecycleId: text("claim_lifecycle_id").notNull(),
    amountCents: integer("amount_cents").notNull(),
    createdAt: text("created_at").notNull(),
    /** Set when the payment behind the credit was reversed: the allocation is undone. */
    reversedAt: text("reversed_at"),
  },
  (t) => [index("credit_allocations_credit").on(t.creditId), index("credit_allocations_lifecycle").on(t.lifecycleId)],
);

// ── Outbound delivery ────────────────────────────────────────────────────────────────────────────────

export const subscriptions = sqliteTable("subscriptions", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  description: text("description"),
  /** JSON array of event types; `*` is every type, CLAIMS_REMIT_ALL both remit types. */
  events: text("events").notNull(),
  providerId: text("provider_id"),
  payerId: text("payer_id"),
  /** Deliveries for one claim lifecycle go out in event order. */
  ordered: integer("ordered", { mode: "boolean" }).notNull().default(false),
  /** JSON array of signature versions: ["v1"] (HMAC, default), ["v1a"] (Ed25519) or both. */
  signing: text("signing").notNull().default('["v1"]'),
  /** full: the event's data; thin: ids and a fetch URL (GET /api/deliveries/:id/payload with the fetch token). */
  payload: text("payload", { enum: ["full", "thin"] }).notNull().default("full"),
  /** SHA-256 of the subscription's fetch token (thin payloads), shown once at creation. */
  fetchTokenHash: text("fetch_token_hash"),
  /** Deliveries per second at most (null: unthrottled), enforced across isolates by a Durable Object. */
  rateLimit: integer("rate_limit"),
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  disabledReason: text("disabled_reason"),
  /** Start of the current run of failures (null after any success); drives auto-disable. */
  failingSince: text("failing_since"),
  lastSuccessAt: text("last_success_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Signing secrets, encrypted; a rotated-out secret keeps signing until expires_at (grace period). */
export const subscriptionSecrets = sqliteTable(
  "subscription_secrets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    subscriptionId: text("subscription_id").notNull(),
    /** hmac: a whsec_ secret (v1); ed25519: a PKCS#8 private key (v1a), its public key beside it. */
    kind: text("kind", { enum: ["hmac", "ed25519"] }).notNull().default("hmac"),
    ciphertext: text("ciphertext").notNull(),
    /** whpk_ + base64 of the raw Ed25519 public key (ed25519 rows). */
    publicKey: text("public_key"),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at"),
  },
  (t) => [index("subscription_secrets_subscription").on(t.subscriptionId)],
);

/**
 * One domain event to one subscription. The id is the stable `webhook-id` across retries.
 * status: pending → delivered | dead (after the last attempt, or 410 Gone) | cancelled (subscription gone).
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    subscriptionId: text("subscription_id").notNull(),
    domainEventId: text("domain_event_id").notNull(),
    eventType: text("event_type").notNull(),
    lifecycleId: text("claim_lifecycle_id"),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: text("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    enqueuedAt: text("enqueued_at"),
    createdAt: text("created_at").notNull(),
    deliveredAt: text("delivered_at"),
    deadAt: text("dead_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("deliveries_event_subscription").on(t.domainEventId, t.subscriptionId),
    index("deliveries_subscription_created").on(t.subscriptionId, t.createdAt),
    index("deliveries_status").on(t.status, t.createdAt),
    index("deliveries_ordering").on(t.subscriptionId, t.lifecycleId, t.createdAt),
  ],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    /** First 2 KB of the subscriber's response. */
    responseBody: text("response_body"),
    error: text("error"),
    at: text("at").notNull(),
  },
  (t) => [index("delivery_attempts_delivery").on(t.deliveryId)],
);

// ── Payor claims API (HCMS contract) ─────────────────────────────────────────────────────────────────

/** Provider API keys, stored as SHA-256 hashes; the key itself is shown once at creation. */
export const providerKeys = sqliteTable("provider_keys", {
  id: text("id").primaryKey(),
  providerId: text("provider_id").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  label: text("label"),
  createdAt: text("created_at").notNull(),
  revokedAt: text("revoked_at"),
});

export const coveragePlans = sqliteTable("coverage_plans", {
  insuranceId: text("insurance_id").primaryKey(),
  payorId: text("payor_id").notNull(),
  planName: text("plan_name").notNull(),
  activeFrom: text("active_from"),
  activeTo: text("active_to"),
  coinsuranceBps: integer("coinsurance_bps").notNull(),
  copayCents: integer("copay_cents").notNull(),
  excludedCpt: text("excluded_cpt").notNull().default("[]"),
  excludedIcd: text("excluded_icd").notNull().default("[]"),
  coveredCpt: text("covered_cpt"),
  autoApproveCeilingCents: integer("auto_approve_ceiling_cents").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** What a provider submitted and what the adjudication said, beside the claim model's claim. */
export const payorSubmissions = sqliteTable(
  "payor_submissions",
  {
    claimId: text("claim_id").primaryKey(),
    hcmsClaimId: text("hcms_claim_id").notNull().unique(),
    providerId: text("provider_id"),
    /** PHI: kept because the guide's claim responses and status webhooks carry it. */
    patientName: text("patient_name").notNull(),
    insuranceId: text("insurance_id").notNull(),
    diagnosisCode: text("diagnosis_code").notNull(),
    procedureCode: text("procedure_code"),
    amountCents: integer("amount_cents").notNull(),
    /** The optional fields as submitted (JSON). */
    details: text("details").notNull(),
    coverageValidated: integer("coverage_validated", { mode: "boolean" }).notNull(),
    coverageMessage: text("coverage_message").notNull(),
    autoApproved: integer("auto_approved", { mode: "boolean" }).notNull(),
    reviewReason: text("review_reason"),
    rejectionReason: text("rejection_reason"),
    expectedPaymentCents: integer("expected_payment_cents"),
    patientResponsibilityCents: integer("patient_responsibility_cents"),
    payorId: text("payor_id"),
    submittedDate: text("submitted_date").notNull(),
    processedDate: text("processed_date"),
    notes: text("notes"),
  },
  (t) => [index("payor_submissions_provider").on(t.providerId)],
);

/** Idempotency-Key → the first response, per provider. */
export const idempotencyKeys = sqliteTable("idempotency_keys", {
  /** `<caller scope>:<Idempotency-Key>`, the key kept whole (at most 255 characters). */
  key: text("key").primaryKey(),
  status: integer("status"),
  response: text("response"),
  /** SHA-256 of the request body: the same key with another body is refused, never replayed. */
  requestHash: text("request_hash"),
  createdAt: text("created_at").notNull(),
});

/**
 * Append-only audit trail (HIPAA §164.312(b)): every admin mutation and every payload read. Triggers in
 * the migration refuse UPDATE and DELETE on this table.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: text("at").notNull(),
    /** Which credential acted: `admin:<first 12 hex of SHA-256 of the token>`; never the token. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    status: integer("status").notNull(),
    ip: text("ip"),
    requestId: text("request_id"),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

// ── Operators (HIPAA §164.312(a)(2)(i): one identity per person) ─────────────────────────────────────

export const OPERATOR_ROLES = ["viewer", "operator", "admin"] as const;

/** A person with access: their token is shown once and stored as its SHA-256; revocation is immediate. */
export const operators = sqliteTable(
  "operators",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role", { enum: OPERATOR_ROLES }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by").notNull(),
    revokedAt: text("revoked_at"),
  },
  (t) => [index("operators_revoked").on(t.revokedAt)],
);

/** Console sessions, server-side so that logging out (or revoking the operator) ends them at once. */
export const consoleSessions = sqliteTable("console_sessions", {
  /** SHA-256 of the session cookie's random value. */
  idHash: text("id_hash").primaryKey(),
  operatorId: text("operator_id").notNull(),
  expiresAt: text("expires_at").notNull(),
  revokedAt: text("revoked_at"),
  createdAt: text("created_at").notNull(),
});

/** Failed console logins per client address in the current window (login throttling). */
export const loginFailures = sqliteTable("login_failures", {
  client: text("client").primaryKey(),
  failures: integer("failures").notNull(),
  windowStart: text("window_start").notNull(),
});

/**
 * How far D1 has applied the outbox of each lifecycle's Durable Object (issue 17). A batch of entries
 * inserts the (lifecycle, seq) of its first entry and of its last here, so a batch sent again after a crash
 * fails on its first key as a whole and applies nothing twice, and the highest seq says how far D1 got
 * (src/lifecycle/outbox.ts); each flush prunes the markers below its own, so a lifecycle keeps a few.
 */
export const lifecycleOutboxApplied = sqliteTable(
  "lifecycle_outbox_applied",
  {
    lifecycleId: text("lifecycle_id").notNull(),
    seq: integer("seq").notNull(),
    appliedAt: text("applied_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.lifecycleId, t.seq] })],
);
