import { DomainError } from '../../../../domain/errors.ts';
import { previousStep, type Step } from '../../../../domain/nomination/form.ts';
import {
  chooseCategory,
  chooseOption,
  confirmAnswer,
  toggleSecondaryCause,
} from '../../../../usecases/nominations/answer-nomination.ts';
import { discardDraft, startDraft } from '../../../../usecases/nominations/drafts.ts';
import { submitNomination } from '../../../../usecases/nominations/submit-nomination.ts';
import { onNominationChanged } from '../../../../usecases/reminders.ts';
import { formatYuan } from '../../../../domain/campaign/money.ts';
import { type CallbackSpec, inBackground, type ShellApi } from '../../kit.ts';
import { noteText } from './notes.ts';
import { loadView, type NominateKit, secondaryKeyboard } from './prompts.ts';
import type { Flow } from './flow.ts';

// The buttons of the dialog: each parses its data, calls one use case, and moves the dialog.

export function dialogActions(k: NominateKit, shell: ShellApi, flow: Flow): CallbackSpec[] {
  const { deps, nd } = k;
  const contact = ['contact'] as const;
  const { stateOf, ids, settle, onDraft, chooseCampaign, formStep, beginOn } = flow;
  return [
    {
      // "开始申报" under a campaign's opening notice or an announcement. Open to anyone so that a revoked
      // contact gets a clear answer instead of a bare refusal; beginOn checks the role and the campaign.
      action: 'nm_open',
      access: 'anyone',
      handler: async (ctx, [id]) => {
        const campaignId = Number(id);
        if (!Number.isInteger(campaignId) || campaignId <= 0)
          return ctx.reply(ctx.t('errors.button_invalid'));
        await beginOn(ctx, campaignId);
      },
    },
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
  ];
}
