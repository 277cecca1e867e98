import { onNominationChanged } from '../../../usecases/reminders.ts';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { DomainError } from '../../../domain/errors.ts';
import { listMine, nominationView } from '../../../usecases/nominations/queries.ts';
import type { NominationDeps } from '../../../usecases/nominations/shared.ts';
import { withdrawNomination } from '../../../usecases/nominations/withdraw-nomination.ts';
import type { BotContext } from '../context.ts';
import { button, type BotDeps, type Feature, inBackground } from '../kit.ts';

// /my: a contact's nominations with their status, paged; open one for details (masked); withdraw
// while it is still pending. Only the contact who submitted a nomination can open it here.

export function myFeature(deps: BotDeps): Feature {
  const nd: NominationDeps = { db: deps.db, cipher: deps.cipher, now: deps.now };
  const contact = ['contact'] as const;

  async function page(ctx: BotContext, n: number, edit: boolean) {
    const list = await listMine(nd, { personId: ctx.who.id, page: n });
    if (list.total === 0) return ctx.reply(ctx.t('my.empty'));
    const text = [
      ctx.t('my.title', { total: list.total, page: n + 1, pages: list.pages }),
      ...list.items.map((i) =>
        ctx.t('my.line', {
          id: i.id,
          name: i.fullName,
          category: ctx.locale === 'en' ? i.categoryEn : i.categoryZh,
          status: ctx.t(`status.${i.status}`),
        }),
      ),
    ].join('\n');
    const keyboard = [
      ...list.items.map((i) => [
        button(deps, ctx, ctx.t('my.open', { id: i.id, name: i.fullName }), 'my_open', i.id),
      ]),
      [
        ...(n > 0 ? [button(deps, ctx, ctx.t('my.prev'), 'my_page', n - 1)] : []),
        ...(n + 1 < list.pages ? [button(deps, ctx, ctx.t('my.next'), 'my_page', n + 1)] : []),
      ],
    ].filter((r) => r.length > 0);
    if (edit) return ctx.editMessageText(text, { reply_markup: { inline_keyboard: keyboard } });
    return ctx.reply(text, { reply_markup: { inline_keyboard: keyboard } });
  }

  async function detail(ctx: BotContext, id: number) {
    const v = await nominationView(nd, id);
    if (!v || v.submittedById !== ctx.who.id) return ctx.reply(ctx.t('errors.nomination_not_found'));
    const lines = [
      ctx.t('my.detail_title', { id: v.id, status: ctx.t(`status.${v.status}`) }),
      `${ctx.t('field.campaign')}：${ctx.locale === 'en' ? v.campaignTitleEn : v.campaignTitleZh}`,
      `${ctx.t('field.union')}：${v.unionName}`,
      `${ctx.t('field.category')}：${ctx.locale === 'en' ? v.categoryEn : v.categoryZh}${v.amountFen !== null ? `（${ctx.t('money.amount', { amount: formatYuan(v.amountFen) })}）` : ''}`,
      `${ctx.t('field.name')}：${v.fullName ?? '—'}`,
      ...(v.idNumberMasked ? [`${ctx.t('field.id_number')}：${v.idNumberMasked}`] : []),
      ...(v.phoneMasked ? [`${ctx.t('field.phone')}：${v.phoneMasked}`] : []),
      ...(v.employer ? [`${ctx.t('field.employer')}：${v.employer}`] : []),
      ...(v.benefitForm
        ? [`${ctx.t('field.benefit_form')}：${ctx.t(`vocab.benefit_form.${v.benefitForm}`)}`]
        : []),
      ...(v.bankCardMasked ? [`${ctx.t('field.bank_card')}：${v.bankName ?? ''} ${v.bankCardMasked}`] : []),
    ];
    const buttons = [
      ...(v.status === 'submitted' || v.status === 'returned'
        ? [button(deps, ctx, ctx.t('my.withdraw'), 'my_wd', v.id)]
        : []),
      button(deps, ctx, ctx.t('my.back'), 'my_page', 0),
    ];
    return ctx.reply(lines.join('\n'), { reply_markup: { inline_keyboard: [buttons] } });
  }

  return {
    commands: [{ name: 'my', access: contact, handler: (ctx) => page(ctx, 0, false) }],
    callbacks: [
      {
        action: 'my_page',
        access: contact,
        handler: (ctx, [n]) => page(ctx, Math.max(0, Number(n) || 0), true),
      },
      { action: 'my_open', access: contact, handler: (ctx, [id]) => detail(ctx, Number(id)) },
      {
        action: 'my_wd',
        access: contact,
        handler: async (ctx, [id]) =>
          ctx.reply(ctx.t('my.withdraw_confirm', { id: Number(id) }), {
            reply_markup: {
              inline_keyboard: [
                [
                  button(deps, ctx, ctx.t('my.withdraw_yes'), 'my_wdok', Number(id)),
                  button(deps, ctx, ctx.t('buttons.cancel'), 'my_page', 0),
                ],
              ],
            },
          }),
      },
      {
        action: 'my_wdok',
        access: contact,
        handler: async (ctx, [id]) => {
          try {
            await withdrawNomination(nd, { personId: ctx.who.id, nominationId: Number(id) });
            inBackground(deps, 'reminders after withdraw', () =>
              onNominationChanged(deps.db, deps.queues, Number(id), deps.now()),
            );
            await ctx.editMessageText(ctx.t('my.withdrawn', { id: Number(id) }));
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            const params = {
              ...err.params,
              ...(err.params['status'] ? { status: ctx.t(`status.${err.params['status']}`) } : {}),
            };
            await ctx.editMessageText(ctx.t(`errors.${err.code}`, params));
          }
        },
      },
    ],
  };
}
