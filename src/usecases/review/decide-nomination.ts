import { DomainError } from '../../domain/errors.ts';
import {
  type DecisionKind,
  planDecision,
  REJECT_REASONS,
  REVIEW_ROLES,
  type ReviewAction,
  reviewSettingsFrom,
} from '../../domain/review/rules.ts';
import { payableGaps } from '../../domain/nomination/intake.ts';
import { type Db, Prisma, type Tx } from '../../adapters/db/client.ts';
import { sqlRows } from '../../adapters/db/direct-sql.ts';
import type { BenefitForm, NominationStatus } from '../../generated/prisma/enums.ts';
import { auditPayload } from '../audit.ts';
import { campaignRow } from '../cached-reads.ts';
import { enqueueNotice, insertNoticeSql, type NoticeRequest, queueNoticeJob } from '../notices.ts';
import type { ReviewDeps } from './deps.ts';

// One review decision. The nomination row is the lock: `updateMany where { id, version, status }` lets
// exactly one of several reviewers pressing at once through; the others get count 0 and are told who
// decided and how (or that their card is stale). Decision, status, audit row and the contact's Notice
// row (one per key, so it is sent at most once) commit together; its job is queued after the commit.

export interface DecideInput {
  reviewerId: number;
  nominationId: number;
  /** Revision and version the reviewer's card showed. */
  revision: number;
  version: number;
  action: ReviewAction;
  /** A REJECT_REASONS code or typed text (reject). */
  reason?: string | null;
  /** Required for return; optional note otherwise. */
  comment?: string | null;
}

export type DecideResult =
  | {
      outcome: 'decided';
      kind: DecisionKind;
      status: 'approved' | 'pending_second_approval' | 'rejected' | 'returned';
      nominationId: number;
      revision: number;
      campaignId: number;
    }
  /** Someone else decided this revision first. */
  | {
      outcome: 'taken';
      by: string;
      byId: number;
      kind: DecisionKind;
      status: string;
      at: Date;
      campaignId: number;
    }
  /** The nomination changed since the card was drawn (resubmitted, withdrawn …). */
  | { outcome: 'stale'; status: string; campaignId: number };

export const reasonParam = (reason: string) =>
  (REJECT_REASONS as readonly string[]).includes(reason)
    ? `@review.reasons.${reason}`
    : reason.replace(/^@+/, '');

/**
 * The decider still holds a review role, read inside the decision's transaction: a reviewer revoked
 * after pressing 不通过 (and before typing the reason) must not decide, whatever the chat shell believed.
 */
export async function assertMayReview(tx: Tx, personId: number): Promise<void> {
  if (!(await mayReview(tx, personId))) throw new DomainError('forbidden');
}

/** What a decision needs to know about the nomination and the reviewer, read in one statement. */
interface DecisionFacts {
  id: number;
  campaignId: number;
  status: NominationStatus;
  version: number;
  revision: number;
  amountFen: number | null;
  flags: string[];
  submittedById: number;
  fullName: string | null;
  benefitForm: BenefitForm | null;
  bankName: string | null;
  hasBankCard: boolean;
  employer: string | null;
  firstApproverId: number | null;
  mayReview: boolean;
}

/**
 * Records one decision in two statements (a review press is the busiest path of the bot; README "Query
 * budgets"): one read of the nomination, the first approval of its revision and the reviewer's grant,
 * then one statement that makes the guarded UPDATE, the ReviewDecision, the audit row and (a final
 * decision) the contact's Notice row together (a single statement is atomic; the audit trigger links
 * the row into the chain in it). The UPDATE's guard repeats the read's facts: same version and status,
 * and the reviewer still holds a review role, so a reviewer revoked, or another decision made, between
 * the two statements changes nothing.
 *
 * `reply`, when given, runs as soon as the decision is committed, before the notice's job is queued:
 * the reviewer's card does not wait for the queue.
 */
