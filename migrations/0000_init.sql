CREATE TABLE `claim_responses` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`claim_reference` text,
	`status` text,
	`outcome` text NOT NULL,
	`disposition` text,
	`patient_reference` text,
	`created_date` text,
	`submitted_cents` integer DEFAULT 0 NOT NULL,
	`benefit_cents` integer DEFAULT 0 NOT NULL,
	`payment_cents` integer DEFAULT 0 NOT NULL,
	`patient_responsibility_cents` integer DEFAULT 0 NOT NULL,
	`resource` text NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `claim_responses_claim_ref` ON `claim_responses` (`claim_reference`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`source_id` text NOT NULL,
	`kind` text NOT NULL,
	`dedup_key` text NOT NULL,
	`body` text NOT NULL,
	`headers` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`event_type` text,
	`received_at` text NOT NULL,
	`enqueued_at` text,
	`processed_at` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_source_dedup` ON `events` (`source_id`,`dedup_key`);--> statement-breakpoint
CREATE INDEX `events_status_received` ON `events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `events_received` ON `events` (`received_at`);--> statement-breakpoint
CREATE TABLE `source_secrets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` text NOT NULL,
	`n` integer NOT NULL,
	`ciphertext` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `source_secrets_source_n` ON `source_secrets` (`source_id`,`n`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`description` text,
	`verification` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text NOT NULL
);
