ALTER TABLE `claim_lifecycles` ADD `object_since` text;--> statement-breakpoint
ALTER TABLE `claim_lifecycles` ADD `facts_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Lifecycles that exist before this migration may already have an object holding their money: mark them
-- all held, so only their objects keep writing their figures (src/lifecycle/unheld.ts).
UPDATE `claim_lifecycles` SET `object_since` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
