-- CreateTable
CREATE TABLE "cache_version" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "v" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "cache_version_pkey" PRIMARY KEY ("id")
);

-- The one row, and the triggers that bump it (README "Caches and invalidation"). Statement-level, so a
-- bulk change bumps once; the UPDATE takes part in the writer's transaction, so the new version becomes
-- visible together with the change (a reader that sees the new version also sees the new rows).
INSERT INTO "cache_version" ("id", "v") VALUES (1, 0) ON CONFLICT DO NOTHING;

CREATE FUNCTION bump_cache_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "cache_version" SET "v" = "v" + 1 WHERE "id" = 1;
  RETURN NULL;
END $$;

CREATE TRIGGER "campaign_cache_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "campaign"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER "campaign_category_cache_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "campaign_category"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER "grassroots_union_cache_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "grassroots_union"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER "role_grant_cache_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "role_grant"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
