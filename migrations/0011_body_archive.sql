ALTER TABLE `events` ADD `body_key` text;--> statement-breakpoint
ALTER TABLE `events` ADD `body_deleted_at` text;--> statement-breakpoint
CREATE INDEX `events_unarchived` ON `events` (`received_at`) WHERE status = 'processed' AND body_key IS NULL AND body_deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `events_archived` ON `events` (`source_id`,`received_at`) WHERE body_key IS NOT NULL;--> statement-breakpoint
ALTER TABLE `sources` ADD `retention_days` integer;