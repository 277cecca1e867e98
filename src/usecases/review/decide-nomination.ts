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
import type { Tx } from '../../adapters/db/client.ts';
import { audit } from '../audit.ts';
import { campaignRow } from '../cached-reads.ts';
import { enqueueNotice } from '../notices.ts';
import type { ReviewDeps } from './deps.ts';

// One review decision. The nomination row is the lock: `updateMany where { id, version, status }` lets
// exactly one of several reviewers pressing at once through; the others get count 0 and are told who
// decided and how (or that their card is stale). Decision, status and audit row commit together; the
// contact's notice is queued after the commit (a Notice row per key, so it is sent at most once).

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
    }
  /** Someone else decided this revision first. */
  | { outcome: 'taken'; by: string; byId: number; kind: DecisionKind; status: string; at: Date }
  /** The nomination changed since the card was drawn (resubmitted, withdrawn …). */
  | { outcome: 'stale'; status: string };

export const reasonParam = (reason: string) =>
  (REJECT_REASONS as readonly string[]).includes(reason)
    ? `@review.reasons.${reason}`
    : reason.replace(/^@+/, '');

/**
 * The decider still holds a review role, read inside the decision's transaction: a reviewer revoked
 * after pressing 不通过 (and before typing the reason) must not decide, whatever the chat shell believed.
 */
export async function assertMayReview(tx: Tx, personId: number): Promise<void> {
  const grants = await tx.roleGrant.count({
    where: { personId, role: { in: [...REVIEW_ROLES] }, revokedAt: null },
  });
  if (grants === 0) throw new DomainError('forbidden');
}

export async function decideNomination(deps: ReviewDeps, input: DecideInput): Promise<DecideResult> {
  const now = deps.now();
  const result = await deps.db.$transaction(async (tx) => {
    await assertMayReview(tx, input.reviewerId);
    const n = await tx.nomination.findUnique({ where: { id: input.nominationId } });
    if (!n) throw new DomainError('nomination_not_found');
    // Status and settings as of this update's start (the cache is checked once per update).
    const campaign = await campaignRow(tx, n.campaignId);
    if (!campaign) throw new DomainError('nomination_not_found');
    if (campaign.status === 'archived') throw new DomainError('review_campaign_closed');
    if (n.version !== input.version || n.revision !== input.revision) return null;
    const first =
      n.status === 'pending_second_approval'
        ? await tx.reviewDecision.findUnique({
            where: {
              nominationId_revision_kind: { nominationId: n.id, revision: n.revision, kind: 'approve' },
            },
          })
        : null;
    const plan = planDecision({
      status: n.status,
      action: input.action,
      reviewerId: input.reviewerId,
      firstApproverId: first?.reviewerId ?? null,
      fourEyes: reviewSettingsFrom(campaign.settings).fourEyes,
      amountFen: n.amountFen,
      flags: n.flags,
      reason: input.reason ?? null,
      comment: input.comment ?? null,
      submittedById: n.submittedById,
      payable: payableGaps({ ...n, hasBankCard: n.bankCardEnc !== null }).length === 0,
    });
    if (!plan.ok) {
      if (plan.code === 'review_not_pending') return null;
      throw new DomainError(plan.code);
    }
    const res = await tx.nomination.updateMany({
      where: { id: n.id, version: input.version, status: n.status },
      data: {
        status: plan.nextStatus,
        version: { increment: 1 },
        ...(plan.nextStatus === 'pending_second_approval' ? {} : { decidedAt: now }),
        // A rejected person may be nominated again (by another union, or after correction).
        ...(plan.nextStatus === 'rejected' ? { dedupKey: null } : {}),
      },
    });
    if (res.count === 0) return null;
    await tx.reviewDecision.create({
      data: {
        nominationId: n.id,
        revision: n.revision,
        kind: plan.kind,
        reviewerId: input.reviewerId,
        reason: input.action === 'reject' ? (input.reason?.trim() ?? null) : null,
        comment: input.comment?.trim() || null,
        createdAt: now,
      },
    });
    await audit(tx, {
      actorId: input.reviewerId,
      action: `review.${plan.kind}`,
      entity: 'nomination',
      entityId: n.id,
      before: { status: n.status, revision: n.revision, version: n.version },
      after: {
        status: plan.nextStatus,
        revision: n.revision,
        kind: plan.kind,
        ...(input.reason ? { reason: input.reason.trim() } : {}),
        ...(input.comment ? { comment: input.comment.trim() } : {}),
      },
    });
    return { kind: plan.kind, status: plan.nextStatus, n };
  });

  if (!result) return explainConflict(deps, input);
  const { n } = result;
  if (result.status !== 'pending_second_approval') {
    await notifyContact(deps, {
      nominationId: n.id,
      revision: n.revision,
      personId: n.submittedById,
      fullName: n.fullName,
      status: result.status,
      reason: input.reason ?? null,
      comment: input.comment ?? null,
    });
  }
  return {
    outcome: 'decided',
    kind: result.kind,
    status: result.status,
    nominationId: n.id,
    revision: n.revision,
  };
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
    };
  return { outcome: 'stale', status: n.status };
}

export async function notifyContact(
  deps: Pick<ReviewDeps, 'db' | 'queues'>,
  d: {
    nominationId: number;
    revision: number;
    personId: number;
    fullName: string | null;
    status: 'approved' | 'rejected' | 'returned';
    reason: string | null;
    comment: string | null;
  },
) {
  // The contact typed this name; it identifies the nominee to them (ID, phone and card never appear).
  const name = d.fullName ?? `#${d.nominationId}`;
  const params: Record<string, string | number> = { id: d.nominationId, name };
  if (d.status === 'rejected') params['reason'] = reasonParam(d.reason ?? '');
  if (d.status === 'returned') params['comment'] = (d.comment ?? '').replace(/^@+/, '');
  await enqueueNotice(deps.db, deps.queues, {
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
  });
}
