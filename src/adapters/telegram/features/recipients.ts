import { deliverAfterBinding } from '../../../usecases/payments/notify.ts';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { shanghaiDateOf } from '../../../domain/calendar/index.ts';
import {
  answerReceipt,
  checkRecipientLink,
  checkRecipientLinkById,
  listRecipientRecords,
  type RecipientDeps,
  type RecipientRecord,
  recipientRecord,
  verifyRecipientLink,
} from '../../../usecases/recipients/links.ts';
import { touchPerson } from '../../../usecases/people.ts';
import type { BotContext } from '../context.ts';
import type { BotDeps, Feature, ShellApi } from '../kit.ts';

// Recipients: the personal deep link (`/start rcp_<token>`) asks for the last 6 characters of the ID
// number, then binds the chat to the record. /records lists the person's own records, /record <id> opens
// one (someone else's id is "not found"); the payment notice's Received / Not received buttons land here.

export function recipientsFeature(deps: BotDeps, shell: ShellApi): Feature {
  const rd: RecipientDeps = { db: deps.db, cipher: deps.cipher, now: deps.now };
  const REC = ['recipient'] as const;

  const recordText = (ctx: BotContext, r: RecipientRecord) =>
    [
      ctx.t('recipients.record_title', {
        id: r.id,
        campaign: ctx.locale === 'en' ? r.campaignEn : r.campaignZh,
        status: ctx.t(`status.${r.status}`),
      }),
      ...(r.amountFen !== null && r.benefitForm === 'transfer'
        ? [
            ctx.t('recipients.record_amount', {
              amount: formatYuan(r.amountFen),
              card: r.bankCardLast4 ?? '----',
            }),
          ]
        : []),
      ...(r.paidAt ? [ctx.t('recipients.record_paid', { date: shanghaiDateOf(r.paidAt) })] : []),
      ...(r.handedOverOn
        ? [ctx.t('recipients.record_handover', { date: r.handedOverOn.toISOString().slice(0, 10) })]
        : []),
    ].join('\n');

  const list = async (ctx: BotContext) => {
    const rows = await listRecipientRecords(rd, ctx.who.id);
    if (rows.length === 0) return ctx.reply(ctx.t('recipients.none'));
    return ctx.reply(rows.map((r) => recordText(ctx, r)).join('\n\n'));
  };

  const open = async (ctx: BotContext, id: number) => {
    const r = Number.isInteger(id) ? await recipientRecord(rd, ctx.who.id, id) : null;
    if (!r) return ctx.reply(ctx.t('errors.nomination_not_found'));
    return ctx.reply(recordText(ctx, r));
  };

  const receipt = async (ctx: BotContext, id: number, received: boolean) => {
    const r = await recipientRecord(rd, ctx.who.id, id);
    if (!r) return ctx.reply(ctx.t('errors.nomination_not_found'));
    await answerReceipt(rd, { personId: ctx.who.id, nominationId: id, received });
    await ctx.editMessageReplyMarkup(undefined).catch(() => undefined);
    return ctx.reply(ctx.t(received ? 'recipients.thanks_received' : 'recipients.not_received_noted'));
  };

  return {
    deepLinks: [
      {
        prefix: 'rcp_',
        handler: async (ctx, token) => {
          const check = await checkRecipientLink(rd, token, ctx.who.id);
          if (!check.ok) return ctx.reply(ctx.t(`recipients.link_${check.reason}`));
          if (check.alreadyBound) return list(ctx);
          // The session keeps the link's id, never the token (sessions sit in Redis for days).
          ctx.session.dialog = {
            name: 'rcp_verify',
            step: 'id6',
            data: { linkId: check.linkId },
            startedAt: Date.now(),
          };
          await shell.dialogs.reprompt(ctx);
        },
      },
    ],
    commands: [
      { name: 'records', access: REC, handler: (ctx) => list(ctx) },
      {
        name: 'record',
        access: REC,
        handler: (ctx, args) => open(ctx, /^\d{1,9}$/.test(args.trim()) ? Number(args.trim()) : Number.NaN),
      },
    ],
    callbacks: [
      { action: 'rc_yes', access: REC, handler: (ctx, [id]) => receipt(ctx, Number(id), true) },
      { action: 'rc_no', access: REC, handler: (ctx, [id]) => receipt(ctx, Number(id), false) },
    ],
    dialogs: [
      {
        name: 'rcp_verify',
        access: 'anyone',
        first: 'id6',
        steps: {
          id6: {
            prompt: async (ctx, state) => {
              const check = await checkRecipientLinkById(rd, Number(state.data['linkId']), ctx.who.id);
              if (!check.ok) {
                delete ctx.session.dialog;
                return ctx.reply(ctx.t(`recipients.link_${check.reason}`));
              }
              return ctx.reply(ctx.t('recipients.ask_id6', { name: check.nameMasked }));
            },
            onText: async (ctx, text, state) => {
              const r = await verifyRecipientLink(rd, {
                linkId: Number(state.data['linkId']),
                personId: ctx.who.id,
                idLast6: text,
              });
              if (r.ok) {
                await ctx.reply(ctx.t('recipients.bound'));
                await deliverAfterBinding({ ...rd, queues: deps.queues }, r.nominationId);
                const me = await touchPerson(deps.db, ctx.from!);
                await shell.syncMenu(ctx.chat!.id, me.access.roles, ctx.locale);
                return { end: true };
              }
              if (r.reason === 'wrong') {
                await ctx.reply(ctx.t('recipients.wrong_id6', { left: r.attemptsLeft }));
                return { stay: true };
              }
              await ctx.reply(ctx.t(`recipients.link_${r.reason}`));
              return { end: true };
            },
          },
        },
      },
    ],
  };
}
