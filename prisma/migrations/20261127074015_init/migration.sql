-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'reviewer', 'finance', 'contact', 'recipient');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('draft', 'open', 'closed', 'archived');

-- CreateEnum
CREATE TYPE "CategoryKind" AS ENUM ('department', 'needy_worker', 'needy_model_worker', 'gig_worker', 'frontline_worker', 'other');

-- CreateEnum
CREATE TYPE "BenefitForm" AS ENUM ('transfer', 'in_kind', 'unit_condolence');

-- CreateEnum
CREATE TYPE "NominationStatus" AS ENUM ('draft', 'submitted', 'returned', 'pending_second_approval', 'approved', 'rejected', 'withdrawn', 'in_batch', 'paid', 'payment_failed', 'handed_over');

-- CreateEnum
CREATE TYPE "Sex" AS ENUM ('male', 'female');

-- CreateEnum
CREATE TYPE "DecisionKind" AS ENUM ('approve', 'second_approve', 'reject', 'return');

-- CreateEnum
CREATE TYPE "BatchStatus" AS ENUM ('open', 'exported', 'paid', 'reconciled', 'cancelled');

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('pending', 'paid', 'failed');

-- CreateEnum
CREATE TYPE "NoticeKind" AS ENUM ('decision', 'payment', 'thank_you', 'payment_failed', 'returned', 'handover', 'reminder');

-- CreateEnum
CREATE TYPE "NoticeChannel" AS ENUM ('telegram', 'sms');

-- CreateEnum
CREATE TYPE "NoticeStatus" AS ENUM ('queued', 'sending', 'sent', 'failed', 'unreachable');

-- CreateEnum
CREATE TYPE "ReminderStatus" AS ENUM ('scheduled', 'sent', 'cancelled');

-- CreateEnum
CREATE TYPE "FollowUpKind" AS ENUM ('unreachable', 'not_received', 'no_answer', 'link_locked');

-- CreateEnum
CREATE TYPE "FollowUpStatus" AS ENUM ('open', 'closed');

