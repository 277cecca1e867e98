-- DropIndex
DROP INDEX "nomination_campaign_id_status_idx";

-- CreateIndex
CREATE INDEX "nomination_campaign_id_status_amount_fen_idx" ON "nomination"("campaign_id", "status", "amount_fen");
