ALTER TABLE `claim_lifecycles` ADD `merged_into` text;--> statement-breakpoint
ALTER TABLE `claim_lifecycles` ADD `responsibility_cents` integer;--> statement-breakpoint
ALTER TABLE `claim_lifecycles` ADD `responsibility_provisional` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_lifecycles` ADD `applied_cents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_lifecycles` ADD `current_claim_id` text;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `kind` text DEFAULT 'remit' NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `provisional` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `reversal` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `withdrawn` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `payer_key` text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `identity` text;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `cob_rank` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `cob_payers` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `amounts` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `version_at` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `paid_by_patient_cents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `responsibility_basis` text DEFAULT 'lines' NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `responsibility_inferred` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `claim_responses` ADD `total_responsibility_cents` integer;--> statement-breakpoint
ALTER TABLE `claims` ADD `claim_created` text;--> statement-breakpoint
ALTER TABLE `claims` ADD `replaces` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `claims` ADD `frequency_code` text;--> statement-breakpoint
ALTER TABLE `credit_allocations` ADD `reversed_at` text;--> statement-breakpoint
ALTER TABLE `patient_payment_details` ADD `response` text;