import type { Db } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import { openFollowUp } from './recipients/followups.ts';

// Notices stuck in `sending`: a worker claimed them and then died (SIGKILL, OOM, power loss) before it
// recorded the outcome. Whether Telegram got the message is unknown, and at most once is the rule, so
// they are NOT resent: each becomes failed with lastError "uncertain: ..." plus a staff follow-up
// (`unreachable`: phone the recipient). A live send never takes minutes, so `olderThanMs` (default 5 min)
// cannot catch a send still in flight.

export const SWEEP_NOTICES_JOB = 'sweep-notices';
export const DEFAULT_STUCK_MS = 5 * 60_000;

export interface SweepResult {
  stuck: number;
  marked: number;
  noticeIds: number[];
}

export async function sweepStuckNotices(
  db: Db,
  opts: { now: Date; olderThanMs?: number; limit?: number },
): Promise<SweepResult> {
  const cutoff = new Date(opts.now.getTime() - (opts.olderThanMs ?? DEFAULT_STUCK_MS));
  const rows = await db.notice.findMany({
    where: { status: 'sending', claimedAt: { lt: cutoff } },
    select: { id: true, nominationId: true, claimedAt: true },
    orderBy: { id: 'asc' },
    take: opts.limit ?? 1000,
  });
  const noticeIds: number[] = [];
  for (const r of rows) {
    const ok = await markUncertain(
      db,
      r.id,
      r.nominationId,
      `uncertain: worker stopped while sending (claimed ${r.claimedAt?.toISOString() ?? '?'})`,
    );
    if (ok) noticeIds.push(r.id);
  }
  return { stuck: rows.length, marked: noticeIds.length, noticeIds };
}

/** Repeats the sweep every `everyMs` on the notifications queue (idempotent: a fixed scheduler id). */
export async function scheduleNoticeSweeper(queues: Queues, everyMs = 60_000): Promise<void> {
  await queues
    .get('notifications')
    .upsertJobScheduler(
      'notice-sweeper',
      { every: everyMs },
      { name: SWEEP_NOTICES_JOB, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
}

/** A claimed notice whose delivery is unknown: failed, never resent, and handed to staff. */
export async function markUncertain(
  db: Db,
  noticeId: number,
  nominationId: number | null,
  reason: string,
): Promise<boolean> {
  const done = await db.notice.updateMany({
    where: { id: noticeId, status: 'sending' },
    data: { status: 'failed', lastError: reason.slice(0, 300) },
  });
  if (done.count === 0) return false;
  await db.noticeAttempt.create({
    data: { noticeId, channel: 'telegram', outcome: 'uncertain', error: reason.slice(0, 300) },
  });
  if (nominationId) await openFollowUp(db, nominationId, 'unreachable');
  return true;
}
