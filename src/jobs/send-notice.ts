import { Worker } from 'bullmq';
import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { I18n } from '../adapters/i18n.ts';
import type { Logger } from '../adapters/logger.ts';
import type { CallbackCodec } from '../adapters/telegram/callback-data.ts';
import type { Telegram } from 'telegraf';
import { SEND_NOTICE_JOB } from '../usecases/notices.ts';
import { defineJob } from './registry.ts';

// Sends one notice. Claim (queued -> sending) first, then send: a crash after the claim leaves the
// row in `sending` and it is never sent again automatically (at most once); a 429 puts the row back
// to `queued` and the job back in the queue without using an attempt; 403 = unreachable, final.

export interface NoticeJobDeps {
  db: Db;
  i18n: I18n;
  logger: Logger;
  metrics: Metrics;
  telegram: Telegram;
  callbacks?: CallbackCodec;
  now: () => Date;
}

interface StoredParams {
  values?: Record<string, string | number>;
  buttons?: { textKey: string; action: string; args: (string | number)[] }[];
}

function apiError(err: unknown): { code?: number; retryAfter?: number; description?: string } {
  const r = (
    err as { response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } } }
  ).response;
  return { code: r?.error_code, retryAfter: r?.parameters?.retry_after, description: r?.description };
}

export const sendNoticeJob = defineJob({
  queue: 'notifications',
  name: SEND_NOTICE_JOB,
  schema: z.object({ noticeId: z.number().int().positive() }),
  async handle(deps: NoticeJobDeps, { noticeId }, _job, { worker }) {
    const claimed = await deps.db.notice.updateMany({
      where: { id: noticeId, status: 'queued' },
      data: { status: 'sending', claimedAt: deps.now(), attempts: { increment: 1 } },
    });
    if (claimed.count === 0) return 'skipped';
    const notice = await deps.db.notice.findUniqueOrThrow({ where: { id: noticeId } });
    const person = notice.personId
      ? await deps.db.person.findUnique({ where: { id: notice.personId } })
      : null;
    if (!person?.telegramId) {
      await deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'unreachable', lastError: 'no telegram chat' },
      });
      await deps.db.noticeAttempt.create({
        data: { noticeId, channel: 'telegram', outcome: 'unreachable', error: 'no telegram chat' },
      });
      return 'unreachable';
    }
    const locale = deps.i18n.resolve(person.locale, person.telegramLanguage);
    const stored = (notice.params ?? {}) as StoredParams;
    const values = Object.fromEntries(
      Object.entries(stored.values ?? {}).map(([k, v]) => [
        k,
        typeof v === 'string' && v.startsWith('@') ? deps.i18n.t(locale, v.slice(1)) : v,
      ]),
    );
    const text = deps.i18n.t(locale, notice.template, values);
    const chatId = Number(person.telegramId);
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
      if (e.code === 403) {
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
              errorCode: 403,
              error: e.description ?? null,
            },
          }),
          deps.db.person.update({ where: { id: person.id }, data: { blockedBotAt: deps.now() } }),
        ]);
        return 'unreachable';
      }
      // Network trouble or a 5xx: back to queued, retried with backoff.
      await deps.db.notice.update({
        where: { id: noticeId },
        data: { status: 'queued', lastError: String(e.description ?? (err as Error).message).slice(0, 300) },
      });
      await deps.db.noticeAttempt.create({
        data: {
          noticeId,
          channel: 'telegram',
          outcome: 'error',
          errorCode: e.code ?? null,
          error: String(e.description ?? (err as Error).message).slice(0, 300),
        },
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
