CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`subscription_id` text NOT NULL,
	`domain_event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`claim_lifecycle_id` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`last_status_code` integer,
	`last_error` text,
	`enqueued_at` text,
	`created_at` text NOT NULL,
	`delivered_at` text,
	`dead_at` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_event_subscription` ON `deliveries` (`domain_event_id`,`subscription_id`);--> statement-breakpoint
CREATE INDEX `deliveries_subscription_created` ON `deliveries` (`subscription_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_status` ON `deliveries` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_ordering` ON `deliveries` (`subscription_id`,`claim_lifecycle_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`latency_ms` integer NOT NULL,
	`response_body` text,
	`error` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_delivery` ON `delivery_attempts` (`delivery_id`);--> statement-breakpoint
CREATE TABLE `subscription_secrets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscription_id` text NOT NULL,
	`ciphertext` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text
);
--> statement-breakpoint
CREATE INDEX `subscription_secrets_subscription` ON `subscription_secrets` (`subscription_id`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`events` text NOT NULL,
	`provider_id` text,
	`payer_id` text,
	`ordered` integer DEFAULT false NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`failing_since` text,
	`last_success_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `domain_events` ADD `fanned_out_at` text;--> statement-breakpoint
CREATE INDEX `domain_events_fan_out` ON `domain_events` (`fanned_out_at`);