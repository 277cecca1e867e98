import { enqueueNotices } from '../notices.ts';
import { handoverNotices, type PaymentDeps, paidNotices } from './shared.ts';

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
