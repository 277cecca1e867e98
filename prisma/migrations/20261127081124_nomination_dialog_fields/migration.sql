-- AlterTable
ALTER TABLE "nomination" ADD COLUMN     "draft_answered" TEXT[],
ADD COLUMN     "model_worker_level" TEXT,
ADD COLUMN     "work_status" TEXT;
