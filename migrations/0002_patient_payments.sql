CREATE TABLE `credit_allocations` (
	`id` text PRIMARY KEY NOT NULL,
	`credit_id` text NOT NULL,
	`claim_id` text NOT NULL,
	`claim_lifecycle_id` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `credit_allocations_credit` ON `credit_allocations` (`credit_id`);--> statement-breakpoint
CREATE INDEX `credit_allocations_lifecycle` ON `credit_allocations` (`claim_lifecycle_id`);--> statement-breakpoint
CREATE TABLE `patient_credits` (
	`id` text PRIMARY KEY NOT NULL,
	`patient_id` text,
	`source_payment_id` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`remaining_cents` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `patient_credits_source_payment_id_unique` ON `patient_credits` (`source_payment_id`);--> statement-breakpoint
CREATE INDEX `patient_credits_patient` ON `patient_credits` (`patient_id`);--> statement-breakpoint
CREATE TABLE `patient_payment_details` (
	`id` text PRIMARY KEY NOT NULL,
	`trace_key` text NOT NULL,
	`trace_id` text,
	`claim_id` text NOT NULL,
	`claim_lifecycle_id` text NOT NULL,
	`patient_id` text,
	`bill_id` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`applied_cents` integer NOT NULL,
	`excess_cents` integer NOT NULL,
	`payment_date` text NOT NULL,
	`payment_method` text,
	`source` text NOT NULL,
	`status` text DEFAULT 'applied' NOT NULL,
	`created_at` text NOT NULL,
	`reversed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `patient_payment_details_trace_key_unique` ON `patient_payment_details` (`trace_key`);--> statement-breakpoint
CREATE INDEX `patient_payment_details_lifecycle` ON `patient_payment_details` (`claim_lifecycle_id`);--> statement-breakpoint
CREATE INDEX `patient_payment_details_claim` ON `patient_payment_details` (`claim_id`);--> statement-breakpoint
CREATE TABLE `payment_reconciliations` (
	`id` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`claim_id` text NOT NULL,
	`resource` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payment_reconciliations_payment_id_unique` ON `payment_reconciliations` (`payment_id`);--> statement-breakpoint
CREATE INDEX `payment_reconciliations_claim` ON `payment_reconciliations` (`claim_id`);