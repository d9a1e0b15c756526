ALTER TABLE `events` ADD `validation_errors` text;--> statement-breakpoint
ALTER TABLE `events` ADD `redrives` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `patient_payment_details` ADD `event_id` text;--> statement-breakpoint
CREATE INDEX `patient_payment_details_event` ON `patient_payment_details` (`event_id`);