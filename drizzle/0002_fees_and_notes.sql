ALTER TABLE "cas" ADD COLUMN "fees" jsonb;--> statement-breakpoint
ALTER TABLE "cas_events" ADD COLUMN "kind" text DEFAULT 'STATUS_CHANGED' NOT NULL;--> statement-breakpoint
ALTER TABLE "cas_events" ADD COLUMN "details" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "submissions_accepted_update_id_uq" ON "submissions" USING btree ("sponsor_licence_number","file_id") WHERE outcome = 'ACCEPTED' and replay_of is null and file_type = 'UPDATE_FEES';