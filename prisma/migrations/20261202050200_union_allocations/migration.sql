-- CreateTable
CREATE TABLE "union_allocation" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "union_id" INTEGER NOT NULL,
    "amount_fen" BIGINT NOT NULL,
    "returned_fen" BIGINT NOT NULL DEFAULT 0,
    "evidence_file_id" TEXT,
    "reported_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "union_allocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "allocation_recipient" (
    "id" SERIAL NOT NULL,
    "allocation_id" INTEGER NOT NULL,
    "full_name" TEXT NOT NULL,
    "id_number_enc" TEXT NOT NULL,
    "id_number_hash" TEXT NOT NULL,
    "amount_fen" INTEGER NOT NULL,
    "goods" TEXT,
    "paid_on" DATE NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "allocation_recipient_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "union_allocation_campaign_id_union_id_key" ON "union_allocation"("campaign_id", "union_id");

-- CreateIndex
CREATE INDEX "allocation_recipient_id_number_hash_idx" ON "allocation_recipient"("id_number_hash");

-- CreateIndex
CREATE UNIQUE INDEX "allocation_recipient_allocation_id_id_number_hash_key" ON "allocation_recipient"("allocation_id", "id_number_hash");

-- AddForeignKey
ALTER TABLE "union_allocation" ADD CONSTRAINT "union_allocation_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "union_allocation" ADD CONSTRAINT "union_allocation_union_id_fkey" FOREIGN KEY ("union_id") REFERENCES "grassroots_union"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "allocation_recipient" ADD CONSTRAINT "allocation_recipient_allocation_id_fkey" FOREIGN KEY ("allocation_id") REFERENCES "union_allocation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
