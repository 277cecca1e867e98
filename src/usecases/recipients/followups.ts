import type { Db } from '../../adapters/db/client.ts';
import { addWorkingDays, shanghaiDateOf } from '../../domain/calendar/index.ts';
import { DomainError } from '../../domain/errors.ts';
import { maskName } from '../../domain/masking.ts';
import { audit } from '../audit.ts';

// 回访: staff follow-up tasks. Created by the pipeline (unreachable), by the recipient ("not received"),
// by a locked link, and by the sweep for payment notices nobody answered within N working days.
// Staff list the open ones (/followups) and close each with the outcome of their phone call.

export const DEFAULT_NO_ANSWER_WORKING_DAYS = 5;
/** Audit actions that count as the recipient's answer to a payment notice. */
export const RECEIPT_ACTIONS = ['receipt.received', 'receipt.not_received'] as const;

export type FollowUpKind = 'unreachable' | 'not_received' | 'no_answer' | 'link_locked';

/** Creates an open follow-up for staff (one per nomination and kind; a closed one is reopened). */
export async function openFollowUp(db: Db, nominationId: number, kind: FollowUpKind): Promise<void> {
  await db.followUp.upsert({
    where: { nominationId_kind: { nominationId, kind } },
    create: { nominationId, kind },
    update: { status: 'open', outcome: null, closedAt: null, closedById: null },
  });
}

export interface FollowUpItem {
  id: number;
  nominationId: number;
  kind: FollowUpKind;
  createdAt: Date;
  nameMasked: string;
  unionName: string;
  campaignCode: string;
}

export async function listOpenFollowUps(db: Db, opts: { limit?: number } = {}): Promise<FollowUpItem[]> {
  const rows = await db.followUp.findMany({
    where: { status: 'open' },
    orderBy: { id: 'asc' },
    take: opts.limit ?? 20,
    include: { nomination: { include: { union: true, campaign: true } } },
  });
  return rows.map((r) => ({
    id: r.id,
    nominationId: r.nominationId,
    kind: r.kind,
    createdAt: r.createdAt,
    nameMasked: maskName(r.nomination.fullName ?? ''),
    unionName: r.nomination.union.name,
    campaignCode: r.nomination.campaign.code,
  }));
}

export async function countOpenFollowUps(db: Db): Promise<number> {
  return db.followUp.count({ where: { status: 'open' } });
}

/** Closes an open follow-up with the outcome of the call; a second close is refused. */
export async function closeFollowUp(
  db: Db,
  input: { followUpId: number; actorId: number; outcome: string; now: Date },
): Promise<void> {
  const outcome = input.outcome.trim().slice(0, 500);
  if (!outcome) throw new DomainError('followup_outcome_empty');
  await db.$transaction(async (tx) => {
    const done = await tx.followUp.updateMany({
      where: { id: input.followUpId, status: 'open' },
      data: { status: 'closed', outcome, closedById: input.actorId, closedAt: input.now },
    });
    if (done.count === 0) throw new DomainError('followup_not_open', { id: input.followUpId });
    await audit(tx, {
      actorId: input.actorId,
      action: 'followup.closed',
      entity: 'follow_up',
      entityId: input.followUpId,
      after: { outcome },
    });
  });
}

/**
 * Payment notices sent at least N working days ago (campaign setting `followUpWorkingDays`, default 5)
 * with no answer from the recipient become `no_answer` follow-ups (once per nomination).
 */
export async function scanNoAnswer(
  db: Db,
  opts: { now: Date; workingDays?: number },
): Promise<{ created: number }> {
  // Prefilter on calendar days (N working days are at least N calendar days).
  const minDays = opts.workingDays ?? 1;
  const sent = await db.notice.findMany({
    where: {
      kind: 'payment',
      status: 'sent',
      nominationId: { not: null },
      sentAt: { lt: new Date(opts.now.getTime() - minDays * 86_400_000) },
      nomination: { followUps: { none: { kind: 'no_answer' } } },
    },
    select: { nominationId: true, sentAt: true, nomination: { select: { campaign: true } } },
    take: 1000,
  });
  const today = shanghaiDateOf(opts.now);
  let created = 0;
  for (const n of sent) {
    const settings = (n.nomination?.campaign.settings ?? {}) as { followUpWorkingDays?: unknown };
    const days =
      opts.workingDays ??
      (typeof settings.followUpWorkingDays === 'number'
        ? settings.followUpWorkingDays
        : DEFAULT_NO_ANSWER_WORKING_DAYS);
    if (addWorkingDays(shanghaiDateOf(n.sentAt!), days) > today) continue;
    const answered = await db.auditLog.count({
      where: { entity: 'nomination', entityId: String(n.nominationId), action: { in: [...RECEIPT_ACTIONS] } },
    });
    if (answered > 0) continue;
    await openFollowUp(db, n.nominationId!, 'no_answer');
    created++;
  }
  return { created };
}
