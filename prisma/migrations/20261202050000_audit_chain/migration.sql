-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'auditor';

-- AlterTable
ALTER TABLE "audit_log" ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prev_hash" TEXT,
ADD COLUMN     "seq" BIGINT;

-- CreateTable
CREATE TABLE "audit_chain" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_chain_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_log_seq_key" ON "audit_log"("seq");

-- Tamper-evident audit trail (hand-written; src/usecases/audit-chain.ts verifies it).
--
-- Every audit row carries `hash` = SHA-256 over its canonical serialisation, which includes the previous
-- row's hash (`prev_hash`) and its chain position (`seq`). The BEFORE INSERT trigger computes them in the
-- same transaction as the change the row records, whatever the insert path (create, createMany, raw SQL).
-- Concurrent writers take one chain position at a time: the trigger locks the single audit_chain row
-- (SELECT ... FOR UPDATE) until the writer commits, and the next writer reads the head it left.
-- Canonical serialisation (version 1): 'warmth-audit-v1' then, for each field in order
-- id, seq, at, actor_id, action, entity, entity_id, before, after, request_id, prev_hash,
-- '~' for NULL or '<octet length>:<text>,' (at as YYYY-MM-DDTHH:MI:SS.MSZ, jsonb as PostgreSQL renders it).

CREATE FUNCTION "audit_log_field"(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v || ',' END
$$;

CREATE FUNCTION "audit_log_hash"(
  p_id bigint, p_seq bigint, p_at timestamp, p_actor integer, p_action text, p_entity text,
  p_entity_id text, p_before jsonb, p_after jsonb, p_request text, p_prev text
) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(
    'warmth-audit-v1'
    || "audit_log_field"(p_id::text)
    || "audit_log_field"(p_seq::text)
    || "audit_log_field"(to_char(p_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    || "audit_log_field"(p_actor::text)
    || "audit_log_field"(p_action)
    || "audit_log_field"(p_entity)
    || "audit_log_field"(p_entity_id)
    || "audit_log_field"(p_before::text)
    || "audit_log_field"(p_after::text)
    || "audit_log_field"(p_request)
    || "audit_log_field"(p_prev), 'UTF8')), 'hex')
$$;

-- Genesis: the head before the first row is 64 zeros; existing rows are chained in id order.
INSERT INTO "audit_chain" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64));

ALTER TABLE "audit_log" DISABLE TRIGGER "audit_log_no_update_delete";
DO $$
DECLARE
  r record;
  s bigint := 0;
  h text := repeat('0', 64);
  nh text;
BEGIN
  FOR r IN SELECT * FROM "audit_log" ORDER BY "id" LOOP
    s := s + 1;
    nh := "audit_log_hash"(r."id", s, r."at", r."actor_id", r."action", r."entity", r."entity_id",
                           r."before", r."after", r."request_id", h);
    UPDATE "audit_log" SET "seq" = s, "prev_hash" = h, "hash" = nh WHERE "id" = r."id";
    h := nh;
  END LOOP;
  UPDATE "audit_chain" SET "seq" = s, "hash" = h WHERE "id" = 1;
END $$;
ALTER TABLE "audit_log" ENABLE TRIGGER "audit_log_no_update_delete";

CREATE FUNCTION "audit_log_chain"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  SELECT "seq", "hash" INTO head_seq, head_hash FROM "audit_chain" WHERE "id" = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_chain has no head row: the audit trail cannot be appended';
  END IF;
  NEW."seq" := head_seq + 1;
  NEW."prev_hash" := head_hash;
  NEW."hash" := "audit_log_hash"(NEW."id", NEW."seq", NEW."at", NEW."actor_id", NEW."action",
                                 NEW."entity", NEW."entity_id", NEW."before", NEW."after",
                                 NEW."request_id", NEW."prev_hash");
  UPDATE "audit_chain" SET "seq" = NEW."seq", "hash" = NEW."hash" WHERE "id" = 1;
  RETURN NEW;
END $$;

CREATE TRIGGER "audit_log_chain"
BEFORE INSERT ON "audit_log"
FOR EACH ROW EXECUTE FUNCTION "audit_log_chain"();

-- The head row is only moved by the trigger: no deletes, no second row.
CREATE FUNCTION "audit_chain_guard"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_chain: % is not allowed (the head moves only with audit_log inserts)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_chain_no_delete"
BEFORE DELETE OR TRUNCATE ON "audit_chain"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_chain_guard"();
