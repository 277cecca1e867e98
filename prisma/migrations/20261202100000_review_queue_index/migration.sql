-- /review and the review buttons ask for the next reviewable nominations in id order (LIMIT 25). With
-- only (campaign_id, status) to go by, PostgreSQL walked the primary key from the first nomination and
-- filtered out every decided one (120,000 rows skipped at 200,000 nominations, ~0.4 s a press). This
-- partial index holds only the nominations waiting for a reviewer, in id order. Prisma's schema cannot
-- express a partial index: hand-written, marked "manual" so the drift check leaves it alone.
CREATE INDEX "nomination_reviewable_id_idx" ON "nomination" ("id")
  WHERE "status" IN ('submitted', 'pending_second_approval');
COMMENT ON INDEX "nomination_reviewable_id_idx" IS 'manual: the review queue in id order (migration 20261202100000_review_queue_index)';
