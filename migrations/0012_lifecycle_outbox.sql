CREATE TABLE `lifecycle_outbox_applied` (
	`lifecycle_id` text NOT NULL,
	`seq` integer NOT NULL,
	`applied_at` text NOT NULL,
	PRIMARY KEY(`lifecycle_id`, `seq`)
);