-- CreateTable
CREATE TABLE "federation" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "federation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "assistance_center" (
    "id" SERIAL NOT NULL,
    "federation_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "phone" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "assistance_center_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grassroots_union" (
    "id" SERIAL NOT NULL,
    "federation_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "code" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "grassroots_union_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "person" (
    "id" SERIAL NOT NULL,
    "telegram_id" BIGINT,
    "display_name" TEXT NOT NULL,
    "username" TEXT,
    "locale" TEXT,
    "telegram_language" TEXT,
    "phone_hash" TEXT,
    "blocked_bot_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "person_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "role_grant" (
    "id" SERIAL NOT NULL,
    "person_id" INTEGER NOT NULL,
    "role" "Role" NOT NULL,
    "scope" TEXT NOT NULL DEFAULT '',
    "union_id" INTEGER,
    "granted_by_id" INTEGER,
    "granted_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),
    "revoked_by_id" INTEGER,

    CONSTRAINT "role_grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invite" (
    "id" SERIAL NOT NULL,
    "code_hash" TEXT NOT NULL,
    "union_id" INTEGER NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'contact',
    "created_by_id" INTEGER NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "max_uses" INTEGER NOT NULL DEFAULT 1,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "revoked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invite_redemption" (
    "id" SERIAL NOT NULL,
    "invite_id" INTEGER NOT NULL,
    "person_id" INTEGER NOT NULL,
    "redeemed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invite_redemption_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "federation_id" INTEGER NOT NULL,
    "title_zh" TEXT NOT NULL,
    "title_en" TEXT NOT NULL,
    "organiser" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'draft',
    "budget_total_fen" BIGINT NOT NULL,
    "budget_unions_fen" BIGINT NOT NULL DEFAULT 0,
    "nomination_opens_at" TIMESTAMP(3) NOT NULL,
    "nomination_closes_at" TIMESTAMP(3) NOT NULL,
    "review_deadline" TIMESTAMP(3) NOT NULL,
    "target_payment_date" DATE NOT NULL,
    "entry_working_days" INTEGER NOT NULL DEFAULT 30,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "source_hash" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_category" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "name_zh" TEXT NOT NULL,
    "name_en" TEXT NOT NULL,
    "kind" "CategoryKind" NOT NULL,
    "standard_amount_fen" INTEGER NOT NULL,
    "benefit_forms" "BenefitForm"[],
    "required_fields" TEXT[],
    "quota_per_union" INTEGER,
    "yearly_cap_fen" INTEGER,
    "sort_order" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_category_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nomination" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "category_id" INTEGER,
    "union_id" INTEGER NOT NULL,
    "submitted_by_id" INTEGER NOT NULL,
    "recipient_id" INTEGER,
    "status" "NominationStatus" NOT NULL DEFAULT 'draft',
    "revision" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 0,
    "full_name" TEXT,
    "id_number_enc" TEXT,
    "id_number_hash" TEXT,
    "dedup_key" TEXT,
    "birth_date" DATE,
    "sex" "Sex",
    "phone_enc" TEXT,
    "phone_hash" TEXT,
    "employer" TEXT,
    "hardship_tier" TEXT,
    "main_cause" TEXT,
    "secondary_causes" TEXT[],
    "description" TEXT,
    "benefit_form" "BenefitForm",
    "bank_name" TEXT,
    "bank_card_enc" TEXT,
    "bank_card_last4" TEXT,
    "amount_fen" INTEGER,
    "flags" TEXT[],
    "draft_step" TEXT,
    "draft_expires_at" TIMESTAMP(3),
    "source" TEXT NOT NULL DEFAULT 'dialog',
    "submitted_at" TIMESTAMP(3),
    "decided_at" TIMESTAMP(3),
    "entered_provincial_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "nomination_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nomination_revision" (
    "id" SERIAL NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL,
    "snapshot" JSONB NOT NULL,
    "created_by_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nomination_revision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "review_decision" (
    "id" SERIAL NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL,
    "kind" "DecisionKind" NOT NULL,
    "reviewer_id" INTEGER NOT NULL,
    "reason" TEXT,
    "comment" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "review_decision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_batch" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "status" "BatchStatus" NOT NULL DEFAULT 'open',
    "total_fen" BIGINT NOT NULL DEFAULT 0,
    "item_count" INTEGER NOT NULL DEFAULT 0,
    "created_by_id" INTEGER NOT NULL,
    "paid_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment" (
    "id" SERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "amount_fen" INTEGER NOT NULL,
    "status" "PaymentStatus" NOT NULL DEFAULT 'pending',
    "failure_reason" TEXT,
    "paid_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "handover" (
    "id" SERIAL NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "handed_over_on" DATE NOT NULL,
    "handed_over_by" TEXT NOT NULL,
    "recorded_by_id" INTEGER NOT NULL,
    "photo_file_id" TEXT,
    "note" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "handover_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recipient_link" (
    "id" SERIAL NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "locked_at" TIMESTAMP(3),
    "bound_person_id" INTEGER,
    "bound_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recipient_link_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notice" (
    "id" SERIAL NOT NULL,
    "unique_key" TEXT NOT NULL,
    "kind" "NoticeKind" NOT NULL,
    "person_id" INTEGER,
    "nomination_id" INTEGER,
    "channel" "NoticeChannel" NOT NULL DEFAULT 'telegram',
    "status" "NoticeStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "template" TEXT NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "claimed_at" TIMESTAMP(3),
    "sent_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notice_attempt" (
    "id" SERIAL NOT NULL,
    "notice_id" INTEGER NOT NULL,
    "channel" "NoticeChannel" NOT NULL,
    "outcome" TEXT NOT NULL,
    "error_code" INTEGER,
    "error" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notice_attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reminder" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "campaign_id" INTEGER,
    "person_id" INTEGER,
    "nomination_id" INTEGER,
    "due_at" TIMESTAMP(3) NOT NULL,
    "status" "ReminderStatus" NOT NULL DEFAULT 'scheduled',
    "sent_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "reminder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "follow_up" (
    "id" SERIAL NOT NULL,
    "nomination_id" INTEGER NOT NULL,
    "kind" "FollowUpKind" NOT NULL,
    "status" "FollowUpStatus" NOT NULL DEFAULT 'open',
    "outcome" TEXT,
    "closed_by_id" INTEGER,
    "closed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "follow_up_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" INTEGER,
    "action" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "request_id" TEXT,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "grassroots_union_code_key" ON "grassroots_union"("code");

-- CreateIndex
CREATE UNIQUE INDEX "grassroots_union_federation_id_name_key" ON "grassroots_union"("federation_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "person_telegram_id_key" ON "person"("telegram_id");

-- CreateIndex
CREATE INDEX "role_grant_role_revoked_at_idx" ON "role_grant"("role", "revoked_at");

-- CreateIndex
CREATE UNIQUE INDEX "role_grant_person_id_role_scope_key" ON "role_grant"("person_id", "role", "scope");

-- CreateIndex
CREATE UNIQUE INDEX "invite_code_hash_key" ON "invite"("code_hash");

-- CreateIndex
CREATE UNIQUE INDEX "invite_redemption_invite_id_person_id_key" ON "invite_redemption"("invite_id", "person_id");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_code_key" ON "campaign"("code");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_category_campaign_id_code_key" ON "campaign_category"("campaign_id", "code");

-- CreateIndex
CREATE UNIQUE INDEX "nomination_dedup_key_key" ON "nomination"("dedup_key");

-- CreateIndex
CREATE INDEX "nomination_campaign_id_status_idx" ON "nomination"("campaign_id", "status");

-- CreateIndex
CREATE INDEX "nomination_union_id_status_idx" ON "nomination"("union_id", "status");

-- CreateIndex
CREATE INDEX "nomination_submitted_by_id_status_idx" ON "nomination"("submitted_by_id", "status");

-- CreateIndex
CREATE INDEX "nomination_id_number_hash_idx" ON "nomination"("id_number_hash");

-- CreateIndex
CREATE UNIQUE INDEX "nomination_revision_nomination_id_revision_key" ON "nomination_revision"("nomination_id", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "review_decision_nomination_id_revision_kind_key" ON "review_decision"("nomination_id", "revision", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "payment_batch_code_key" ON "payment_batch"("code");

-- CreateIndex
CREATE INDEX "payment_nomination_id_idx" ON "payment"("nomination_id");

-- CreateIndex
CREATE UNIQUE INDEX "payment_batch_id_nomination_id_key" ON "payment"("batch_id", "nomination_id");

-- CreateIndex
CREATE UNIQUE INDEX "handover_nomination_id_key" ON "handover"("nomination_id");

-- CreateIndex
CREATE UNIQUE INDEX "recipient_link_token_hash_key" ON "recipient_link"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "notice_unique_key_key" ON "notice"("unique_key");

-- CreateIndex
CREATE INDEX "notice_status_idx" ON "notice"("status");

-- CreateIndex
CREATE INDEX "notice_attempt_notice_id_idx" ON "notice_attempt"("notice_id");

-- CreateIndex
CREATE UNIQUE INDEX "reminder_key_key" ON "reminder"("key");

-- CreateIndex
CREATE INDEX "reminder_status_due_at_idx" ON "reminder"("status", "due_at");

-- CreateIndex
CREATE UNIQUE INDEX "follow_up_nomination_id_kind_key" ON "follow_up"("nomination_id", "kind");

-- CreateIndex
CREATE INDEX "audit_log_entity_entity_id_idx" ON "audit_log"("entity", "entity_id");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- AddForeignKey
ALTER TABLE "assistance_center" ADD CONSTRAINT "assistance_center_federation_id_fkey" FOREIGN KEY ("federation_id") REFERENCES "federation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "grassroots_union" ADD CONSTRAINT "grassroots_union_federation_id_fkey" FOREIGN KEY ("federation_id") REFERENCES "federation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_grant" ADD CONSTRAINT "role_grant_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_grant" ADD CONSTRAINT "role_grant_granted_by_id_fkey" FOREIGN KEY ("granted_by_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_grant" ADD CONSTRAINT "role_grant_revoked_by_id_fkey" FOREIGN KEY ("revoked_by_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_grant" ADD CONSTRAINT "role_grant_union_id_fkey" FOREIGN KEY ("union_id") REFERENCES "grassroots_union"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invite" ADD CONSTRAINT "invite_union_id_fkey" FOREIGN KEY ("union_id") REFERENCES "grassroots_union"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invite" ADD CONSTRAINT "invite_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invite_redemption" ADD CONSTRAINT "invite_redemption_invite_id_fkey" FOREIGN KEY ("invite_id") REFERENCES "invite"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invite_redemption" ADD CONSTRAINT "invite_redemption_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_federation_id_fkey" FOREIGN KEY ("federation_id") REFERENCES "federation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_category" ADD CONSTRAINT "campaign_category_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "campaign_category"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_union_id_fkey" FOREIGN KEY ("union_id") REFERENCES "grassroots_union"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_submitted_by_id_fkey" FOREIGN KEY ("submitted_by_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nomination_revision" ADD CONSTRAINT "nomination_revision_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review_decision" ADD CONSTRAINT "review_decision_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review_decision" ADD CONSTRAINT "review_decision_reviewer_id_fkey" FOREIGN KEY ("reviewer_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment_batch" ADD CONSTRAINT "payment_batch_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment" ADD CONSTRAINT "payment_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "payment_batch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment" ADD CONSTRAINT "payment_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handover" ADD CONSTRAINT "handover_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipient_link" ADD CONSTRAINT "recipient_link_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notice" ADD CONSTRAINT "notice_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notice_attempt" ADD CONSTRAINT "notice_attempt_notice_id_fkey" FOREIGN KEY ("notice_id") REFERENCES "notice"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reminder" ADD CONSTRAINT "reminder_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "follow_up" ADD CONSTRAINT "follow_up_nomination_id_fkey" FOREIGN KEY ("nomination_id") REFERENCES "nomination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------------
-- Hand-written (not generated from schema.prisma; the drift check ignores functions and triggers).
--
-- audit_log is append-only. It is the trail auditors and the federation rely on to see who approved,
-- paid or changed what, so the application must never be able to rewrite or erase history, not even
-- by a bug or a stray `deleteMany`. The guard lives in the database so it holds for every client
-- (bot, worker, admin CLI, psql). Mistakes are corrected by appending a new entry. Only the table's
-- owner can lift it deliberately (ALTER TABLE audit_log DISABLE TRIGGER ...), e.g. for a retention purge.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Record a correcting entry instead of changing or removing an old one.';
END;
$$;

-- Row-level: UPDATE and DELETE of any entry.
CREATE TRIGGER "audit_log_no_update_delete"
BEFORE UPDATE OR DELETE ON "audit_log"
FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();

-- TRUNCATE bypasses row triggers, so it needs its own statement-level trigger.
CREATE TRIGGER "audit_log_no_truncate"
BEFORE TRUNCATE ON "audit_log"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
