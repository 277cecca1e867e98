import type { Telegram } from 'telegraf';
import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import { sqlRows } from '../adapters/db/direct-sql.ts';
import type { NoticeKind } from '../generated/prisma/enums.ts';
import type { I18n } from '../adapters/i18n.ts';
import type { SmsProvider } from '../adapters/sms/provider.ts';
import type { CallbackCodec } from '../adapters/telegram/callback-data.ts';
import { classifyTelegramError, describeFailure, isUnreachable } from '../adapters/telegram/errors.ts';
import {
  CAMPAIGN_NOTICE_KINDS,
  type ComposedNotice,
  composeCampaignNotice,
} from './campaign-notice-texts.ts';
import { markUncertain } from './notice-sweeper.ts';
import { openFollowUp } from './recipients/followups.ts';

// Sends one notice (the `send-notice` job calls this). Claim (queued -> sending) first, then send: a
// crash after the claim leaves the row in `sending` and it is never sent again automatically (at most
// once). Pacing (1 message/s per chat, the bot's global rate) and waiting on 429s are the outbound
// path's (adapters/telegram/outbound.ts); what a failure means comes from its one classifier:
// 429 = the claim is given back and the job runs again later; 403 / chat not found = unreachable, final.
// Fallback: a recipient notice (`sms` in params) that Telegram cannot deliver (no chat, 403) goes by
// SMS to the nomination's phone; a 403 also creates a staff follow-up (`unreachable`).
// A send whose outcome is unknown (connection dropped after the request went out) is never retried:
// the row becomes failed with lastError "uncertain: ..." and staff get a follow-up (at most once).

export type SendNoticeOutcome =
  | { outcome: 'sent' | 'sent_sms' | 'skipped' | 'unreachable' | 'uncertain' }
  /** 429 or no send slot soon enough: claim given back; run again after `retryAfterMs`. */
  | { outcome: 'rate_limited'; retryAfterMs: number };

export interface SendNoticeDeps {
  db: Db;
  i18n: I18n;
  /** A client on the outbound path (paced, 429-aware); `ready` waits for the send slot before the claim. */
  telegram: Pick<Telegram, 'sendMessage'> &
    Partial<Pick<Telegram, 'sendDocument'>> & { ready?: (chatId: number) => Promise<void> };
  callbacks?: CallbackCodec;
  now: () => Date;
  /** SMS fallback (absent: none). Needs `cipher` to read the nomination's phone. */
  sms?: SmsProvider;
  cipher?: FieldCipher;
}

interface StoredParams {
  values?: Record<string, string | number>;
  buttons?: { textKey: string; action: string; args: (string | number)[] }[];
  sms?: boolean;
}

/** The notice and its recipient, read in one statement. */
interface NoticeToSend {
  status: string;
  kind: NoticeKind;
  personId: number | null;
  nominationId: number | null;
  campaignId: number | null;
  announcementId: number | null;
  template: string;
  params: unknown;
  /** The recipient (null: none, or no such person). */
  recipientId: number | null;
  telegramId: bigint | null;
  locale: string | null;
  telegramLanguage: string | null;
}

