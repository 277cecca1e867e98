import { onBatchChanged, onNominationChanged, onNominationsChanged } from '../../../usecases/reminders.ts';
import QRCode from 'qrcode';
import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { DomainError } from '../../../domain/errors.ts';
import { applyReturnFile, bankList, findBatch } from '../../../usecases/payments/batches.ts';
import { importHandovers, recordHandover } from '../../../usecases/payments/handover.ts';
import type { PaymentDeps } from '../../../usecases/payments/shared.ts';
import { createRecipientLink, unbindRecipient } from '../../../usecases/recipients/links.ts';
import { buildBankList } from '../../files/bank-files.ts';
import { nominationPlace } from '../../../usecases/nominations/queries.ts';
import { parseUpload } from '../../files/safe-upload.ts';
import { MAX_GRID_BYTES } from '../../files/grid.ts';
import type { BotContext } from '../context.ts';
import { type BotDeps, type Feature, inBackground } from '../kit.ts';
import { requestStaffJob } from '../staff-job-request.ts';

// Payments for finance staff and admins: /batch_new <campaign> gathers approved transfer nominations,
// /batch_export <id> sends the bank list (.xlsx; full card numbers only for finance/admin, masked for
// reviewers), /batch_paid <id> marks everything paid (a second time changes nothing), /batch_return <id>
// then the bank's return file marks paid and failed rows. In kind: /handover <id> <date> <by>, or
// /handover_sheet then a spreadsheet. /recipient_link <id> makes the recipient's personal deep link.

const PAY = ['admin', 'finance'] as const;
const EXPORT = ['admin', 'finance', 'reviewer'] as const;
const LINK = ['admin', 'finance', 'reviewer', 'contact'] as const;
const PENDING_TTL = 3600;

