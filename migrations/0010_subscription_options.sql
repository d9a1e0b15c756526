ALTER TABLE `subscription_secrets` ADD `kind` text DEFAULT 'hmac' NOT NULL;--> statement-breakpoint
ALTER TABLE `subscription_secrets` ADD `public_key` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `signing` text DEFAULT '["v1"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `payload` text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `fetch_token_hash` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `rate_limit` integer;