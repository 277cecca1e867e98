import { DomainError } from '../../../../domain/errors.ts';
import { nextStep, previousStep, type Step } from '../../../../domain/nomination/form.ts';
import {
  type AnswerOutcome,
  answerText,
  chooseCategory,
  chooseOption,
  confirmAnswer,
  toggleSecondaryCause,
} from '../../../../usecases/nominations/answer-nomination.ts';
import { discardDraft, findDraft, startDraft } from '../../../../usecases/nominations/drafts.ts';
import { type NominationDeps, openCampaigns } from '../../../../usecases/nominations/shared.ts';
import { submitNomination } from '../../../../usecases/nominations/submit-nomination.ts';
import { onNominationChanged } from '../../../../usecases/reminders.ts';
import { unionsByIds } from '../../../../usecases/unions.ts';
import { formatYuan } from '../../../../domain/campaign/money.ts';
import type { BotContext, DialogState } from '../../context.ts';
import {
  type BotDeps,
  button,
  type DialogStep,
  type Feature,
  inBackground,
  type ShellApi,
  type StepResult,
} from '../../kit.ts';
import { reviewTaskHook } from '../review-hooks.ts';
import { keepNotes, noteText, notesText } from './notes.ts';
import {
  benefitFormPrompt,
  cardConfirmPrompt,
  categoryPrompt,
  codedPrompt,
  DIALOG,
  draftIdOf,
  idConfirmPrompt,
  loadView,
  type NominateKit,
  nav,
  secondaryKeyboard,
  secondaryPrompt,
  textPrompt,
} from './prompts.ts';
import { summaryPrompt } from './summary.ts';

// The guided nomination dialog (/nominate). Handlers parse the input, call one use case of
// src/usecases/nominations and reply; the draft lives in PostgreSQL and the session holds only the
// draft id, the step and the notes for the next question.

