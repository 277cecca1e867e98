-- AlterTable
ALTER TABLE "nomination" ADD COLUMN     "bank_card_hash" TEXT;

-- CreateIndex
CREATE INDEX "nomination_campaign_id_bank_card_hash_idx" ON "nomination"("campaign_id", "bank_card_hash");

-- Existing nominations get their card hash when the data key is next rotated (`npm run keys -- rotate`
-- re-hashes every field); the hash needs the key, which SQL does not have. Until then, cards stored
-- before this migration are not compared.