export async function decideNomination(
  deps: ReviewDeps,
  input: DecideInput,
  reply?: (r: DecideResult) => Promise<unknown>,
): Promise<DecideResult> {
  const now = deps.now();
  const roles = [...REVIEW_ROLES];
  // The reviewer still holds a review role: read with the facts, and re-checked by the write's guard.
  const holdsReviewRole = Prisma.sql`EXISTS (SELECT 1 FROM role_grant g WHERE g.person_id = ${input.reviewerId}
    AND g.role::text = ANY(${roles}::text[]) AND g.revoked_at IS NULL)`;
  const [n] = await sqlRows<DecisionFacts>(deps.db)`
    SELECT n.id, n.campaign_id AS "campaignId", n.status::text AS status, n.version, n.revision,
      n.amount_fen AS "amountFen", COALESCE(n.flags, '{}') AS flags, n.submitted_by_id AS "submittedById", n.full_name AS "fullName",
      n.benefit_form::text AS "benefitForm", n.bank_name AS "bankName",
      n.bank_card_enc IS NOT NULL AS "hasBankCard", n.employer,
      (SELECT d.reviewer_id FROM review_decision d
        WHERE d.nomination_id = n.id AND d.revision = n.revision AND d.kind = 'approve') AS "firstApproverId",
      ${holdsReviewRole} AS "mayReview"
    FROM nomination n WHERE n.id = ${input.nominationId}`;
  // The decider still holds a review role (a reviewer revoked after pressing 不通过 and before typing
  // the reason must not decide, whatever the chat shell believed).
  if (n && !n.mayReview) throw new DomainError('forbidden');
  if (!n) throw new DomainError('nomination_not_found');
  // Status and settings as of this update's start (the cache is checked once per update).
  const campaign = await campaignRow(deps.db, n.campaignId);
  if (!campaign) throw new DomainError('nomination_not_found');
  if (campaign.status === 'archived') throw new DomainError('review_campaign_closed');
  if (n.version !== input.version || n.revision !== input.revision) return explainConflict(deps, input);
  const plan = planDecision({
    status: n.status,
    action: input.action,
    reviewerId: input.reviewerId,
    firstApproverId: n.status === 'pending_second_approval' ? n.firstApproverId : null,
    fourEyes: reviewSettingsFrom(campaign.settings).fourEyes,
    amountFen: n.amountFen,
    flags: n.flags,
    reason: input.reason ?? null,
    comment: input.comment ?? null,
    submittedById: n.submittedById,
    payable: payableGaps(n).length === 0,
  });
  if (!plan.ok) {
    if (plan.code === 'review_not_pending') return explainConflict(deps, input);
    throw new DomainError(plan.code);
  }
  const final = plan.nextStatus !== 'pending_second_approval';
  const reason = input.action === 'reject' ? (input.reason?.trim() ?? null) : null;
  const comment = input.comment?.trim() || null;
  const before = JSON.stringify(auditPayload({ status: n.status, revision: n.revision, version: n.version }));
  const after = JSON.stringify(
    auditPayload({
      status: plan.nextStatus,
      revision: n.revision,
      kind: plan.kind,
      ...(input.reason ? { reason: input.reason.trim() } : {}),
      ...(input.comment ? { comment: input.comment.trim() } : {}),
    }),
  );
  // The contact hears of a final decision (approved, rejected, returned); the notice row is inserted by
  // the decision's statement, only when the decision was made.
  const notice =
    plan.nextStatus === 'pending_second_approval'
      ? null
      : contactNotice({
          nominationId: n.id,
          revision: n.revision,
          personId: n.submittedById,
          fullName: n.fullName,
          status: plan.nextStatus,
          reason: input.reason ?? null,
          comment: input.comment ?? null,
        });
  const [w] = await sqlRows<{ updated: number; noticeId: number | null; noticeStatus: string | null }>(
    deps.db,
  )`
    WITH upd AS (
      UPDATE nomination SET status = ${plan.nextStatus}::"NominationStatus", version = version + 1,
        decided_at = CASE WHEN ${final} THEN ${now}::timestamp(3) ELSE decided_at END,
        -- A rejected person may be nominated again (by another union, or after correction).
        dedup_key = CASE WHEN ${plan.nextStatus === 'rejected'} THEN NULL ELSE dedup_key END,
        updated_at = ${now}::timestamp(3)
      WHERE id = ${n.id} AND version = ${input.version} AND status = ${n.status}::"NominationStatus"
        AND ${holdsReviewRole}
      RETURNING id),
    decision AS (
      INSERT INTO review_decision (nomination_id, revision, kind, reviewer_id, reason, comment, created_at)
      SELECT id, ${n.revision}, ${plan.kind}::"DecisionKind", ${input.reviewerId}, ${reason}, ${comment},
        ${now}::timestamp(3) FROM upd),
    logged AS (
      INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
      SELECT ${input.reviewerId}, ${`review.${plan.kind}`}, 'nomination', id::text, ${before}::jsonb,
        ${after}::jsonb FROM upd),
    noticed AS (${notice ? insertNoticeSql(notice, Prisma.sql`FROM upd`) : Prisma.sql`SELECT NULL::int AS id, NULL::text AS status WHERE false`})
    SELECT (SELECT count(*)::int FROM upd) AS updated, (SELECT id FROM noticed) AS "noticeId",
      (SELECT status FROM noticed) AS "noticeStatus"`;
  if (!w || w.updated === 0) {
    // Revoked between the two statements, or someone else was first.
    if (!(await mayReview(deps.db, input.reviewerId))) throw new DomainError('forbidden');
    return explainConflict(deps, input);
  }
  const result: DecideResult = {
    outcome: 'decided',
    kind: plan.kind,
    status: plan.nextStatus,
    nominationId: n.id,
    revision: n.revision,
    campaignId: n.campaignId,
  };
  // The reply first (what the reviewer waits for), then the notice's job (its row is committed with the
  // decision; a row left without a job gets it from the minute notice sweep, or at the next worker start:
  // requeueQueuedNotices).
  // Both run to the end; the first failure is reported after (the card must not be edited while the
  // shell is already telling the reviewer about an error).
  const replied = await Promise.allSettled([reply?.(result)]);
  const queued = await Promise.allSettled([
    notice &&
      (w.noticeId !== null && w.noticeStatus !== null
        ? queueNoticeJob(deps.queues, { id: w.noticeId, status: w.noticeStatus })
        : // The key was already taken (an earlier final decision of this revision): its row as it is.
          enqueueNotice(deps.db, deps.queues, notice)),
  ]);
  for (const r of [...replied, ...queued]) if (r.status === 'rejected') throw r.reason;
  return result;
}

