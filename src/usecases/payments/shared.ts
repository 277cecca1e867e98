import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import type { Queues } from '../../adapters/queue/queues.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import { shanghaiDateOf } from '../../domain/calendar/index.ts';
import type { NoticeRequest } from '../notices.ts';

export interface PaymentDeps {
  db: Db;
  cipher: FieldCipher;
  queues: Queues;
  now: () => Date;
  /** Locale keys available (per-campaign thank-you letters); absent: the default letter. */
  hasKey?: (key: string) => boolean;
}

export const PAYMENT_STAFF = ['admin', 'finance'] as const;

/** The thank-you letter of a campaign: `recipients.letter.<campaign code>` if present, else the default. */
export function letterTemplate(deps: PaymentDeps, campaignCode: string): string {
  const key = `recipients.letter.${campaignCode.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return deps.hasKey?.(key) ? key : 'recipients.letter.default';
}

interface NoticeNomination {
  id: number;
  recipientId: number | null;
  submittedById: number;
  fullName: string | null;
  bankCardLast4: string | null;
  campaign: { code: string; organiser: string; titleZh: string };
}

/** The thank-you letter that follows a payment or a handover. */
function thankYouLetter(deps: PaymentDeps, n: NoticeNomination): NoticeRequest {
  return {
    uniqueKey: `thank_you-n${n.id}`,
    kind: 'thank_you',
    personId: n.recipientId,
    nominationId: n.id,
    template: letterTemplate(deps, n.campaign.code),
    params: { name: n.fullName ?? '', organiser: n.campaign.organiser, campaign: n.campaign.titleZh },
    smsFallback: true,
  };
}

/** The recipient's answer buttons under a payment or handover notice. */
const receiptButtons = (id: number) => [
  { textKey: 'recipients.btn_received', action: 'rc_yes', args: [id] },
  { textKey: 'recipients.btn_not_received', action: 'rc_no', args: [id] },
];

/** Payment notice (with Received / Not received) and the thank-you letter for one paid nomination. */
export function paidNotices(
  deps: PaymentDeps,
  n: NoticeNomination,
  payment: { id: number; amountFen: number; paidAt: Date },
): NoticeRequest[] {
  return [
    {
      uniqueKey: `payment-n${n.id}`,
      kind: 'payment',
      personId: n.recipientId,
      nominationId: n.id,
      template: 'recipients.notice_paid',
      params: {
        amount: formatYuan(payment.amountFen),
        date: shanghaiDateOf(payment.paidAt),
        card: n.bankCardLast4 ?? '----',
        campaign: n.campaign.titleZh,
        organiser: n.campaign.organiser,
      },
      buttons: receiptButtons(n.id),
      smsFallback: true,
    },
    thankYouLetter(deps, n),
  ];
}

/** Handover notice (with Received / Not received) and the thank-you letter for goods or a unit's condolence. */
export function handoverNotices(deps: PaymentDeps, n: NoticeNomination, date: string): NoticeRequest[] {
  return [
    {
      uniqueKey: `handover-n${n.id}`,
      kind: 'handover',
      personId: n.recipientId,
      nominationId: n.id,
      template: 'recipients.notice_handover',
      params: { date, organiser: n.campaign.organiser, campaign: n.campaign.titleZh },
      buttons: receiptButtons(n.id),
      smsFallback: true,
    },
    thankYouLetter(deps, n),
  ];
}

/** A failed transfer: the contact corrects the details; the recipient is told too. */
export function failedNotices(
  n: NoticeNomination,
  payment: { id: number; amountFen: number; reason: string },
): NoticeRequest[] {
  return [
    {
      uniqueKey: `payment_failed-c-p${payment.id}`,
      kind: 'payment_failed',
      personId: n.submittedById,
      nominationId: n.id,
      template: 'payments.notice_failed_contact',
      params: {
        id: n.id,
        name: n.fullName ?? '',
        amount: formatYuan(payment.amountFen),
        reason: payment.reason,
        card: n.bankCardLast4 ?? '----',
      },
    },
    {
      uniqueKey: `payment_failed-r-p${payment.id}`,
      kind: 'payment_failed',
      personId: n.recipientId,
      nominationId: n.id,
      template: 'recipients.notice_failed',
      params: {
        amount: formatYuan(payment.amountFen),
        card: n.bankCardLast4 ?? '----',
        organiser: n.campaign.organiser,
      },
      smsFallback: true,
    },
  ];
}