export async function sendNotice(deps: SendNoticeDeps, noticeId: number): Promise<SendNoticeOutcome> {
  // One statement for the notice and its recipient (every notice is one job: the worker's busiest path).
  const [notice] = await sqlRows<NoticeToSend>(deps.db)`
    SELECT n.status::text AS status, n.kind::text AS kind, n.person_id AS "personId",
      n.nomination_id AS "nominationId", n.campaign_id AS "campaignId",
      n.announcement_id AS "announcementId", n.template, n.params, p.id AS "recipientId",
      p.telegram_id AS "telegramId", p.locale, p.telegram_language AS "telegramLanguage"
    FROM notice n LEFT JOIN person p ON p.id = n.person_id
    WHERE n.id = ${noticeId}`;
  if (notice?.status !== 'queued') return { outcome: 'skipped' };
  const person =
    notice.recipientId !== null
      ? {
          id: notice.recipientId,
          locale: notice.locale,
          telegramLanguage: notice.telegramLanguage,
          telegramId: notice.telegramId,
        }
      : null;
  const chatId = person?.telegramId ? Number(person.telegramId) : undefined;

  // Wait for the send slot BEFORE the claim: a worker that dies while waiting leaves the row queued
  // (another worker sends it), and a claimed row is sent right away.
  if (chatId !== undefined && deps.telegram.ready) {
    try {
      await deps.telegram.ready(chatId);
    } catch (err) {
      const f = classifyTelegramError(err);
      if (f.kind === 'rate_limited') return { outcome: 'rate_limited', retryAfterMs: f.retryAfterMs };
      throw err;
    }
  }
  // Campaign notices are composed now, in the person's language, from the campaign as it is; an
  // obsolete one (campaign closed or archived, no longer a contact) is not sent.
  let composed: ComposedNotice | null = null;
  if (CAMPAIGN_NOTICE_KINDS.includes(notice.kind) && chatId !== undefined) {
    const locale = deps.i18n.resolve(person!.locale, person!.telegramLanguage);
    composed = await composeCampaignNotice(
      deps,
      {
        kind: notice.kind,
        template: notice.template,
        campaignId: notice.campaignId,
        announcementId: notice.announcementId,
        personId: notice.personId,
        values: ((notice.params ?? {}) as StoredParams).values ?? {},
      },
      locale,
    );
    if (!composed) {
      await deps.db.notice.updateMany({
        where: { id: noticeId, status: 'queued' },
        data: { status: 'failed', lastError: 'obsolete: campaign closed or no longer a contact' },
      });
      return { outcome: 'skipped' };
    }
  }
  const claimed = await deps.db.notice.updateMany({
    where: { id: noticeId, status: 'queued' },
    data: { status: 'sending', claimedAt: deps.now(), attempts: { increment: 1 } },
  });
  if (claimed.count === 0) return { outcome: 'skipped' };
  const stored = (notice.params ?? {}) as StoredParams;
  const render = (locale: 'zh-CN' | 'en') => {
    const values = Object.fromEntries(
      Object.entries({ ...stored.values, ...composed?.params }).map(([k, v]) => [
        k,
        typeof v === 'string' && v.startsWith('@') ? deps.i18n.t(locale, v.slice(1)) : v,
      ]),
    );
    return deps.i18n.t(locale, notice.template, values);
  };

  if (chatId === undefined) {
    if (stored.sms && (await trySms(deps, noticeId, notice.nominationId, render)))
      return { outcome: 'sent_sms' };
    await deps.db.$transaction([
      deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'unreachable', lastError: 'no telegram chat' },
      }),
      deps.db.noticeAttempt.create({
        data: { noticeId, channel: 'telegram', outcome: 'unreachable', error: 'no telegram chat' },
      }),
    ]);
    if (notice.nominationId && stored.sms) await openFollowUp(deps.db, notice.nominationId, 'unreachable');
    return { outcome: 'unreachable' };
  }

  const locale = deps.i18n.resolve(person!.locale, person!.telegramLanguage);
  const text = render(locale);
  const buttons = (stored.buttons ?? []).map((b) => ({
    text: deps.i18n.t(locale, b.textKey),
    callback_data: deps.callbacks ? deps.callbacks.encode(chatId, b.action, ...b.args) : `${b.action}`,
  }));
  try {
    await deps.telegram.sendMessage(
      chatId,
      text,
      buttons.length ? { reply_markup: { inline_keyboard: [buttons] } } : {},
    );
  } catch (err) {
    const f = classifyTelegramError(err);
    if (f.kind === 'rate_limited') {
      // Certainly not sent: give the claim back; the job runs again after retry_after.
      await deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'queued', attempts: { decrement: 1 }, lastError: 'rate limited' },
      });
      await deps.db.noticeAttempt.create({
        data: { noticeId, channel: 'telegram', outcome: 'rate_limited', errorCode: 429 },
      });
      return { outcome: 'rate_limited', retryAfterMs: f.retryAfterMs };
    }
    const message = describeFailure(f, err);
    const errorCode = (err as { response?: { error_code?: number } }).response?.error_code ?? null;
    // 403 (blocked, deactivated) and 400 chat/user not found are final for this chat: never retried.
    if (isUnreachable(f)) {
      await deps.db.$transaction([
        deps.db.notice.update({
          where: { id: noticeId },
          data: { status: 'unreachable', lastError: message },
        }),
        deps.db.noticeAttempt.create({
          data: { noticeId, channel: 'telegram', outcome: 'unreachable', errorCode, error: message },
        }),
        deps.db.person.update({ where: { id: person!.id }, data: { blockedBotAt: deps.now() } }),
      ]);
      // The row is `unreachable` now, so no other worker can pick it up; the SMS is sent at most once.
      if (notice.nominationId) await openFollowUp(deps.db, notice.nominationId, 'unreachable');
      if (stored.sms && (await trySms(deps, noticeId, notice.nominationId, render, 'unreachable')))
        return { outcome: 'sent_sms' };
      return { outcome: 'unreachable' };
    }
    if (f.kind === 'uncertain' || f.kind === 'other') {
      // No answer from the Bot API: the message may have been delivered. Never resend automatically.
      await markUncertain(deps.db, noticeId, notice.nominationId, `uncertain: ${message}`);
      return { outcome: 'uncertain' };
    }
    // Telegram answered with an error, or the connection was refused: back to queued, retried with backoff.
    await deps.db.notice.update({ where: { id: noticeId }, data: { status: 'queued', lastError: message } });
    await deps.db.noticeAttempt.create({
      data: { noticeId, channel: 'telegram', outcome: 'error', errorCode, error: message },
    });
    throw err;
  }
  // Sent: the row and its attempt in one statement (atomic, as the transaction of four it replaces).
  await sqlRows(deps.db)`
    WITH sent AS (
      UPDATE notice SET status = 'sent', sent_at = ${deps.now()}::timestamp(3), last_error = NULL
      WHERE id = ${noticeId} RETURNING id)
    INSERT INTO notice_attempt (notice_id, channel, outcome, at)
    SELECT id, 'telegram'::"NoticeChannel", 'sent', ${new Date()}::timestamp(3) FROM sent`;
  if (composed?.document && deps.telegram.sendDocument) {
    // The attached file follows the message (paced like it). The notice is delivered either way; a
    // failed document is recorded on the notice, never re-sent with the message.
    try {
      await deps.telegram.sendDocument(chatId, composed.document.fileId, {
        caption: composed.document.caption,
      });
      await deps.db.noticeAttempt.create({
        data: { noticeId, channel: 'telegram', outcome: 'document_sent' },
      });
    } catch (err) {
      await deps.db.noticeAttempt.create({
        data: {
          noticeId,
          channel: 'telegram',
          outcome: 'document_failed',
          error: describeFailure(classifyTelegramError(err), err).slice(0, 300),
        },
      });
    }
  }
  return { outcome: 'sent' };
}

