import { DomainError } from '../../domain/errors.ts';
import { bulkEligible, reviewSettingsFrom } from '../../domain/review/rules.ts';
import { insertNotices, queueNoticeJobs } from '../notices.ts';
import { assertMayReview, contactNotice } from './decide-nomination.ts';
import type { ReviewDeps } from './deps.ts';
import { pendingWhere, type QueueFilter } from './queries.ts';

// Bulk approval of a long unflagged list (e.g. one union's frontline workers). The preview shows count
// and total; the confirmation carries the preview's count and highest id, and approves exactly those
// rows in one transaction only if they are still the same (otherwise a fresh preview is shown).
// Flagged items, and items whose amount needs a second approver, are excluded and listed.

export const BULK_MAX = 2_000;

export interface BulkPreview {
  campaignId: number;
  count: number;
  totalFen: number;
  maxId: number;
  excluded: {
    id: number;
    fullName: string | null;
    flags: string[];
    reason: 'flagged' | 'amount' | 'second' | 'own';
  }[];
}

async function candidates(
  deps: Pick<ReviewDeps, 'db'>,
  f: QueueFilter & { campaignId: number },
  maxId?: number,
  reviewerId?: number,
) {
  const campaign = await deps.db.campaign.findUnique({ where: { id: f.campaignId } });
  if (!campaign || campaign.status === 'archived') throw new DomainError('review_campaign_closed');
  const fourEyes = reviewSettingsFrom(campaign.settings).fourEyes;
  const rows = await deps.db.nomination.findMany({
    where: { AND: [pendingWhere({ ...f, flaggedOnly: false }), ...(maxId ? [{ id: { lte: maxId } }] : [])] },
    select: {
      id: true,
      status: true,
      flags: true,
      amountFen: true,
      fullName: true,
      version: true,
      revision: true,
      submittedById: true,
    },
    orderBy: { id: 'asc' },
  });
  const eligible = rows.filter((r) => bulkEligible(fourEyes, r, reviewerId)).slice(0, BULK_MAX);
  const excluded = rows
    .filter((r) => !bulkEligible(fourEyes, r, reviewerId))
    .map((r) => ({
      id: r.id,
      fullName: r.fullName,
      flags: r.flags,
      reason: (r.submittedById === reviewerId
        ? 'own'
        : r.status !== 'submitted'
          ? 'second'
          : r.flags.length > 0
            ? 'flagged'
            : 'amount') as BulkPreview['excluded'][number]['reason'],
    }));
  return { eligible, excluded };
}

export async function previewBulkApprove(
  deps: Pick<ReviewDeps, 'db'>,
  f: QueueFilter & { campaignId: number },
  reviewerId?: number,
): Promise<BulkPreview> {
  const { eligible, excluded } = await candidates(deps, f, undefined, reviewerId);
  return {
    campaignId: f.campaignId,
    count: eligible.length,
    totalFen: eligible.reduce((a, r) => a + (r.amountFen ?? 0), 0),
    maxId: eligible.at(-1)?.id ?? 0,
    excluded,
  };
}

export type BulkResult =
  | { outcome: 'approved'; count: number; totalFen: number; excluded: BulkPreview['excluded'] }
  /** The list changed since the preview (someone decided or submitted): nothing was approved. */
  | { outcome: 'changed'; preview: BulkPreview };

export async function bulkApprove(
  deps: ReviewDeps,
  input: {
    reviewerId: number;
    filter: QueueFilter & { campaignId: number };
    expectCount: number;
    maxId: number;
  },
): Promise<BulkResult> {
  const now = deps.now();
  const { eligible, excluded } = await candidates(deps, input.filter, input.maxId, input.reviewerId);
  const stale = async (): Promise<BulkResult> => ({
    outcome: 'changed',
    preview: await previewBulkApprove(deps, input.filter, input.reviewerId),
  });
  if (eligible.length !== input.expectCount || eligible.length === 0) return stale();
  const ids = eligible.map((r) => r.id);
  const notices = await deps.db
    .$transaction(
      async (tx) => {
        await assertMayReview(tx, input.reviewerId);
        // Same guard as a single decision, for all rows at once: unchanged version, still submitted, unflagged.
        const updated = await tx.$executeRaw`
        UPDATE nomination n SET status = 'approved', version = n.version + 1, decided_at = ${now}, updated_at = now()
        FROM unnest(${ids}::int[], ${eligible.map((r) => r.version)}::int[]) AS u(id, version)
        WHERE n.id = u.id AND n.version = u.version AND n.status = 'submitted' AND cardinality(n.flags) = 0`;
        if (updated !== ids.length) throw new BulkChanged();
        await tx.reviewDecision.createMany({
          data: eligible.map((r) => ({
            nominationId: r.id,
            revision: r.revision,
            kind: 'approve' as const,
            reviewerId: input.reviewerId,
            comment: 'bulk',
            createdAt: now,
          })),
        });
        await tx.auditLog.createMany({
          data: eligible.map((r) => ({
            actorId: input.reviewerId,
            action: 'review.approve',
            entity: 'nomination',
            entityId: String(r.id),
            before: { status: 'submitted', revision: r.revision, version: r.version },
            after: { status: 'approved', revision: r.revision, kind: 'approve', bulk: true },
          })),
        });
        // The contacts' notices commit with the decisions (as a single decision's do).
        return insertNotices(
          tx,
          eligible.map((r) =>
            contactNotice({
              nominationId: r.id,
              revision: r.revision,
              personId: r.submittedById,
              fullName: r.fullName,
              status: 'approved',
              reason: null,
              comment: null,
            }),
          ),
        );
      },
      { timeout: 60_000 },
    )
    .catch((err: unknown) => {
      if (err instanceof BulkChanged) return undefined;
      throw err;
    });
  if (!notices) return stale();
  // After the commit: a crash before this leaves rows the minute notice sweep gives their jobs.
  await queueNoticeJobs(deps.queues, notices);
  return {
    outcome: 'approved',
    count: eligible.length,
    totalFen: eligible.reduce((a, r) => a + (r.amountFen ?? 0), 0),
    excluded,
  };
}

class BulkChanged extends Error {}
