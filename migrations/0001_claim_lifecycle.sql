CREATE TABLE `claim_diagnoses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`claim_id` text NOT NULL,
	`sequence` integer NOT NULL,
	`code` text NOT NULL,
	`code_system` text
);
--> statement-breakpoint
CREATE INDEX `claim_diagnoses_claim` ON `claim_diagnoses` (`claim_id`);--> statement-breakpoint
CREATE TABLE `claim_identifiers` (
	`system` text NOT NULL,
	`value` text NOT NULL,
	`claim_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `claim_identifiers_system_value` ON `claim_identifiers` (`system`,`value`);--> statement-breakpoint
CREATE INDEX `claim_identifiers_claim` ON `claim_identifiers` (`claim_id`);--> statement-breakpoint
CREATE TABLE `claim_lifecycles` (
	`id` text PRIMARY KEY NOT NULL,
	`bill_id` text,
	`patient_id` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `claim_lifecycles_bill_id_unique` ON `claim_lifecycles` (`bill_id`);--> statement-breakpoint
CREATE TABLE `claim_lines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`claim_id` text NOT NULL,
	`sequence` integer NOT NULL,
	`code` text NOT NULL,
	`code_system` text,
	`modifiers` text DEFAULT '[]' NOT NULL,
	`units` integer DEFAULT 1 NOT NULL,
	`charge_cents` integer DEFAULT 0 NOT NULL,
	`diagnosis_pointers` text DEFAULT '[]' NOT NULL,
	`service_date` text
);
--> statement-breakpoint
CREATE INDEX `claim_lines_claim` ON `claim_lines` (`claim_id`);--> statement-breakpoint
CREATE TABLE `claim_status_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`claim_id` text NOT NULL,
	`event_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`source` text NOT NULL,
	`message` text,
	`at` text NOT NULL,
	`applied` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `claim_status_history_claim` ON `claim_status_history` (`claim_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `claim_status_history_event` ON `claim_status_history` (`event_id`,`claim_id`);--> statement-breakpoint
CREATE TABLE `claims` (
	`id` text PRIMARY KEY NOT NULL,
	`claim_lifecycle_id` text NOT NULL,
	`placeholder` integer DEFAULT false NOT NULL,
	`patient_id` text,
	`payer_id` text,
	`payer_name` text,
	`provider_id` text,
	`status` text DEFAULT 'draft' NOT NULL,
	`status_at` text,
	`total_charge_cents` integer DEFAULT 0 NOT NULL,
	`approved_cents` integer,
	`payor_patient_responsibility_cents` integer,
	`patient_paid_cents` integer DEFAULT 0 NOT NULL,
	`service_date` text,
	`lines_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `claims_lifecycle` ON `claims` (`claim_lifecycle_id`);--> statement-breakpoint
CREATE INDEX `claims_patient` ON `claims` (`patient_id`);--> statement-breakpoint
CREATE TABLE `domain_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`source_event_id` text NOT NULL,
	`claim_id` text,
	`claim_lifecycle_id` text,
	`payload` text NOT NULL,
	`occurred_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `domain_events_source_type` ON `domain_events` (`source_event_id`,`type`);--> statement-breakpoint
CREATE INDEX `domain_events_occurred` ON `domain_events` (`occurred_at`);--> statement-breakpoint
CREATE TABLE `patients` (
	`id` text PRIMARY KEY NOT NULL,
	`system` text NOT NULL,
	`external_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `patients_system_external` ON `patients` (`system`,`external_id`);--> statement-breakpoint
CREATE TABLE `scrub_results` (
	`id` text PRIMARY KEY NOT NULL,
	`claim_id` text NOT NULL,
	`event_id` text NOT NULL,
	`fhir_claim` text NOT NULL,
	`rules_applied` text NOT NULL,
	`rules_flagged` text NOT NULL,
	`edits` text NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `scrub_results_claim` ON `scrub_results` (`claim_id`);--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `claim_id` text;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `claim_lifecycle_id` text;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `decision` text;--> statement-breakpoint
CREATE INDEX `claim_responses_lifecycle` ON `claim_responses` (`claim_lifecycle_id`,`created_date`);