/**
 * Review rules, pure: which decision a press makes from which status, when a second approver is needed
 * (four eyes), the review settings of a campaign, and the reasons a reviewer can pick.
 */

export type ReviewAction = 'approve' | 'reject' | 'return';
export type DecisionKind = 'approve' | 'second_approve' | 'reject' | 'return';

/** Statuses waiting for a reviewer (the review backlog). */
export const REVIEWABLE_STATUSES = ['submitted', 'pending_second_approval'] as const;
export type ReviewableStatus = (typeof REVIEWABLE_STATUSES)[number];

export const isReviewable = (status: string): status is ReviewableStatus =>
  (REVIEWABLE_STATUSES as readonly string[]).includes(status);

/** Reasons offered on the card when rejecting (locale keys review.reasons.<code>); any text may be typed too. */
/** Roles that may decide nominations (the chat commands and the decide use cases both use this). */
export const REVIEW_ROLES = ['reviewer', 'admin'] as const;

export const REJECT_REASONS = [
  'not_eligible',
  'info_false',
  'duplicate',
  'already_helped',
  'missing_documents',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface FourEyes {
  /** A second approval is needed above this amount (fen); null = never for the amount. */
  aboveAmountFen: number | null;
  /** A second approval is needed when the nomination carries any flag. */
  flagged: boolean;
}

export interface ReviewSettings {
  slaHours: number;
  /** Reviewers get at most one "new work" digest per this many minutes (per campaign). */
  digestMinutes: number;
  fourEyes: FourEyes;
}

export const REVIEW_DEFAULTS: ReviewSettings = {
  slaHours: 48,
  digestMinutes: 30,
  fourEyes: { aboveAmountFen: null, flagged: true },
};

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const posInt = (v: unknown, fallback: number) =>
  Number.isInteger(v) && (v as number) > 0 ? (v as number) : fallback;

/** From the stored `Campaign.settings` JSON (camelCase as loaded; snake_case accepted); defaults when missing. */
export function reviewSettingsFrom(json: unknown): ReviewSettings {
  const s = obj(json);
  const fe = obj(s['fourEyes'] ?? s['four_eyes']);
  const above = fe['aboveAmountFen'] ?? fe['above_amount_fen'];
  return {
    slaHours: posInt(s['reviewSlaHours'] ?? s['review_sla_hours'], REVIEW_DEFAULTS.slaHours),
    digestMinutes: posInt(
      s['reviewDigestMinutes'] ?? s['review_digest_minutes'],
      REVIEW_DEFAULTS.digestMinutes,
    ),
    fourEyes: {
      aboveAmountFen: typeof above === 'number' && above >= 0 ? above : null,
      flagged: typeof fe['flagged'] === 'boolean' ? fe['flagged'] : REVIEW_DEFAULTS.fourEyes.flagged,
    },
  };
}

/** Why an approval needs a second, different approver ([] = one approval is enough). */
export function secondApprovalReasons(
  fourEyes: FourEyes,
  n: { amountFen: number | null; flags: readonly string[] },
): ('amount' | 'flagged')[] {
  const out: ('amount' | 'flagged')[] = [];
  if (fourEyes.aboveAmountFen !== null && (n.amountFen ?? 0) > fourEyes.aboveAmountFen) out.push('amount');
  if (fourEyes.flagged && n.flags.length > 0) out.push('flagged');
  return out;
}

export type DecisionPlan =
  | {
      ok: true;
      kind: DecisionKind;
      nextStatus: 'approved' | 'pending_second_approval' | 'rejected' | 'returned';
    }
  | {
      ok: false;
      code:
        | 'review_not_pending'
        | 'review_same_approver'
        | 'review_reason_required'
        | 'review_comment_required'
        | 'review_own_nomination'
        | 'review_not_payable';
    };

/**
 * What pressing `action` does to a nomination in `status`. `firstApproverId` is who gave the first
 * approval of the current revision (only for pending_second_approval).
 */
export function planDecision(input: {
  status: string;
  action: ReviewAction;
  reviewerId: number;
  firstApproverId?: number | null;
  fourEyes: FourEyes;
  amountFen: number | null;
  flags: readonly string[];
  reason?: string | null;
  comment?: string | null;
  /** Who submitted the nomination: nobody decides on their own (a contact who is also a reviewer). */
  submittedById?: number | null;
  /** Whether it has what its benefit form needs to be paid (payableGaps is empty). */
  payable?: boolean;
}): DecisionPlan {
  if (!isReviewable(input.status)) return { ok: false, code: 'review_not_pending' };
  if (input.submittedById === input.reviewerId) return { ok: false, code: 'review_own_nomination' };
  if (input.action === 'reject') {
    if (!input.reason?.trim()) return { ok: false, code: 'review_reason_required' };
    return { ok: true, kind: 'reject', nextStatus: 'rejected' };
  }
  if (input.action === 'return') {
    if (!input.comment?.trim()) return { ok: false, code: 'review_comment_required' };
    return { ok: true, kind: 'return', nextStatus: 'returned' };
  }
  if (input.payable === false) return { ok: false, code: 'review_not_payable' };
  if (input.status === 'pending_second_approval') {
    if (input.firstApproverId === input.reviewerId) return { ok: false, code: 'review_same_approver' };
    return { ok: true, kind: 'second_approve', nextStatus: 'approved' };
  }
  return secondApprovalReasons(input.fourEyes, input).length > 0
    ? { ok: true, kind: 'approve', nextStatus: 'pending_second_approval' }
    : { ok: true, kind: 'approve', nextStatus: 'approved' };
}

/** Bulk approval may only take items one approval settles (no flags, not above the four-eyes amount). */
export function bulkEligible(
  fourEyes: FourEyes,
  n: { status: string; amountFen: number | null; flags: readonly string[]; submittedById?: number },
  reviewerId?: number,
) {
  return (
    n.status === 'submitted' &&
    n.flags.length === 0 &&
    secondApprovalReasons(fourEyes, n).length === 0 &&
    (reviewerId === undefined || n.submittedById !== reviewerId)
  );
}

/** Index of the digest window containing `at` (windows of `minutes`, aligned to the epoch). */
export const digestWindow = (at: Date, minutes: number) => Math.floor(at.getTime() / (minutes * 60_000));
export const digestWindowEnd = (window: number, minutes: number) => new Date((window + 1) * minutes * 60_000);

/** When SLA period `period` (1, 2, …) of a nomination submitted at `submittedAt` ends. */
export const slaDueAt = (submittedAt: Date, slaHours: number, period: number) =>
  new Date(submittedAt.getTime() + period * slaHours * 3_600_000);
