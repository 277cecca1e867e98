import { answerText } from '../../../../usecases/nominations/answer-nomination.ts';
import { openCampaigns } from '../../../../usecases/nominations/shared.ts';
import { unionsByIds } from '../../../../usecases/unions.ts';
import { button, type DialogStep } from '../../kit.ts';
import {
  benefitFormPrompt,
  cardConfirmPrompt,
  categoryPrompt,
  codedPrompt,
  idConfirmPrompt,
  type NominateKit,
  nav,
  secondaryPrompt,
  textPrompt,
} from './prompts.ts';
import { summaryPrompt } from './summary.ts';
import type { Flow } from './flow.ts';

// The questions of the dialog, by step: text steps call the answer use case; button steps are asked
// here and answered by the actions (actions.ts).

export function dialogSteps(k: NominateKit, flow: Flow): Record<string, DialogStep> {
  const { deps, nd } = k;
  const { settle, withView, ids } = flow;
  const textStep = (
    step: 'name' | 'id_number' | 'phone' | 'employer' | 'description' | 'bank_name' | 'bank_card',
  ): DialogStep => ({
    prompt: withView((ctx, state, d) => textPrompt(k, ctx, state, d, step)),
    onText: async (ctx, text, state) =>
      settle(ctx, state, await answerText(nd, { ...ids(ctx, state), step, text })),
  });
  const codedStep = (
    step: 'work_status' | 'model_worker_level' | 'hardship_tier' | 'main_cause',
  ): DialogStep => ({
    prompt: withView((ctx, state, d) => codedPrompt(k, ctx, state, d, step)),
  });

  return {
    union: {
      prompt: async (ctx) => {
        const unions = await unionsByIds(deps.db, ctx.who.access.unionIds);
        await ctx.reply(ctx.t('nominate.ask_union'), {
          reply_markup: {
            inline_keyboard: [
              ...unions.map((u) => [button(deps, ctx, u.name, 'nm_union', u.id)]),
              nav(k, ctx, { back: false }),
            ],
          },
        });
      },
    },
    campaign: {
      prompt: async (ctx) => {
        const campaigns = await openCampaigns(deps.db, deps.now());
        await ctx.reply(ctx.t('nominate.ask_campaign'), {
          reply_markup: {
            inline_keyboard: [
              ...campaigns.map((c) => [
                button(deps, ctx, ctx.locale === 'en' ? c.titleEn : c.titleZh, 'nm_camp', c.id),
              ]),
              nav(k, ctx, { back: false }),
            ],
          },
        });
      },
    },
    category: { prompt: withView((ctx, state, d) => categoryPrompt(k, ctx, state, d)) },
    name: textStep('name'),
    id_number: textStep('id_number'),
    id_confirm: { prompt: withView((ctx, state, d) => idConfirmPrompt(k, ctx, state, d)) },
    phone: textStep('phone'),
    employer: textStep('employer'),
    work_status: codedStep('work_status'),
    model_worker_level: codedStep('model_worker_level'),
    hardship_tier: codedStep('hardship_tier'),
    main_cause: codedStep('main_cause'),
    secondary_causes: { prompt: withView((ctx, state, d) => secondaryPrompt(k, ctx, state, d)) },
    description: textStep('description'),
    benefit_form: { prompt: withView((ctx, state, d) => benefitFormPrompt(k, ctx, state, d)) },
    bank_name: textStep('bank_name'),
    bank_card: textStep('bank_card'),
    card_confirm: { prompt: withView((ctx, state, d) => cardConfirmPrompt(k, ctx, state, d)) },
    summary: { prompt: withView((ctx, state, d) => summaryPrompt(k, ctx, state, d)) },
  };
}
