import type { InlineKeyboardButton } from 'telegraf/types';
import { formatYuan } from '../../../../domain/campaign/money.ts';
import type { DialogDraft } from '../../../../usecases/nominations/queries.ts';
import type { BotContext, DialogState } from '../../context.ts';
import { button } from '../../kit.ts';
import { takeNotes } from './notes.ts';
import { catName, type NominateKit, rows, vocab } from './prompts.ts';

// The summary before submitting: every answer (sensitive ones masked, the birth year only), the
// reviewer's comment when the nomination came back for correction, an edit button per field.

export function summaryText(ctx: BotContext, d: DialogDraft): string {
  const cat = d.category;
  const lines = [ctx.t('nominate.summary_title'), ''];
  const add = (label: string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined && value !== '')
      lines.push(`${ctx.t(`field.${label}`)}：${value}`);
  };
  add('campaign', ctx.locale === 'en' ? d.campaign.titleEn : d.campaign.titleZh);
  add('union', d.unionName);
  if (cat)
    add(
      'category',
      `${catName(ctx, cat)}（${ctx.t('money.amount', { amount: formatYuan(cat.standardAmountFen) })}）`,
    );
  add('name', d.fullName);
  if (d.idNumberMasked)
    add(
      'id_number',
      `${d.idNumberMasked}（${d.birthYear ? ctx.t('nominate.birth_year', { year: d.birthYear }) : ''} ${vocab(ctx, 'sex', d.sex)}）`,
    );
  add('phone', d.phoneMasked);
  add(cat?.kind === 'department' ? 'department' : 'employer', d.employer);
  if (d.steps.includes('work_status')) add('work_status', vocab(ctx, 'work_status', d.workStatus));
  if (d.steps.includes('model_worker_level'))
    add('model_worker_level', vocab(ctx, 'model_worker_level', d.modelWorkerLevel));
  if (d.steps.includes('hardship_tier')) {
    add('hardship_tier', vocab(ctx, 'hardship_tier', d.hardshipTier));
    add('main_cause', vocab(ctx, 'hardship_cause', d.mainCause));
    add(
      'secondary_causes',
      d.secondaryCauses.length
        ? d.secondaryCauses.map((c) => vocab(ctx, 'hardship_cause', c)).join('、')
        : ctx.t('nominate.none'),
    );
  }
  if (d.steps.includes('description')) add('description', d.description);
  if (d.benefitForm) add('benefit_form', vocab(ctx, 'benefit_form', d.benefitForm));
  if (d.steps.includes('bank_card')) {
    add('bank_name', d.bankName);
    if (d.bankCardLast4)
      add(
        'bank_card',
        `**** ${d.bankCardLast4}${d.flags.includes('luhn_warning') ? ctx.t('nominate.luhn_confirmed') : ''}`,
      );
  }
  lines.push('', ctx.t('nominate.summary_hint'));
  return lines.join('\n');
}

export function summaryKeyboard(k: NominateKit, ctx: BotContext, d: DialogDraft): InlineKeyboardButton[][] {
  const edits = d.steps
    .filter((s) => s !== 'secondary_causes' && s !== 'main_cause')
    .map((s) =>
      button(
        k.deps,
        ctx,
        ctx.t('nominate.edit', { field: ctx.t(`field.${s === 'hardship_tier' ? 'hardship' : s}`) }),
        'nm_edit',
        s,
      ),
    );
  return [
    ...rows(edits, 2),
    [
      button(k.deps, ctx, ctx.t('nominate.btn_submit'), 'nm_submit'),
      button(k.deps, ctx, ctx.t('nominate.btn_leave'), 'nm_leave'),
    ],
  ];
}

export function summaryPrompt(k: NominateKit, ctx: BotContext, state: DialogState, d: DialogDraft) {
  const intro = d.returnComment
    ? `${ctx.t('review.fix_intro', { id: d.id, comment: d.returnComment })}\n\n`
    : '';
  return ctx.reply(takeNotes(ctx, state) + intro + summaryText(ctx, d), {
    reply_markup: { inline_keyboard: summaryKeyboard(k, ctx, d) },
  });
}
