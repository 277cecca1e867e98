-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "NoticeKind" ADD VALUE 'campaign_opened';
ALTER TYPE "NoticeKind" ADD VALUE 'announcement';
ALTER TYPE "NoticeKind" ADD VALUE 'deadline_changed';

-- AlterTable
ALTER TABLE "campaign" ADD COLUMN     "notice_document" TEXT;

-- AlterTable
ALTER TABLE "notice" ADD COLUMN     "acknowledged_at" TIMESTAMP(3),
ADD COLUMN     "announcement_id" INTEGER,
ADD COLUMN     "campaign_id" INTEGER;

-- CreateTable
CREATE TABLE "campaign_document" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "file_name" TEXT NOT NULL,
    "file_id" TEXT NOT NULL,
    "file_unique_id" TEXT NOT NULL,
    "mime_type" TEXT,
    "size_bytes" INTEGER,
    "uploaded_by_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaign_document_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "announcement" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'announcement',
    "text" TEXT,
    "file_id" TEXT,
    "file_name" TEXT,
    "audience" TEXT NOT NULL,
    "union_id" INTEGER,
    "recipients" INTEGER NOT NULL DEFAULT 0,
    "request_key" TEXT NOT NULL,
    "created_by_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "announcement_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "campaign_document_campaign_id_file_name_key" ON "campaign_document"("campaign_id", "file_name");

-- CreateIndex
CREATE UNIQUE INDEX "announcement_request_key_key" ON "announcement"("request_key");

-- CreateIndex
CREATE INDEX "announcement_campaign_id_idx" ON "announcement"("campaign_id");

-- CreateIndex
CREATE INDEX "role_grant_union_id_idx" ON "role_grant"("union_id");

-- CreateIndex
CREATE INDEX "notice_campaign_id_person_id_idx" ON "notice"("campaign_id", "person_id");

-- AddForeignKey
ALTER TABLE "notice" ADD CONSTRAINT "notice_announcement_id_fkey" FOREIGN KEY ("announcement_id") REFERENCES "announcement"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_document" ADD CONSTRAINT "campaign_document_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "announcement" ADD CONSTRAINT "announcement_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
