CREATE TABLE "pending_statements" (
	"cas_id" bigint PRIMARY KEY NOT NULL,
	"sponsor_licence_number" text NOT NULL,
	"cas_number" text NOT NULL,
	"queued_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sponsors" ADD COLUMN "statements" boolean DEFAULT false NOT NULL;