CREATE TABLE "file_claims" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "file_claims_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"sponsor_licence_number" text NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"owner" integer NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"state" text NOT NULL,
	"submission_id" bigint,
	"moved_to" text,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "file_claims_active_uq" ON "file_claims" USING btree ("sponsor_licence_number","file_name","sha256") WHERE state <> 'done';--> statement-breakpoint
CREATE INDEX "file_claims_open_idx" ON "file_claims" USING btree ("state","owner") WHERE state <> 'done';