/** Row claimed (sending or unreachable): SMS to the nomination's phone; true if the gateway accepted it. */
async function trySms(
  deps: SendNoticeDeps,
  noticeId: number,
  nominationId: number | null,
  render: (locale: 'zh-CN' | 'en') => string,
  from: 'sending' | 'unreachable' = 'sending',
): Promise<boolean> {
  if (!deps.sms || !deps.cipher || !nominationId) return false;
  const nomination = await deps.db.nomination.findUnique({
    where: { id: nominationId },
    select: { phoneEnc: true },
  });
  if (!nomination?.phoneEnc) {
    await deps.db.noticeAttempt.create({
      data: { noticeId, channel: 'sms', outcome: 'unreachable', error: 'no phone' },
    });
    return false;
  }
  const result = await deps.sms.send(
    deps.cipher.decrypt(nomination.phoneEnc),
    render(deps.i18n.defaultLocale),
  );
  if (!result.ok) {
    await deps.db.noticeAttempt.create({
      data: { noticeId, channel: 'sms', outcome: 'error', error: result.error?.slice(0, 300) ?? null },
    });
    return false;
  }
  await deps.db.$transaction([
    deps.db.notice.updateMany({
      where: { id: noticeId, status: from },
      data: { status: 'sent', channel: 'sms', sentAt: deps.now() },
    }),
    deps.db.noticeAttempt.create({
      data: { noticeId, channel: 'sms', outcome: 'sent', error: result.id ? `id ${result.id}` : null },
    }),
  ]);
  return true;
}