export function paymentsFeature(deps: BotDeps): Feature {
  const pd: PaymentDeps = {
    db: deps.db,
    cipher: deps.cipher,
    queues: deps.queues,
    now: deps.now,
    hasKey: (k) => deps.i18n.has(k),
  };
  const pendingKey = (personId: number) => `${deps.queues.prefix}:payments:file:${personId}`;
  const isPay = (ctx: BotContext) => PAY.some((r) => ctx.who.access.roles.has(r));
  const idArg = (args: string) => (/^\d{1,9}$/.test(args.trim()) ? Number(args.trim()) : undefined);

  const fail = (ctx: BotContext, err: unknown) => {
    if (!(err instanceof DomainError)) throw err;
    const key = deps.i18n.has(`payments.errors.${err.code}`)
      ? `payments.errors.${err.code}`
      : `errors.${err.code}`;
    return ctx.reply(ctx.t(key, err.params));
  };

  /** Payments change which reminders are due (unpaid items, entry deadlines): re-derive them. */
  const resyncBatch = (batchId: number) =>
    inBackground(deps, 'reminders after a payment', () =>
      onBatchChanged(deps.db, deps.queues, batchId, deps.now()),
    );

  /** `/handover <id> <date> <who>`, as a command or as the caption of a photo of the handover. */
  const handover = async (ctx: BotContext, args: string, photoFileId?: string) => {
    const m = /^(\d{1,9})\s+(\d{4}-\d{2}-\d{2})\s+(.+)$/.exec(args.trim());
    if (!m) return ctx.reply(ctx.t('payments.handover_usage'));
    try {
      await recordHandover(pd, {
        nominationId: Number(m[1]),
        date: m[2]!,
        by: m[3]!,
        actorId: ctx.who.id,
        ...(photoFileId ? { photoFileId } : {}),
      });
      inBackground(deps, 'reminders after a handover', () =>
        onNominationChanged(deps.db, deps.queues, Number(m[1]), deps.now()),
      );
      return ctx.reply(ctx.t('payments.handover_done', { id: Number(m[1]), date: m[2]! }));
    } catch (err) {
      return fail(ctx, err);
    }
  };

  const sendBankList = async (ctx: BotContext, batchId: number) => {
    try {
      const list = await bankList(pd, { batchId, actorId: ctx.who.id, fullNumbers: isPay(ctx) });
      const source = await buildBankList({ ...list, locale: ctx.locale });
      return ctx.replyWithDocument(
        { source, filename: `${list.code}.xlsx` },
        {
          caption: ctx.t(isPay(ctx) ? 'payments.list_caption' : 'payments.list_caption_masked', {
            code: list.code,
            count: list.rows.length,
            total: formatYuan(Number(list.totalFen)),
          }),
        },
      );
    } catch (err) {
      return fail(ctx, err);
    }
  };

  /** "All paid" runs as a staff job; a second press while it runs is refused. */
  const paid = (ctx: BotContext, batchId: number) =>
    requestStaffJob(deps, ctx, {
      kind: 'batch_paid',
      params: { batchId },
      activeKey: `batch_paid:${batchId}`,
    });

  const download = async (ctx: BotContext, fileId: string) => {
    const res = await fetch(await ctx.telegram.getFileLink(fileId));
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
  };

  const onFile = async (ctx: BotContext, pending: { kind: 'return' | 'handover'; batchId?: number }) => {
    const doc = ctx.message && 'document' in ctx.message ? ctx.message.document : undefined;
    if (!doc) return;
    if ((doc.file_size ?? 0) > MAX_GRID_BYTES) return ctx.reply(ctx.t('payments.file_too_large'));
    const bytes = await download(ctx, doc.file_id);
    if (!bytes) return ctx.reply(ctx.t('payments.download_failed'));
    await deps.redis.del(pendingKey(ctx.who.id));
    const name = doc.file_name ?? 'file';
    if (pending.kind === 'return') {
      const safe = await parseUpload('return_file', bytes, name);
      if (!safe.ok) return ctx.reply(ctx.t(`upload_refused.${safe.refused}`));
      const parsed = safe.value;
      if (!parsed.ok) return ctx.reply(ctx.t(`payments.file_${parsed.code}`));
      if (parsed.problems.length > 0)
        return ctx.reply(
          ctx.t('payments.return_problems', {
            lines: parsed.problems.map((p) => p.line).join(', '),
          }),
        );
      try {
        const r = await applyReturnFile(pd, {
          batchId: pending.batchId!,
          actorId: ctx.who.id,
          rows: parsed.rows,
        });
        resyncBatch(pending.batchId!);
        if (r.problems.length > 0)
          return ctx.reply(
            ctx.t('payments.return_mismatch', {
              problems: r.problems
                .slice(0, 10)
                .map((p) => ctx.t(`payments.return_problem.${p.code}`, { line: p.line, ref: p.ref ?? '' }))
                .join('\n'),
            }),
          );
        if (!r.changed)
          return ctx.reply(
            ctx.t('payments.already_done', {
              id: pending.batchId!,
              status: ctx.t(`payments.batch_status.${r.status}`),
            }),
          );
        return ctx.reply(
          ctx.t('payments.return_done', {
            id: pending.batchId!,
            paid: r.paid,
            failed: r.failed,
            notices: r.noticesQueued,
          }),
        );
      } catch (err) {
        return fail(ctx, err);
      }
    }
    const safe = await parseUpload('handover_sheet', bytes, name);
    if (!safe.ok) return ctx.reply(ctx.t(`upload_refused.${safe.refused}`));
    const parsed = safe.value;
    if (!parsed.ok) return ctx.reply(ctx.t(`payments.file_${parsed.code}`));
    const r = await importHandovers(pd, { rows: parsed.rows, actorId: ctx.who.id });
    const touched = parsed.rows.map((row) => row.nominationId);
    inBackground(deps, 'reminders after handovers', () =>
      onNominationsChanged(deps.db, deps.queues, touched, deps.now()),
    );
    const problems: { line: number; code: string; id?: number }[] = [...parsed.problems, ...r.problems].sort(
      (a, b) => a.line - b.line,
    );
    const lines = [
      ctx.t('payments.handover_sheet_done', { recorded: r.recorded.length, problems: problems.length }),
    ];
    for (const p of problems.slice(0, 10))
      lines.push(
        ctx.t('payments.handover_problem_line', {
          line: p.line,
          problem: deps.i18n.has(`payments.errors.${p.code}`)
            ? ctx.t(`payments.errors.${p.code}`, { id: p.id ?? '', status: '', date: '' })
            : ctx.t(`payments.sheet_problem.${p.code}`),
        }),
      );
    return ctx.reply(lines.join('\n'));
  };

  return {
    commands: [
      {
        name: 'batch_new',
        access: PAY,
        handler: async (ctx, args) => {
          const code = args.trim();
          if (!code) return ctx.reply(ctx.t('payments.batch_new_usage'));
          // Gathering thousands of nominations runs as a staff job; the result comes with its buttons.
          return requestStaffJob(deps, ctx, {
            kind: 'batch_new',
            params: { campaignCode: code },
            activeKey: `batch_new:${code}`,
          });
        },
      },
      {
        name: 'batch_export',
        access: EXPORT,
        handler: async (ctx, args) => {
          const id = idArg(args);
          return id === undefined
            ? ctx.reply(ctx.t('payments.id_usage', { command: 'batch_export' }))
            : sendBankList(ctx, id);
        },
      },
      {
        name: 'batch_paid',
        access: PAY,
        handler: async (ctx, args) => {
          const id = idArg(args);
          return id === undefined
            ? ctx.reply(ctx.t('payments.id_usage', { command: 'batch_paid' }))
            : paid(ctx, id);
        },
      },
      {
        name: 'batch_return',
        access: PAY,
        handler: async (ctx, args) => {
          const id = idArg(args);
          if (id === undefined) return ctx.reply(ctx.t('payments.id_usage', { command: 'batch_return' }));
          const batch = await findBatch(deps, id);
          if (!batch) return ctx.reply(ctx.t('payments.errors.batch_not_found', { id }));
          await deps.redis.set(
            pendingKey(ctx.who.id),
            JSON.stringify({ kind: 'return', batchId: id }),
            'EX',
            PENDING_TTL,
          );
          return ctx.reply(ctx.t('payments.return_send_file', { code: batch.code }));
        },
      },
      {
        name: 'handover',
        access: PAY,
        handler: (ctx, args) => handover(ctx, args),
      },
      {
        name: 'handover_sheet',
        access: PAY,
        handler: async (ctx) => {
          await deps.redis.set(
            pendingKey(ctx.who.id),
            JSON.stringify({ kind: 'handover' }),
            'EX',
            PENDING_TTL,
          );
          return ctx.reply(ctx.t('payments.handover_send_file'));
        },
      },
      {
        name: 'recipient_link',
        access: LINK,
        handler: async (ctx, args) => {
          const id = idArg(args);
          if (id === undefined) return ctx.reply(ctx.t('payments.id_usage', { command: 'recipient_link' }));
          const n = await nominationPlace(deps, id);
          const staff = ['admin', 'finance', 'reviewer'].some((r) => ctx.who.access.roles.has(r as 'admin'));
          if (!n || (!staff && !ctx.who.access.unionIds.includes(n.unionId)))
            return ctx.reply(ctx.t('errors.nomination_not_found'));
          try {
            const link = await createRecipientLink(deps, {
              nominationId: id,
              actorId: ctx.who.id,
              mayUnlock: isPay(ctx),
            });
            const url = `https://t.me/${deps.botUsername()}?start=${link.payload}`;
            await ctx.reply(
              ctx.t('payments.recipient_link', {
                id,
                url,
                expires: link.expiresAt.toISOString().slice(0, 10),
              }),
            );
            // The same link as a QR code, for printing on the condolence letter or showing on a phone.
            const png = await QRCode.toBuffer(url, {
              type: 'png',
              width: 480,
              margin: 2,
              errorCorrectionLevel: 'M',
            });
            return ctx.replyWithPhoto(
              { source: png, filename: `link-${id}.png` },
              { caption: ctx.t('payments.recipient_qr', { id }) },
            );
          } catch (err) {
            return fail(ctx, err);
          }
        },
      },
      {
        // Undo a binding (wrong person, phone changed hands): audited, the previous recipient is told.
        name: 'recipient_unbind',
        access: PAY,
        handler: async (ctx, args) => {
          const id = idArg(args);
          if (id === undefined) return ctx.reply(ctx.t('payments.id_usage', { command: 'recipient_unbind' }));
          try {
            const { previous } = await unbindRecipient(deps, { nominationId: id, actorId: ctx.who.id });
            if (previous.telegramId !== null) {
              const locale = previous.locale === 'en' ? 'en' : deps.i18n.defaultLocale;
              await ctx.telegram
                .sendMessage(
                  Number(previous.telegramId),
                  deps.i18n.t(locale, 'recipients.unbound_notice', { id }),
                )
                .catch((err: unknown) =>
                  deps.logger.warn({ err, nominationId: id }, 'unbind notice not sent'),
                );
            }
            return ctx.reply(ctx.t('payments.recipient_unbound', { id }));
          } catch (err) {
            return fail(ctx, err);
          }
        },
      },
    ],
    callbacks: [
      { action: 'pay_exp', access: EXPORT, handler: (ctx, [id]) => sendBankList(ctx, Number(id)) },
      { action: 'pay_paid', access: PAY, handler: (ctx, [id]) => paid(ctx, Number(id)) },
    ],
    install: (bot: Telegraf<BotContext>) => {
      bot.on(message('photo'), async (ctx, next) => {
        const caption = ctx.message.caption?.trim() ?? '';
        const m = /^\/handover(?:@\w+)?\s+([\s\S]*)$/.exec(caption);
        if (!m) return next();
        if (!isPay(ctx)) return ctx.reply(ctx.t('errors.forbidden'));
        const largest = ctx.message.photo.at(-1);
        return handover(ctx, m[1]!, largest?.file_id);
      });
      bot.on(message('document'), async (ctx, next) => {
        if (!isPay(ctx)) return next();
        const raw = await deps.redis.get(pendingKey(ctx.who.id));
        if (!raw) return next();
        await onFile(ctx, JSON.parse(raw) as { kind: 'return' | 'handover'; batchId?: number });
      });
    },
  };
}