async function mayReview(db: Db | Tx, personId: number): Promise<boolean> {
  const grants = await db.roleGrant.count({
    where: { personId, role: { in: [...REVIEW_ROLES] }, revokedAt: null },
  });
  return grants > 0;
}

/** Count 0: read the decision that won (who and how), else the card is stale. */
export async function explainConflict(
  deps: Pick<ReviewDeps, 'db'>,
  input: { nominationId: number; revision: number },
): Promise<DecideResult> {
  const n = await deps.db.nomination.findUnique({ where: { id: input.nominationId } });
  if (!n) throw new DomainError('nomination_not_found');
  const last = await deps.db.reviewDecision.findFirst({
    where: { nominationId: n.id, revision: input.revision },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    include: { reviewer: { select: { displayName: true } } },
  });
  if (last && n.revision === input.revision)
    return {
      outcome: 'taken',
      by: last.reviewer.displayName,
      byId: last.reviewerId,
      kind: last.kind,
      status: n.status,
      at: last.createdAt,
      campaignId: n.campaignId,
    };
  return { outcome: 'stale', status: n.status, campaignId: n.campaignId };
}

interface ContactNoticeFacts {
  nominationId: number;
  revision: number;
  personId: number;
  fullName: string | null;
  status: 'approved' | 'rejected' | 'returned';
  reason: string | null;
  comment: string | null;
}

/** The contact's notice of a final decision (one per revision). */
export function contactNotice(d: ContactNoticeFacts): NoticeRequest {
  // The contact typed this name; it identifies the nominee to them (ID, phone and card never appear).
  const name = d.fullName ?? `#${d.nominationId}`;
  const params: Record<string, string | number> = { id: d.nominationId, name };
  if (d.status === 'rejected') params['reason'] = reasonParam(d.reason ?? '');
  if (d.status === 'returned') params['comment'] = (d.comment ?? '').replace(/^@+/, '');
  return {
    // One final decision per revision: the same key never sends twice.
    uniqueKey: `review-${d.nominationId}-r${d.revision}`,
    kind: d.status === 'returned' ? 'returned' : 'decision',
    personId: d.personId,
    nominationId: d.nominationId,
    template: `review.notice_${d.status}`,
    params,
    ...(d.status === 'returned'
      ? { buttons: [{ textKey: 'review.btn_fix', action: 'rv_fix', args: [d.nominationId] }] }
      : {}),
  };
}
