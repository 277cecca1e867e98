-- The audit hash chain's head moves once per statement, not once per row (hand-written; the chain, its
-- serialisation and its verification are unchanged, see 20261202050000_audit_chain).
--
-- The row trigger used to UPDATE the single audit_chain row for every audit row. Inside one transaction
-- each UPDATE leaves a new version of that row, and the next row's look-up walks all of them: a
-- 10,000-row INSERT (a spreadsheet's submissions) took 3.3 s instead of 0.18 s, quadratic in the rows.
-- Now the first audit row of a transaction locks the head (SELECT ... FOR UPDATE, held until commit:
-- concurrent writers still take one chain position at a time) and each row hands the head on to the
-- next through a transaction-local setting tagged with the transaction id; a statement trigger writes
-- the head back to audit_chain once, at the end of each INSERT statement. A rolled-back savepoint
-- rolls back the setting, the rows and the head together.

CREATE OR REPLACE FUNCTION "audit_log_chain"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  xact text := pg_current_xact_id()::text;
  carried text := current_setting('warmth.audit_head', true);
  head_seq bigint;
  head_hash text;
BEGIN
  IF carried IS NOT NULL AND split_part(carried, ':', 1) = xact THEN
    -- This transaction holds the head's lock already (taken by its first audit row).
    head_seq := split_part(carried, ':', 2)::bigint;
    head_hash := split_part(carried, ':', 3);
  ELSE
    SELECT "seq", "hash" INTO head_seq, head_hash FROM "audit_chain" WHERE "id" = 1 FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit_chain has no head row: the audit trail cannot be appended';
    END IF;
  END IF;
  NEW."seq" := head_seq + 1;
  NEW."prev_hash" := head_hash;
  NEW."hash" := "audit_log_hash"(NEW."id", NEW."seq", NEW."at", NEW."actor_id", NEW."action",
                                 NEW."entity", NEW."entity_id", NEW."before", NEW."after",
                                 NEW."request_id", NEW."prev_hash");
  PERFORM set_config('warmth.audit_head', xact || ':' || NEW."seq" || ':' || NEW."hash", true);
  RETURN NEW;
END $$;

CREATE FUNCTION "audit_log_chain_head"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  carried text := current_setting('warmth.audit_head', true);
  head_seq bigint;
BEGIN
  IF carried IS NOT NULL AND split_part(carried, ':', 1) = pg_current_xact_id_if_assigned()::text THEN
    head_seq := split_part(carried, ':', 2)::bigint;
    UPDATE "audit_chain" SET "seq" = head_seq, "hash" = split_part(carried, ':', 3)
    WHERE "id" = 1 AND "seq" <> head_seq;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "audit_log_chain_head"
AFTER INSERT ON "audit_log"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_chain_head"();
