CREATE TABLE `payment_traces` (
	`trace_key` text PRIMARY KEY NOT NULL,
	`bill_id` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
-- Trace ids taken before this table existed: those of the payments D1 holds (they replace the TraceRegistry
-- Durable Object's import of the same rows).
INSERT OR IGNORE INTO `payment_traces` (`trace_key`, `bill_id`, `amount_cents`, `created_at`)
SELECT `trace_key`, `bill_id`, `amount_cents`, `created_at` FROM `patient_payment_details` WHERE `trace_key` LIKE 'trace:%';
