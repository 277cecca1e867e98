import type { Db } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';

// Outbound notices. One notice = one row with a unique key (recipient, nomination, kind): enqueueing the
// same notice twice creates one row and one job, and the sender claims the row before sending, so a
// retried job, a duplicated job or a crashed worker never sends it twice (at most once per key).

export const SEND_NOTICE_JOB = 'send-notice';

export type NoticeKind =
  | 'decision'
  | 'payment'
  | 'thank_you'
  | 'payment_failed'
  | 'returned'
  | 'handover'
  | 'reminder';

export interface NoticeRequest {
  /** e.g. `decision-<nominationId>-r<revision>` — the same key never sends twice. */
  uniqueKey: string;
  kind: NoticeKind;
  /** null: the recipient has no Telegram chat bound yet (sent by SMS if `smsFallback`). */
  personId: number | null;
  nominationId?: number;
  /** Recipient notices: if Telegram cannot deliver (no chat, 403), send it by SMS to the nomination's phone. */
  smsFallback?: boolean;
  /** Locale key rendered in the person's language at send time. */
  template: string;
  /** Non-sensitive values for the template; a value "@some.key" is itself translated. */
  params?: Record<string, string | number>;
  /** Optional inline buttons: [label locale key, callback action, ...args] per button, one row. */
  buttons?: { textKey: string; action: string; args: (string | number)[] }[];
}

export async function enqueueNotice(db: Db, queues: Queues, n: NoticeRequest) {
  const row = await db.notice.upsert({
    where: { uniqueKey: n.uniqueKey },
    create: {
      uniqueKey: n.uniqueKey,
      kind: n.kind,
      personId: n.personId,
      nominationId: n.nominationId ?? null,
      template: n.template,
      params: { values: n.params ?? {}, buttons: n.buttons ?? [], ...(n.smsFallback ? { sms: true } : {}) },
    },
    update: {},
  });
  if (row.status === 'queued') {
    await queues.get('notifications').add(SEND_NOTICE_JOB, { noticeId: row.id }, noticeJobOptions(row.id));
  }
  return row;
}

/** One job per notice: the id is the notice's, so adding it again while it exists adds nothing. */
function noticeJobOptions(noticeId: number) {
  return {
    jobId: `notice-${noticeId}`,
    attempts: 10,
    backoff: { type: 'exponential' as const, delay: 2_000 },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 10_000 },
  };
}

/**
 * Queues a job for every notice still `queued` in PostgreSQL (worker start; after a restore or a Redis
 * that lost its data). A notice whose job is still in Redis (waiting, delayed, active) gets nothing new
 * (same job id), and a job sends only after claiming its row, so nothing is sent twice. A job that used
 * up its attempts while its notice is still unsent (e.g. Telegram unreachable for longer than the
 * backoff, about 17 minutes) is retried.
 */
export async function requeueQueuedNotices(
  db: Db,
  queues: Queues,
  page = 1000,
): Promise<{ queued: number; retried: number }> {
  const queue = queues.get('notifications');
  let queued = 0;
  let retried = 0;
  for (let after = 0; ; ) {
    const rows = await db.notice.findMany({
      where: { status: 'queued', id: { gt: after } },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: page,
    });
    if (rows.length === 0) break;
    const states = await Promise.all(rows.map((r) => queue.getJobState(`notice-${r.id}`)));
    const failed = rows.filter((_, i) => states[i] === 'failed');
    for (const r of failed) {
      const job = await queue.getJob(`notice-${r.id}`);
      if (
        job &&
        (await job.retry('failed').then(
          () => true,
          () => false,
        ))
      )
        retried++;
    }
    await queue.addBulk(
      rows.map((r) => ({ name: SEND_NOTICE_JOB, data: { noticeId: r.id }, opts: noticeJobOptions(r.id) })),
    );
    queued += rows.length;
    after = rows.at(-1)!.id;
  }
  return { queued, retried };
}
