CREATE TABLE "cas_reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cas_reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"cas_id" bigint NOT NULL,
	"sponsor_licence_number" text NOT NULL,
	"kind" text NOT NULL,
	"trigger_date" date NOT NULL,
	"fields" jsonb NOT NULL,
	"notes" text,
	"due_date" date NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"late" boolean NOT NULL,
	"submission_id" bigint
);
--> statement-breakpoint
ALTER TABLE "cas" ADD COLUMN "decision" text;--> statement-breakpoint
ALTER TABLE "cas" ADD COLUMN "decided_on" date;--> statement-breakpoint
CREATE INDEX "cas_reports_cas_idx" ON "cas_reports" USING btree ("cas_id","kind");--> statement-breakpoint
CREATE INDEX "cas_reports_sponsor_idx" ON "cas_reports" USING btree ("sponsor_licence_number","kind");--> statement-breakpoint
CREATE INDEX "cas_sponsor_decided_idx" ON "cas" USING btree ("sponsor_licence_number","decided_on");