CREATE TABLE "compliance_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "compliance_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"sponsor_licence_number" text NOT NULL,
	"tx" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compliance_figures" (
	"sponsor_licence_number" text PRIMARY KEY NOT NULL,
	"counts" jsonb NOT NULL,
	"missing" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compliance_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"as_of" date NOT NULL,
	"nation" text NOT NULL,
	"snapshot" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "compliance_changes_tx_idx" ON "compliance_changes" USING btree ("tx");--> statement-breakpoint
-- Every statement that writes cas, cas_reports or sponsors notes the sponsors it touched (one row each), in its own transaction.
CREATE FUNCTION "compliance_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sponsors' THEN
    IF TG_OP = 'DELETE' THEN
      INSERT INTO "compliance_changes" ("sponsor_licence_number") SELECT DISTINCT "licence_number" FROM "old_rows";
    ELSE
      INSERT INTO "compliance_changes" ("sponsor_licence_number") SELECT DISTINCT "licence_number" FROM "new_rows";
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "compliance_changes" ("sponsor_licence_number") SELECT DISTINCT "sponsor_licence_number" FROM "old_rows";
  ELSE
    INSERT INTO "compliance_changes" ("sponsor_licence_number") SELECT DISTINCT "sponsor_licence_number" FROM "new_rows";
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "cas_compliance_insert" AFTER INSERT ON "cas" REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "cas_compliance_update" AFTER UPDATE ON "cas" REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "cas_compliance_delete" AFTER DELETE ON "cas" REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "cas_reports_compliance_insert" AFTER INSERT ON "cas_reports" REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "cas_reports_compliance_update" AFTER UPDATE ON "cas_reports" REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "cas_reports_compliance_delete" AFTER DELETE ON "cas_reports" REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "sponsors_compliance_insert" AFTER INSERT ON "sponsors" REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
--> statement-breakpoint
CREATE TRIGGER "sponsors_compliance_delete" AFTER DELETE ON "sponsors" REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "compliance_changed"();
