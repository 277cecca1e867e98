import type { InlineKeyboardButton } from 'telegraf/types';
import { formatYuan } from '../../../../domain/campaign/money.ts';
import { HARDSHIP_CAUSES } from '../../../../domain/identity/hardship.ts';
import { MAX_SECONDARY_CAUSES, type Step } from '../../../../domain/nomination/form.ts';
import { CODED_STEPS, type CodedStep } from '../../../../usecases/nominations/answer-nomination.ts';
import { type DialogDraft, dialogDraft } from '../../../../usecases/nominations/queries.ts';
import type { NominationDeps } from '../../../../usecases/nominations/shared.ts';
import type { BotContext, DialogState } from '../../context.ts';
import { type BotDeps, button } from '../../kit.ts';
import { takeNotes } from './notes.ts';

// The questions of the nomination dialog: one message per step, with the notes kept from the last
// answer on top and the step counter. They read the draft through the dialog's query (masked values).

export const DIALOG = 'nominate';

export interface NominateKit {
  deps: BotDeps;
  nd: NominationDeps;
}

export const draftIdOf = (state: DialogState) => Number(state.data['nid']);

export const rows = (buttons: InlineKeyboardButton[], perRow: number) => {
  const out: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) out.push(buttons.slice(i, i + perRow));
  return out;
};

export const catName = (ctx: BotContext, c: { nameZh: string; nameEn: string }) =>
  ctx.locale === 'en' ? c.nameEn : c.nameZh;
export const vocab = (ctx: BotContext, list: string, code: string | null | undefined) =>
  code ? ctx.t(`vocab.${list}.${code}`) : '—';

export function nav(k: NominateKit, ctx: BotContext, opts: { back?: boolean } = {}): InlineKeyboardButton[] {
  return [
    ...(opts.back === false ? [] : [button(k.deps, ctx, ctx.t('nominate.btn_back'), 'nm_back')]),
    button(k.deps, ctx, ctx.t('nominate.btn_leave'), 'nm_leave'),
  ];
}

export async function loadView(
  k: NominateKit,
  ctx: BotContext,
  state: DialogState,
): Promise<DialogDraft | null> {
  return dialogDraft(k.nd, { nominationId: draftIdOf(state), personId: ctx.who.id });
}

/** "(step n of m)" for a form step, after the kept notes. */
export function head(ctx: BotContext, state: DialogState, d: DialogDraft, step: Step): string {
  const i = d.steps.indexOf(step);
  const counter =
    i >= 0 && d.category ? `${ctx.t('nominate.step_of', { n: i + 1, total: d.steps.length })}\n` : '';
  return takeNotes(ctx, state) + counter;
}

export function textPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft, step: Step) {
  const key =
    step === 'employer' && d.category?.kind === 'department'
      ? 'nominate.ask_department'
      : `nominate.ask_${step}`;
  return ctx.reply(head(ctx, state, d, step) + ctx.t(key), {
    reply_markup: { inline_keyboard: [nav(k, ctx)] },
  });
}

export function codedPrompt(
  k: NominateKit,
  ctx: BotContext,
  state: DialogState,
  d: DialogDraft,
  step: CodedStep,
) {
  const v = CODED_STEPS[step];
  const buttons = v.codes.map((code) =>
    button(k.deps, ctx, ctx.t(`vocab.${v.vocab}.${code}`), 'nm_v', step, code),
  );
  return ctx.reply(head(ctx, state, d, step) + ctx.t(`nominate.ask_${step}`), {
    reply_markup: { inline_keyboard: [...rows(buttons, 2), nav(k, ctx)] },
  });
}

export function categoryPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  const buttons = d.categories.map((c) =>
    button(
      k.deps,
      ctx,
      ctx.t('nominate.category_button', { name: catName(ctx, c), amount: formatYuan(c.standardAmountFen) }),
      'nm_cat',
      c.id,
    ),
  );
  return ctx.reply(
    takeNotes(ctx, state) +
      ctx.t('nominate.ask_category', {
        campaign: ctx.locale === 'en' ? d.campaign.titleEn : d.campaign.titleZh,
      }),
    { reply_markup: { inline_keyboard: [...buttons.map((b) => [b]), nav(k, ctx, { back: false })] } },
  );
}

export function idConfirmPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  // The birth year only: with the masked number's first 6 and last 4, a full date would rebuild it.
  return ctx.reply(
    takeNotes(ctx, state) +
      ctx.t('nominate.confirm_id', {
        id: d.idNumberMasked ?? '—',
        birth: d.birthYear ?? '—',
        sex: vocab(ctx, 'sex', d.sex),
      }),
    {
      reply_markup: {
        inline_keyboard: [
          [
            button(k.deps, ctx, ctx.t('nominate.btn_correct'), 'nm_idok'),
            button(k.deps, ctx, ctx.t('nominate.btn_reenter'), 'nm_goto', 'id_number'),
          ],
        ],
      },
    },
  );
}

export function cardConfirmPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  return ctx.reply(
    `${takeNotes(ctx, state)}${ctx.t('validation.card.luhn_warning', { last4: d.bankCardLast4 ?? '' })}\n${ctx.t('nominate.confirm_card')}`,
    {
      reply_markup: {
        inline_keyboard: [
          [
            button(k.deps, ctx, ctx.t('nominate.btn_card_ok'), 'nm_cardok'),
            button(k.deps, ctx, ctx.t('nominate.btn_reenter'), 'nm_goto', 'bank_card'),
          ],
        ],
      },
    },
  );
}

export function secondaryKeyboard(
  k: NominateKit,
  ctx: BotContext,
  d: { secondaryCauses: readonly string[]; mainCause: string | null },
): InlineKeyboardButton[][] {
  const chosen = new Set(d.secondaryCauses);
  const buttons = HARDSHIP_CAUSES.filter((c) => c.code !== d.mainCause).map((c) =>
    button(
      k.deps,
      ctx,
      `${chosen.has(c.code) ? '✅ ' : ''}${ctx.t(`vocab.hardship_cause.${c.code}`)}`,
      'nm_sc',
      c.code,
    ),
  );
  return [
    ...rows(buttons, 2),
    [button(k.deps, ctx, ctx.t(chosen.size ? 'nominate.btn_done' : 'nominate.btn_none'), 'nm_scdone')],
    nav(k, ctx),
  ];
}

export function secondaryPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  return ctx.reply(
    head(ctx, state, d, 'secondary_causes') +
      ctx.t('nominate.ask_secondary_causes', { max: MAX_SECONDARY_CAUSES }),
    { reply_markup: { inline_keyboard: secondaryKeyboard(k, ctx, d) } },
  );
}

export function benefitFormPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  const buttons = (d.category?.benefitForms ?? []).map((f) =>
    button(k.deps, ctx, ctx.t(`vocab.benefit_form.${f}`), 'nm_form', f),
  );
  return ctx.reply(head(ctx, state, d, 'benefit_form') + ctx.t('nominate.ask_benefit_form'), {
    reply_markup: { inline_keyboard: [buttons, nav(k, ctx)] },
  });
}
