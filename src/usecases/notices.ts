import { type Db, uniqueViolation } from '../adapters/db/client.ts';
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
  // The same key from two processes at once (several bots and workers): the loser of the insert race
  // reads the winner's row (an upsert is not atomic; its insert fails on the unique key).
  const row = await upsertNotice(db, n).catch(async (err: unknown) => {
    if (!uniqueViolation(err)) throw err;
    return db.notice.findUniqueOrThrow({ where: { uniqueKey: n.uniqueKey } });
  });
  if (row.status === 'queued') {
    await queues.get('notifications').add(
      SEND_NOTICE_JOB,
      { noticeId: row.id },
      {
        jobId: `notice-${row.id}`,
        attempts: 10,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { count: 10_000 },
        removeOnFail: { count: 10_000 },
      },
    );
  }
  return row;
}

function upsertNotice(db: Db, n: NoticeRequest) {
  return db.notice.upsert({
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
}