export function nominateFeature(deps: BotDeps, shell: ShellApi): Feature {
  const nd: NominationDeps = {
    db: deps.db,
    cipher: deps.cipher,
    now: deps.now,
    onSubmitted: reviewTaskHook(deps),
  };
  const k: NominateKit = { deps, nd };
  const contact = ['contact'] as const;
  const stateOf = (ctx: BotContext) => (ctx.session.dialog?.name === DIALOG ? ctx.session.dialog : undefined);
  const ids = (ctx: BotContext, state: DialogState) => ({
    personId: ctx.who.id,
    nominationId: draftIdOf(state),
  });

  /** A use case's outcome as the dialog's next move: the next question (notes kept for it) or a reply. */
  async function settle(ctx: BotContext, state: DialogState, outcome: AnswerOutcome): Promise<StepResult> {
    if (outcome.kind === 'gone') {
      await ctx.reply(ctx.t('nominate.draft_gone'));
      return { end: true };
    }
    if (outcome.kind === 'invalid') {
      await ctx.reply(notesText(ctx, outcome.notes));
      return { stay: true };
    }
    keepNotes(state, outcome.notes);
    return { next: outcome.next };
  }

  /** A question that needs the draft: re-asked from PostgreSQL, or "gone" when it was submitted or expired. */
  const withView =
    (
      ask: (
        ctx: BotContext,
        state: DialogState,
        d: NonNullable<Awaited<ReturnType<typeof loadView>>>,
      ) => Promise<unknown>,
    ) =>
    async (ctx: BotContext, state: DialogState) => {
      const d = await loadView(k, ctx, state);
      if (!d) {
        delete ctx.session.dialog;
        return ctx.reply(ctx.t('nominate.draft_gone'));
      }
      return ask(ctx, state, d);
    };

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

  const steps: Record<string, DialogStep> = {
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

  const enter = (ctx: BotContext, step: string, data: DialogState['data']) => {
    ctx.session.dialog = { name: DIALOG, step, data, startedAt: Date.now() };
    return shell.dialogs.reprompt(ctx);
  };

  /** Begins or resumes: the draft in PostgreSQL wins over whatever the session remembers. */
  async function begin(ctx: BotContext): Promise<void> {
    const existing = await findDraft(nd, ctx.who.id);
    if (existing) {
      const state: DialogState = {
        name: DIALOG,
        step: 'summary',
        data: { nid: existing.id },
        startedAt: Date.now(),
      };
      const d = await loadView(k, ctx, state);
      if (d) {
        await ctx.reply(ctx.t('nominate.resume', { name: d.fullName ?? ctx.t('nominate.unnamed') }), {
          reply_markup: {
            inline_keyboard: [[button(deps, ctx, ctx.t('nominate.btn_discard'), 'nm_discard')]],
          },
        });
        await enter(ctx, d.category ? nextStep(d.steps, d.answered) : 'category', state.data);
        return;
      }
    }
    const unionIds = ctx.who.access.unionIds;
    if (unionIds.length === 0) {
      await ctx.reply(ctx.t('errors.forbidden'));
      return;
    }
    if (unionIds.length > 1) {
      await enter(ctx, 'union', { nid: null });
      return;
    }
    await chooseCampaign(ctx, unionIds[0]!);
  }

  async function chooseCampaign(ctx: BotContext, unionId: number): Promise<void> {
    const campaigns = await openCampaigns(deps.db, deps.now());
    if (campaigns.length === 0) {
      delete ctx.session.dialog;
      await ctx.reply(ctx.t('nominate.no_open_campaign'));
      return;
    }
    if (campaigns.length > 1) {
      await enter(ctx, 'campaign', { nid: null, union: unionId });
      return;
    }
    const d = await startDraft(nd, { personId: ctx.who.id, unionId, campaignId: campaigns[0]!.id });
    await enter(ctx, 'category', { nid: d.id });
  }

  /** A button of the dialog in progress; a stale or foreign one is refused politely. */
  const onDraft =
    (fn: (ctx: BotContext, state: DialogState, args: string[]) => Promise<StepResult | undefined>) =>
    async (ctx: BotContext, args: string[]) => {
      const state = stateOf(ctx);
      if (!state?.data['nid']) {
        await ctx.reply(ctx.t('nominate.draft_gone'));
        return;
      }
      const result = await fn(ctx, state, args);
      if (result) await shell.dialogs.apply(ctx, result);
    };

  /** The current step as a form step (a confirmation belongs to the step it confirms). */
  const formStep = (state: DialogState): Step | 'summary' =>
    state.step === 'id_confirm'
      ? 'id_number'
      : state.step === 'card_confirm'
        ? 'bank_card'
        : (state.step as Step);

  return {
    commands: [{ name: 'nominate', access: contact, handler: (ctx) => begin(ctx) }],
    dialogs: [{ name: DIALOG, access: contact, first: 'category', steps }],
    callbacks: [
      {
        action: 'nm_union',
        access: contact,
        handler: async (ctx, [id]) => {
          const unionId = Number(id);
          if (!ctx.who.access.unionIds.includes(unionId)) return ctx.reply(ctx.t('errors.forbidden'));
          await chooseCampaign(ctx, unionId);
        },
      },
      {
        action: 'nm_camp',
        access: contact,
        handler: async (ctx, [id]) => {
          const state = stateOf(ctx);
          const unionId = Number(state?.data['union'] ?? ctx.who.access.unionIds[0]);
          if (!state || !ctx.who.access.unionIds.includes(unionId))
            return ctx.reply(ctx.t('nominate.campaign_not_open'));
          try {
            const d = await startDraft(nd, { personId: ctx.who.id, unionId, campaignId: Number(id) });
            state.data = { nid: d.id };
          } catch (err) {
            if (err instanceof DomainError) return ctx.reply(ctx.t('nominate.campaign_not_open'));
            throw err;
          }
          await shell.dialogs.apply(ctx, { next: 'category' });
        },
      },
      {
        action: 'nm_cat',
        access: contact,
        handler: onDraft(async (ctx, state, [id]) =>
          settle(ctx, state, await chooseCategory(nd, { ...ids(ctx, state), categoryId: Number(id) })),
        ),
      },
      {
        action: 'nm_v',
        access: contact,
        handler: onDraft(async (ctx, state, [step, code]) =>
          settle(
            ctx,
            state,
            await chooseOption(nd, { ...ids(ctx, state), step: step ?? '', code: code ?? '' }),
          ),
        ),
      },
      {
        action: 'nm_form',
        access: contact,
        handler: onDraft(async (ctx, state, [form]) =>
          settle(
            ctx,
            state,
            await chooseOption(nd, { ...ids(ctx, state), step: 'benefit_form', code: form ?? '' }),
          ),
        ),
      },
      {
        action: 'nm_idok',
        access: contact,
        handler: onDraft(async (ctx, state) =>
          settle(ctx, state, await confirmAnswer(nd, { ...ids(ctx, state), step: 'id_number' })),
        ),
      },
      {
        action: 'nm_cardok',
        access: contact,
        handler: onDraft(async (ctx, state) =>
          settle(ctx, state, await confirmAnswer(nd, { ...ids(ctx, state), step: 'bank_card' })),
        ),
      },
      {
        action: 'nm_scdone',
        access: contact,
        handler: onDraft(async (ctx, state) =>
          settle(ctx, state, await confirmAnswer(nd, { ...ids(ctx, state), step: 'secondary_causes' })),
        ),
      },
      {
        action: 'nm_sc',
        access: contact,
        handler: onDraft(async (ctx, state, [code]) => {
          const r = await toggleSecondaryCause(nd, { ...ids(ctx, state), code: code ?? '' });
          if ('gone' in r) return settle(ctx, state, { kind: 'gone' });
          if (!r.ok) {
            await ctx.answerCbQuery(noteText(ctx, r.note), { show_alert: true }).catch(() => {});
            return undefined;
          }
          await ctx
            .editMessageReplyMarkup({
              inline_keyboard: secondaryKeyboard(k, ctx, {
                secondaryCauses: r.chosen,
                mainCause: r.mainCause,
              }),
            })
            .catch(() => {});
          return undefined;
        }),
      },
      {
        action: 'nm_back',
        access: contact,
        handler: onDraft(async (ctx, state) => {
          const d = await loadView(k, ctx, state);
          if (!d) return settle(ctx, state, { kind: 'gone' });
          const current = formStep(state);
          const prev = previousStep(d.steps, d.steps.includes(current as Step) ? current : 'summary');
          return prev ? { next: prev } : { stay: true };
        }),
      },
      {
        action: 'nm_goto',
        access: contact,
        handler: onDraft(async (_ctx, _state, [step]) =>
          step === 'id_number' || step === 'bank_card' ? { next: step } : { stay: true },
        ),
      },
      {
        action: 'nm_edit',
        access: contact,
        handler: onDraft(async (ctx, state, [step]) => {
          const d = await loadView(k, ctx, state);
          if (!d) return settle(ctx, state, { kind: 'gone' });
          return step && d.steps.includes(step as Step) ? { next: step } : { stay: true };
        }),
      },
      {
        action: 'nm_submit',
        access: contact,
        handler: onDraft(async (ctx, state) => {
          try {
            const r = await submitNomination(nd, ids(ctx, state));
            delete ctx.session.dialog;
            inBackground(deps, 'reminders after submit', () =>
              onNominationChanged(deps.db, deps.queues, r.id, deps.now()),
            );
            await ctx.editMessageReplyMarkup(undefined).catch(() => {});
            const notes = r.flags.filter((f) => f !== 'luhn_warning').map((f) => ctx.t(`flags.${f}`));
            await ctx.reply(
              ctx.t('nominate.submitted', { id: r.id, amount: formatYuan(r.amountFen) }) +
                (notes.length ? `\n${ctx.t('nominate.flag_note', { flags: notes.join('、') })}` : ''),
            );
            return undefined;
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            const params = {
              ...err.params,
              ...(err.params['status'] ? { status: ctx.t(`status.${err.params['status']}`) } : {}),
            };
            await ctx.reply(ctx.t(`errors.${err.code}`, params));
            return { stay: true };
          }
        }),
      },
      {
        action: 'nm_leave',
        access: contact,
        handler: async (ctx) => {
          shell.dialogs.cancel(ctx);
          await ctx.editMessageReplyMarkup(undefined).catch(() => {});
          await ctx.reply(ctx.t('nominate.left'));
        },
      },
      {
        action: 'nm_discard',
        access: contact,
        handler: async (ctx) => {
          const nid = stateOf(ctx)?.data['nid'];
          if (typeof nid === 'number') await discardDraft(nd, { personId: ctx.who.id, nominationId: nid });
          shell.dialogs.cancel(ctx);
          await ctx.reply(ctx.t('nominate.discarded'));
        },
      },
    ],
  };
}
