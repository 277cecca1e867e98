-- CreateTable
CREATE TABLE "staff_job" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "actor_id" INTEGER NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "message_id" INTEGER,
    "locale" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "active_key" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "result" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "staff_job_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "staff_job_active_key_key" ON "staff_job"("active_key");

-- CreateIndex
CREATE INDEX "staff_job_status_idx" ON "staff_job"("status");
