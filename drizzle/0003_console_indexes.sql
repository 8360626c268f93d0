CREATE INDEX "payments_paid_at_idx" ON "payments" USING btree ("paid_at");--> statement-breakpoint
CREATE INDEX "submissions_processed_idx" ON "submissions" USING btree ("processed_at");