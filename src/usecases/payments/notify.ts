import type { Db } from '../../adapters/db/client.ts';
import type { Queues } from '../../adapters/queue/queues.ts';
import { type NoticeRequest, SEND_NOTICE_JOB } from '../notices.ts';
import { handoverNotices, type PaymentDeps, paidNotices } from './shared.ts';

// Many notices at once (a paid batch): one INSERT per chunk (existing keys skipped), then one addBulk of
// jobs with fixed ids `notice-<id>`. Same guarantees as enqueueNotice: one row and one job per key.

const CHUNK = 1000;
/** Small chunks first, so the worker can start sending while the rest is still being queued. */
const FIRST_CHUNKS = [50, 200];

export async function enqueueNotices(db: Db, queues: Queues, list: NoticeRequest[]): Promise<number> {
  let queued = 0;
  for (let i = 0, n = 0; i < list.length; n++) {
    const size = FIRST_CHUNKS[n] ?? CHUNK;
    const chunk = list.slice(i, i + size);
    i += size;
    await db.notice.createMany({
      data: chunk.map((n) => ({
        uniqueKey: n.uniqueKey,
        kind: n.kind,
        personId: n.personId,
        nominationId: n.nominationId ?? null,
        template: n.template,
        params: { values: n.params ?? {}, buttons: n.buttons ?? [], ...(n.smsFallback ? { sms: true } : {}) },
      })),
      skipDuplicates: true,
    });
    const rows = await db.notice.findMany({
      where: { uniqueKey: { in: chunk.map((n) => n.uniqueKey) }, status: 'queued' },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    await queues.get('notifications').addBulk(
      rows.map((r) => ({
        name: SEND_NOTICE_JOB,
        data: { noticeId: r.id },
        opts: {
          jobId: `notice-${r.id}`,
          attempts: 10,
          backoff: { type: 'exponential', delay: 2_000 },
          removeOnComplete: { count: 10_000 },
          removeOnFail: { count: 10_000 },
        },
      })),
    );
    queued += rows.length;
  }
  return queued;
}

/**
 * A recipient who binds their chat after being paid (they were told by SMS, or not at all) gets the
 * payment notice and the letter in the chat too: once, under their own keys.
 */
export async function deliverAfterBinding(deps: PaymentDeps, nominationId: number): Promise<number> {
  const n = await deps.db.nomination.findUnique({
    where: { id: nominationId },
    include: {
      campaign: { select: { code: true, organiser: true, titleZh: true } },
      payments: { where: { status: 'paid' }, orderBy: { paidAt: 'desc' }, take: 1 },
      handovers: { take: 1 },
      notices: {
        where: { kind: { in: ['payment', 'handover'] }, status: 'sent', channel: 'telegram' },
        select: { id: true },
      },
    },
  });
  if (!n || n.recipientId === null || n.notices.length > 0) return 0;
  const handover = n.handovers[0];
  if (n.status === 'handed_over' && handover) {
    const date = handover.handedOverOn.toISOString().slice(0, 10);
    const list = handoverNotices(deps, n, date).map((r) => ({
      ...r,
      uniqueKey: `${r.uniqueKey}-bound`,
      smsFallback: false,
    }));
    return enqueueNotices(deps.db, deps.queues, list);
  }
  if (n.status !== 'paid') return 0;
  const payment = n.payments[0];
  if (!payment?.paidAt) return 0;
  const list = paidNotices(deps, n, {
    id: payment.id,
    amountFen: payment.amountFen,
    paidAt: payment.paidAt,
  }).map((r) => ({
    ...r,
    uniqueKey: `${r.uniqueKey}-bound`,
    smsFallback: false,
  }));
  return enqueueNotices(deps.db, deps.queues, list);
}
