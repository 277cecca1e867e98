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

/**
 * Records the notice once per unique key and queues its job while it is still queued. One statement
 * (insert, or read the existing row): Prisma's upsert sent five (a transaction around a read, the
 * insert and a read back), on every review decision.
 */
export async function enqueueNotice(
  db: Db,
  queues: Queues,
  n: NoticeRequest,
): Promise<{ id: number; status: string }> {
  const params = JSON.stringify({
    values: n.params ?? {},
    buttons: n.buttons ?? [],
    ...(n.smsFallback ? { sms: true } : {}),
  });
  const read = () =>
    db.$queryRaw<{ id: number; status: string }[]>`
      WITH ins AS (
        INSERT INTO notice (unique_key, kind, person_id, nomination_id, template, params)
        VALUES (${n.uniqueKey}, ${n.kind}::"NoticeKind", ${n.personId}::int, ${n.nominationId ?? null}::int,
          ${n.template}, ${params}::jsonb)
        ON CONFLICT (unique_key) DO NOTHING
        RETURNING id, status::text AS status)
      SELECT id, status FROM ins
      UNION ALL
      SELECT id, status::text FROM notice WHERE unique_key = ${n.uniqueKey}
      LIMIT 1`;
  // Empty only when another transaction inserted the same key and has not committed yet: its row is
  // visible once it has (ON CONFLICT waited for it).
  const row = (await read())[0] ?? (await read())[0];
  if (!row) throw new Error(`notice ${n.uniqueKey} neither inserted nor found`);
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
