ALTER TABLE `domain_events` ADD `payload_key` text;--> statement-breakpoint
ALTER TABLE `domain_events` ADD `payload_deleted_at` text;--> statement-breakpoint
CREATE INDEX `domain_events_unarchived` ON `domain_events` (`occurred_at`) WHERE fanned_out_at IS NOT NULL AND payload_key IS NULL AND payload_deleted_at IS NULL;