import { nextStep, type Step } from '../../../../domain/nomination/form.ts';
import type { AnswerOutcome } from '../../../../usecases/nominations/answer-nomination.ts';
import { findDraft, startDraft } from '../../../../usecases/nominations/drafts.ts';
import { openCampaigns } from '../../../../usecases/nominations/shared.ts';
import type { BotContext, DialogState } from '../../context.ts';
import { button, type ShellApi, type StepResult } from '../../kit.ts';
import { keepNotes, notesText } from './notes.ts';
import { DIALOG, draftIdOf, loadView, type NominateKit } from './prompts.ts';

// The nomination dialog's moves shared by its questions and its buttons: a use case's outcome turned
// into the dialog's next step, a question re-asked from the stored draft, starting or resuming.

export type Flow = ReturnType<typeof dialogFlow>;

export function dialogFlow(k: NominateKit, shell: ShellApi) {
  const { deps, nd } = k;
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
    // A campaign already chosen ("开始申报" under its opening notice) and still open is taken as is.
    const chosen = Number(stateOf(ctx)?.data['campaign'] ?? 0);
    const all = await openCampaigns(deps.db, deps.now());
    const campaigns = chosen && all.some((c) => c.id === chosen) ? all.filter((c) => c.id === chosen) : all;
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

  /**
   * "开始申报" under a campaign notice: the dialog on that campaign. Someone who is no longer a contact, or
   * a campaign no longer open, gets a clear answer; a draft in progress is resumed first (one at a time).
   */
  async function beginOn(ctx: BotContext, campaignId: number): Promise<void> {
    const unionIds = ctx.who.access.unionIds;
    if (unionIds.length === 0 || !ctx.who.access.roles.has('contact')) {
      await ctx.reply(ctx.t('announce.start_not_contact'));
      return;
    }
    const open = await openCampaigns(deps.db, deps.now());
    if (!open.some((c) => c.id === campaignId)) {
      await ctx.reply(ctx.t('announce.start_closed'));
      return;
    }
    if (await findDraft(nd, ctx.who.id)) {
      await begin(ctx);
      return;
    }
    if (unionIds.length > 1) {
      await enter(ctx, 'union', { nid: null, campaign: campaignId });
      return;
    }
    ctx.session.dialog = {
      name: DIALOG,
      step: 'union',
      data: { nid: null, campaign: campaignId },
      startedAt: Date.now(),
    };
    await chooseCampaign(ctx, unionIds[0]!);
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

  return { stateOf, ids, settle, withView, enter, begin, beginOn, chooseCampaign, onDraft, formStep };
}
