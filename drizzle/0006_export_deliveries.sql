CREATE TABLE "export_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "export_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"sponsor_licence_number" text NOT NULL,
	"state" text NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text,
	"changed_since" timestamp with time zone,
	"from_tx" bigint NOT NULL,
	"to_tx" bigint NOT NULL,
	"delivered_at" timestamp with time zone NOT NULL,
	"cas_count" integer,
	"last_event_id" bigint,
	"owner" integer NOT NULL,
	"lease_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cas_events" ADD COLUMN "tx" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
ALTER TABLE "graduate_reports" ADD COLUMN "tx" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
ALTER TABLE "sponsors" ADD COLUMN "export_schema" text DEFAULT '2.1.1' NOT NULL;--> statement-breakpoint
ALTER TABLE "export_deliveries" ADD CONSTRAINT "export_deliveries_sponsor_licence_number_sponsors_licence_number_fk" FOREIGN KEY ("sponsor_licence_number") REFERENCES "public"."sponsors"("licence_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "export_deliveries_sponsor_idx" ON "export_deliveries" USING btree ("sponsor_licence_number","id");--> statement-breakpoint
CREATE UNIQUE INDEX "export_deliveries_pending_uq" ON "export_deliveries" USING btree ("sponsor_licence_number") WHERE state = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "export_deliveries_from_uq" ON "export_deliveries" USING btree ("sponsor_licence_number","from_tx");--> statement-breakpoint
CREATE INDEX "cas_events_tx_idx" ON "cas_events" USING btree ("tx");--> statement-breakpoint
CREATE INDEX "cas_events_at_idx" ON "cas_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "graduate_reports_tx_idx" ON "graduate_reports" USING btree ("tx");--> statement-breakpoint
CREATE INDEX "graduate_reports_at_idx" ON "graduate_reports" USING btree ("reported_at");