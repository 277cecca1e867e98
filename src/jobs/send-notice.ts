import { DelayedError, Worker } from 'bullmq';
import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { I18n } from '../adapters/i18n.ts';
import type { Logger } from '../adapters/logger.ts';
import type { CallbackCodec } from '../adapters/telegram/callback-data.ts';
import type { Telegram } from 'telegraf';
import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { ChatBucket } from '../adapters/queue/chat-bucket.ts';
import type { SmsProvider } from '../adapters/sms/provider.ts';
import { markUncertain } from '../usecases/notice-sweeper.ts';
import { SEND_NOTICE_JOB } from '../usecases/notices.ts';
import { openFollowUp } from '../usecases/recipients/followups.ts';
import { defineJob } from './registry.ts';

// Sends one notice. Claim (queued -> sending) first, then send: a crash after the claim leaves the
// row in `sending` and it is never sent again automatically (at most once); a 429 puts the row back
// to `queued` and the job back in the queue without using an attempt; 403 = unreachable, final.
// Pacing: the worker's BullMQ `limiter` is the global rate; `chatBucket` (Redis token bucket) keeps
// 1 message/s per chat by moving a job back to delayed (row untouched) before the claim.
// Fallback: a recipient notice (`sms` in params) that Telegram cannot deliver (no chat, 403) goes by
// SMS to the nomination's phone; a 403 also creates a staff follow-up (`unreachable`).
// A send whose outcome is unknown (connection dropped after the request went out) is never retried:
// the row becomes failed with lastError "uncertain: ..." and staff get a follow-up (at most once).

export interface NoticeJobDeps {
  db: Db;
  i18n: I18n;
  logger: Logger;
  metrics: Metrics;
  telegram: Telegram;
  callbacks?: CallbackCodec;
  now: () => Date;
  /** Per-chat pacing (absent: no per-chat limit). */
  chatBucket?: ChatBucket;
  /** SMS fallback (absent: none). Needs `cipher` to read the nomination's phone. */
  sms?: SmsProvider;
  cipher?: FieldCipher;
}

interface StoredParams {
  values?: Record<string, string | number>;
  buttons?: { textKey: string; action: string; args: (string | number)[] }[];
  sms?: boolean;
}

function apiError(err: unknown): { code?: number; retryAfter?: number; description?: string } {
  const r = (
    err as { response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } } }
  ).response;
  return { code: r?.error_code, retryAfter: r?.parameters?.retry_after, description: r?.description };
}

/** Errors where the request surely did not reach Telegram (safe to retry). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errno?: unknown; cause?: { code?: unknown } };
  for (const v of [e.code, e.errno, e.cause?.code]) if (typeof v === 'string') return v;
  return undefined;
}

export const sendNoticeJob = defineJob({
  queue: 'notifications',
  name: SEND_NOTICE_JOB,
  schema: z.object({ noticeId: z.number().int().positive() }),
  async handle(deps: NoticeJobDeps, { noticeId }, job, { worker, token }) {
    const notice = await deps.db.notice.findUnique({ where: { id: noticeId } });
    if (notice?.status !== 'queued') return 'skipped';
    const person = notice.personId
      ? await deps.db.person.findUnique({ where: { id: notice.personId } })
      : null;
    const chatId = person?.telegramId ? Number(person.telegramId) : undefined;

    // Per-chat pacing before the claim: a job that must wait goes back to delayed, the row stays queued.
    if (chatId !== undefined && deps.chatBucket && token) {
      const wait = await deps.chatBucket.take(chatId);
      if (wait > 0) {
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
    }

    const claimed = await deps.db.notice.updateMany({
      where: { id: noticeId, status: 'queued' },
      data: { status: 'sending', claimedAt: deps.now(), attempts: { increment: 1 } },
    });
    if (claimed.count === 0) return 'skipped';
    const stored = (notice.params ?? {}) as StoredParams;
    const render = (locale: 'zh-CN' | 'en') => {
      const values = Object.fromEntries(
        Object.entries(stored.values ?? {}).map(([k, v]) => [
          k,
          typeof v === 'string' && v.startsWith('@') ? deps.i18n.t(locale, v.slice(1)) : v,
        ]),
      );
      return deps.i18n.t(locale, notice.template, values);
    };

    if (chatId === undefined) {
      if (stored.sms && (await trySms(deps, noticeId, notice.nominationId, render))) return 'sent_sms';
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
      return 'unreachable';
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
      const e = apiError(err);
      if (e.code === 429) {
        await deps.db.notice.update({
          where: { id: noticeId },
          data: { status: 'queued', attempts: { decrement: 1 }, lastError: 'rate limited' },
        });
        await deps.db.noticeAttempt.create({
          data: { noticeId, channel: 'telegram', outcome: 'rate_limited', errorCode: 429 },
        });
        await worker.rateLimit(Math.max(1, e.retryAfter ?? 1) * 1000);
        throw Worker.RateLimitError();
      }
      // 403 (blocked, deactivated) and 400 "chat not found" are final for this chat: never retried.
      if (e.code === 403 || (e.code === 400 && /chat not found/i.test(e.description ?? ''))) {
        await deps.db.$transaction([
          deps.db.notice.update({
            where: { id: noticeId },
            data: { status: 'unreachable', lastError: e.description ?? 'forbidden' },
          }),
          deps.db.noticeAttempt.create({
            data: {
              noticeId,
              channel: 'telegram',
              outcome: 'unreachable',
              errorCode: e.code,
              error: e.description ?? null,
            },
          }),
          deps.db.person.update({ where: { id: person!.id }, data: { blockedBotAt: deps.now() } }),
        ]);
        // The row is `unreachable` now, so no other worker can pick it up; the SMS is sent at most once.
        if (notice.nominationId) await openFollowUp(deps.db, notice.nominationId, 'unreachable');
        if (stored.sms && (await trySms(deps, noticeId, notice.nominationId, render, 'unreachable')))
          return 'sent_sms';
        return 'unreachable';
      }
      const message = String(e.description ?? (err as Error).message).slice(0, 300);
      if (e.code === undefined && !NOT_SENT_CODES.has(errnoOf(err) ?? '')) {
        // No answer from the Bot API: the message may have been delivered. Never resend automatically.
        await markUncertain(deps.db, noticeId, notice.nominationId, `uncertain: ${message}`);
        return 'uncertain';
      }
      // Telegram answered with an error, or the connection was refused: back to queued, retried with backoff.
      await deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'queued', lastError: message },
      });
      await deps.db.noticeAttempt.create({
        data: { noticeId, channel: 'telegram', outcome: 'error', errorCode: e.code ?? null, error: message },
      });
      throw err;
    }
    await deps.db.$transaction([
      deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'sent', sentAt: deps.now(), lastError: null },
      }),
      deps.db.noticeAttempt.create({ data: { noticeId, channel: 'telegram', outcome: 'sent' } }),
    ]);
    return 'sent';
  },
});

/** Row claimed (sending or unreachable): SMS to the nomination's phone; true if the gateway accepted it. */
async function trySms(
  deps: NoticeJobDeps,
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
