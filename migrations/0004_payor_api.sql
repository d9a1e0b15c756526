CREATE TABLE `coverage_plans` (
	`insurance_id` text PRIMARY KEY NOT NULL,
	`payor_id` text NOT NULL,
	`plan_name` text NOT NULL,
	`active_from` text,
	`active_to` text,
	`coinsurance_bps` integer NOT NULL,
	`copay_cents` integer NOT NULL,
	`excluded_cpt` text DEFAULT '[]' NOT NULL,
	`excluded_icd` text DEFAULT '[]' NOT NULL,
	`covered_cpt` text,
	`auto_approve_ceiling_cents` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`status` integer,
	`response` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payor_submissions` (
	`claim_id` text PRIMARY KEY NOT NULL,
	`hcms_claim_id` text NOT NULL,
	`provider_id` text,
	`patient_name` text NOT NULL,
	`insurance_id` text NOT NULL,
	`diagnosis_code` text NOT NULL,
	`procedure_code` text,
	`amount_cents` integer NOT NULL,
	`details` text NOT NULL,
	`coverage_validated` integer NOT NULL,
	`coverage_message` text NOT NULL,
	`auto_approved` integer NOT NULL,
	`review_reason` text,
	`rejection_reason` text,
	`expected_payment_cents` integer,
	`patient_responsibility_cents` integer,
	`payor_id` text,
	`submitted_date` text NOT NULL,
	`processed_date` text,
	`notes` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payor_submissions_hcms_claim_id_unique` ON `payor_submissions` (`hcms_claim_id`);--> statement-breakpoint
CREATE INDEX `payor_submissions_provider` ON `payor_submissions` (`provider_id`);--> statement-breakpoint
CREATE TABLE `provider_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`label` text,
	`created_at` text NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `provider_keys_key_hash_unique` ON `provider_keys` (`key_hash`);