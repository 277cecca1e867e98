import { onNominationChanged } from '../../../usecases/reminders.ts';
import type { InlineKeyboardButton } from 'telegraf/types';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { DomainError } from '../../../domain/errors.ts';
import {
  HARDSHIP_CAUSES,
  HARDSHIP_TIERS,
  MODEL_WORKER_LEVELS,
  WORK_STATUSES,
} from '../../../domain/identity/hardship.ts';
import { maskBankCard, maskIdNumber, maskPhone } from '../../../domain/masking.ts';
import { validateAnswer, type TextStep } from '../../../domain/nomination/answers.ts';
import {
  MAX_SECONDARY_CAUSES,
  nextStep,
  previousStep,
  type Step,
  stepsFor,
} from '../../../domain/nomination/form.ts';
import { findDraft, saveAnswer, startDraft, discardDraft } from '../../../usecases/nominations/drafts.ts';
import {
  budgetRemaining,
  duplicateFacts,
  quotaRemaining,
} from '../../../usecases/nominations/entry-checks.ts';
import { openCampaigns, toCategoryInfo, type NominationDeps } from '../../../usecases/nominations/shared.ts';
import { submitNomination } from '../../../usecases/nominations/submit.ts';
import { reviewTaskHook } from './review-hooks.ts';
import { recordEntryBlocked } from '../../../usecases/report/figures.ts';
import type { BotContext, DialogState } from '../context.ts';
import {
  button,
  type BotDeps,
  type DialogStep,
  type Feature,
  type ShellApi,
  type StepResult,
  inBackground,
} from '../kit.ts';

// The guided nomination dialog (/nominate). The draft lives in PostgreSQL; the session holds only the
// draft id, the current step and whether the contact is editing from the summary. Every answer is
// validated as it is given, with a specific message, and the summary offers an edit button per field.

const DIALOG = 'nominate';
const VOCAB: Partial<Record<Step, { key: string; codes: readonly string[] }>> = {
  work_status: { key: 'work_status', codes: WORK_STATUSES.map((v) => v.code) },
  model_worker_level: { key: 'model_worker_level', codes: MODEL_WORKER_LEVELS.map((v) => v.code) },
  hardship_tier: { key: 'hardship_tier', codes: HARDSHIP_TIERS.map((v) => v.code) },
  main_cause: { key: 'hardship_cause', codes: HARDSHIP_CAUSES.map((v) => v.code) },
};
const VOCAB_COLUMN: Partial<Record<Step, 'workStatus' | 'modelWorkerLevel' | 'hardshipTier' | 'mainCause'>> =
  {
    work_status: 'workStatus',
    model_worker_level: 'modelWorkerLevel',
    hardship_tier: 'hardshipTier',
    main_cause: 'mainCause',
  };

type Draft = NonNullable<Awaited<ReturnType<typeof loadDraft>>>;

async function loadDraft(deps: NominationDeps, id: number, personId: number) {
  return deps.db.nomination.findFirst({
    where: { id, submittedById: personId, status: { in: ['draft', 'returned'] } },
    include: {
      campaign: { include: { categories: { orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] } } },
      category: true,
      union: true,
    },
  });
}

const rows = (buttons: InlineKeyboardButton[], perRow: number) => {
  const out: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) out.push(buttons.slice(i, i + perRow));
  return out;
};

export function nominateFeature(deps: BotDeps, shell: ShellApi): Feature {
  const nd: NominationDeps = {
    db: deps.db,
    cipher: deps.cipher,
    now: deps.now,
    onSubmitted: reviewTaskHook(deps),
  };
  const contact = ['contact'] as const;
  const yuan = (fen: number) => formatYuan(fen);
  const catName = (ctx: BotContext, c: { nameZh: string; nameEn: string }) =>
    ctx.locale === 'en' ? c.nameEn : c.nameZh;
  const vocab = (ctx: BotContext, list: string, code: string | null | undefined) =>
    code ? ctx.t(`vocab.${list}.${code}`) : '—';

  const stateOf = (ctx: BotContext) => (ctx.session.dialog?.name === DIALOG ? ctx.session.dialog : undefined);
  const draftId = (state: DialogState) => Number(state.data['nid']);

  const nav = (ctx: BotContext, opts: { back?: boolean } = {}): InlineKeyboardButton[] => [
    ...(opts.back === false ? [] : [button(deps, ctx, ctx.t('nominate.btn_back'), 'nm_back')]),
    button(deps, ctx, ctx.t('nominate.btn_leave'), 'nm_leave'),
  ];

  /** Works out where the dialog goes after an answer: the summary when editing, else the next open step. */
  async function advance(ctx: BotContext, state: DialogState): Promise<StepResult> {
    const d = await loadDraft(nd, draftId(state), ctx.who.id);
    if (!d) return { end: true };
    const steps = stepsFor(d.category ? toCategoryInfo(d.category) : undefined, d.benefitForm);
    const next = nextStep(steps, d.draftAnswered);
    if (state.data['editing'] && next === 'summary') return { next: 'summary' };
    state.data['editing'] = next === 'summary' ? null : (state.data['editing'] ?? null);
    return { next };
  }

  async function header(ctx: BotContext, d: Draft, step: Step): Promise<string> {
    const steps = stepsFor(d.category ? toCategoryInfo(d.category) : undefined, d.benefitForm);
    const i = steps.indexOf(step);
    return i >= 0 && d.category ? ctx.t('nominate.step_of', { n: i + 1, total: steps.length }) + '\n' : '';
  }

  const textStep = (step: TextStep): DialogStep => ({
    prompt: async (ctx, state) => {
      const d = await loadDraft(nd, draftId(state), ctx.who.id);
      if (!d) return expired(ctx);
      const key =
        step === 'employer' && d.category?.kind === 'department'
          ? 'nominate.ask_department'
          : `nominate.ask_${step}`;
      await ctx.reply((await header(ctx, d, step)) + ctx.t(key), {
        reply_markup: { inline_keyboard: [nav(ctx)] },
      });
    },
    onText: async (ctx, text, state) => {
      const d = await loadDraft(nd, draftId(state), ctx.who.id);
      if (!d) return expired(ctx);
      const r = validateAnswer(step, text, deps.now());
      if (!r.ok) {
        // Counted in the evaluation's data-accuracy figures (no personal data recorded).
        if (step === 'id_number')
          await recordEntryBlocked(deps.db, {
            campaignId: d.campaignId,
            actorId: ctx.who.id,
            reason: 'id_invalid',
            source: 'dialog',
          });
        await ctx.reply(ctx.t(`validation.${r.code}`, r.params) + '\n' + ctx.t(`nominate.hint_${step}`));
        return { stay: true };
      }
      switch (step) {
        case 'name':
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step,
            data: { fullName: r.value },
          });
          break;
        case 'id_number': {
          const hash = deps.cipher.hash('id', r.value);
          const dup = await duplicateFacts(deps.db, {
            campaignId: d.campaignId,
            idHash: hash,
            excludeId: d.id,
          });
          if (dup.blocking) {
            await recordEntryBlocked(deps.db, {
              campaignId: d.campaignId,
              actorId: ctx.who.id,
              reason: 'duplicate',
              source: 'dialog',
            });
            await ctx.reply(
              ctx.t('nominate.duplicate', {
                union: dup.blocking.unionName,
                status: ctx.t(`status.${dup.blocking.status}`),
              }),
            );
            return { stay: true };
          }
          for (const e of dup.earlier.slice(0, 3)) {
            await ctx.reply(
              ctx.t('nominate.earlier', {
                campaign: ctx.locale === 'en' ? e.campaignTitleEn : e.campaignTitleZh,
                status: ctx.t(`status.${e.status}`),
              }),
            );
          }
          await deps.db.nomination.updateMany({
            where: { id: d.id, submittedById: ctx.who.id },
            data: {
              idNumberEnc: deps.cipher.encrypt(r.value),
              idNumberHash: hash,
              birthDate: new Date(`${r.birthDate}T00:00:00Z`),
              sex: r.sex ?? null,
            },
          });
          for (const w of r.warnings) await ctx.reply(ctx.t(`validation.${w.code}`, w.params));
          return { next: 'id_confirm' };
        }
        case 'phone':
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step,
            data: { phoneEnc: deps.cipher.encrypt(r.value), phoneHash: deps.cipher.hash('phone', r.value) },
          });
          break;
        case 'employer':
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step,
            data: { employer: r.value },
          });
          break;
        case 'description':
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step,
            data: { description: r.value },
          });
          break;
        case 'bank_name':
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step,
            data: { bankName: r.value },
          });
          break;
        case 'bank_card': {
          const flags = d.flags.filter((f) => f !== 'luhn_warning');
          const luhn = r.warnings.some((w) => w.code === 'card.luhn_warning');
          await deps.db.nomination.updateMany({
            where: { id: d.id, submittedById: ctx.who.id },
            data: {
              bankCardEnc: deps.cipher.encrypt(r.value),
              bankCardLast4: r.last4 ?? r.value.slice(-4),
              flags: luhn ? [...flags, 'luhn_warning'] : flags,
            },
          });
          if (luhn) return { next: 'card_confirm' };
          await saveAnswer(nd, { personId: ctx.who.id, nominationId: d.id, step, data: {} });
          break;
        }
      }
      return advance(ctx, state);
    },
  });

  const expired = async (ctx: BotContext): Promise<StepResult> => {
    await ctx.reply(ctx.t('nominate.draft_gone'));
    return { end: true };
  };

  const vocabStep = (step: Step): DialogStep => ({
    prompt: async (ctx, state) => {
      const d = await loadDraft(nd, draftId(state), ctx.who.id);
      if (!d) return expired(ctx);
      const v = VOCAB[step]!;
      const buttons = v.codes.map((code) =>
        button(deps, ctx, ctx.t(`vocab.${v.key}.${code}`), 'nm_v', step, code),
      );
      await ctx.reply((await header(ctx, d, step)) + ctx.t(`nominate.ask_${step}`), {
        reply_markup: { inline_keyboard: [...rows(buttons, 2), nav(ctx)] },
      });
    },
  });

  const steps: Record<string, DialogStep> = {
    union: {
      prompt: async (ctx) => {
        const unions = await deps.db.union.findMany({
          where: { id: { in: [...ctx.who.access.unionIds] } },
          orderBy: { id: 'asc' },
        });
        await ctx.reply(ctx.t('nominate.ask_union'), {
          reply_markup: {
            inline_keyboard: [
              ...unions.map((u) => [button(deps, ctx, u.name, 'nm_union', u.id)]),
              nav(ctx, { back: false }),
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
              nav(ctx, { back: false }),
            ],
          },
        });
      },
    },
    category: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d) return expired(ctx);
        const buttons = d.campaign.categories.map((c) =>
          button(
            deps,
            ctx,
            ctx.t('nominate.category_button', { name: catName(ctx, c), amount: yuan(c.standardAmountFen) }),
            'nm_cat',
            c.id,
          ),
        );
        await ctx.reply(
          ctx.t('nominate.ask_category', {
            campaign: ctx.locale === 'en' ? d.campaign.titleEn : d.campaign.titleZh,
          }),
          {
            reply_markup: { inline_keyboard: [...buttons.map((b) => [b]), nav(ctx, { back: false })] },
          },
        );
      },
    },
    name: textStep('name'),
    id_number: textStep('id_number'),
    id_confirm: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d?.idNumberEnc) return expired(ctx);
        await ctx.reply(
          ctx.t('nominate.confirm_id', {
            id: maskIdNumber(deps.cipher.decrypt(d.idNumberEnc)),
            birth: d.birthDate?.toISOString().slice(0, 10) ?? '—',
            sex: vocab(ctx, 'sex', d.sex),
          }),
          {
            reply_markup: {
              inline_keyboard: [
                [
                  button(deps, ctx, ctx.t('nominate.btn_correct'), 'nm_idok'),
                  button(deps, ctx, ctx.t('nominate.btn_reenter'), 'nm_goto', 'id_number'),
                ],
              ],
            },
          },
        );
      },
    },
    phone: textStep('phone'),
    employer: textStep('employer'),
    work_status: vocabStep('work_status'),
    model_worker_level: vocabStep('model_worker_level'),
    hardship_tier: vocabStep('hardship_tier'),
    main_cause: vocabStep('main_cause'),
    secondary_causes: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d) return expired(ctx);
        await ctx.reply(
          (await header(ctx, d, 'secondary_causes')) +
            ctx.t('nominate.ask_secondary_causes', { max: MAX_SECONDARY_CAUSES }),
          {
            reply_markup: { inline_keyboard: secondaryKeyboard(ctx, d) },
          },
        );
      },
    },
    description: textStep('description'),
    benefit_form: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d?.category) return expired(ctx);
        const buttons = d.category.benefitForms.map((f) =>
          button(deps, ctx, ctx.t(`vocab.benefit_form.${f}`), 'nm_form', f),
        );
        await ctx.reply((await header(ctx, d, 'benefit_form')) + ctx.t('nominate.ask_benefit_form'), {
          reply_markup: { inline_keyboard: [buttons, nav(ctx)] },
        });
      },
    },
    bank_name: textStep('bank_name'),
    bank_card: textStep('bank_card'),
    card_confirm: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d?.bankCardLast4) return expired(ctx);
        await ctx.reply(
          ctx.t('validation.card.luhn_warning', { last4: d.bankCardLast4 }) +
            '\n' +
            ctx.t('nominate.confirm_card'),
          {
            reply_markup: {
              inline_keyboard: [
                [
                  button(deps, ctx, ctx.t('nominate.btn_card_ok'), 'nm_cardok'),
                  button(deps, ctx, ctx.t('nominate.btn_reenter'), 'nm_goto', 'bank_card'),
                ],
              ],
            },
          },
        );
      },
    },
    summary: {
      prompt: async (ctx, state) => {
        const d = await loadDraft(nd, draftId(state), ctx.who.id);
        if (!d) return expired(ctx);
        state.data['editing'] = null;
        await ctx.reply(summaryText(ctx, d), { reply_markup: { inline_keyboard: summaryKeyboard(ctx, d) } });
      },
    },
  };

  function secondaryKeyboard(ctx: BotContext, d: Draft): InlineKeyboardButton[][] {
    const chosen = new Set(d.secondaryCauses);
    const buttons = HARDSHIP_CAUSES.filter((c) => c.code !== d.mainCause).map((c) =>
      button(
        deps,
        ctx,
        `${chosen.has(c.code) ? '✅ ' : ''}${ctx.t(`vocab.hardship_cause.${c.code}`)}`,
        'nm_sc',
        c.code,
      ),
    );
    return [
      ...rows(buttons, 2),
      [button(deps, ctx, ctx.t(chosen.size ? 'nominate.btn_done' : 'nominate.btn_none'), 'nm_scdone')],
      nav(ctx),
    ];
  }

  function summaryText(ctx: BotContext, d: Draft): string {
    const cat = d.category;
    const lines = [ctx.t('nominate.summary_title'), ''];
    const add = (label: string, value: string | null | undefined) => {
      if (value !== null && value !== undefined && value !== '')
        lines.push(`${ctx.t(`field.${label}`)}：${value}`);
    };
    const steps = stepsFor(cat ? toCategoryInfo(cat) : undefined, d.benefitForm);
    add('campaign', ctx.locale === 'en' ? d.campaign.titleEn : d.campaign.titleZh);
    add('union', d.union.name);
    if (cat)
      add(
        'category',
        `${catName(ctx, cat)}（${ctx.t('money.amount', { amount: yuan(cat.standardAmountFen) })}）`,
      );
    add('name', d.fullName);
    if (d.idNumberEnc)
      add(
        'id_number',
        `${maskIdNumber(deps.cipher.decrypt(d.idNumberEnc))}（${d.birthDate?.toISOString().slice(0, 10) ?? ''} ${vocab(ctx, 'sex', d.sex)}）`,
      );
    if (d.phoneEnc) add('phone', maskPhone(deps.cipher.decrypt(d.phoneEnc)));
    add(cat?.kind === 'department' ? 'department' : 'employer', d.employer);
    if (steps.includes('work_status')) add('work_status', vocab(ctx, 'work_status', d.workStatus));
    if (steps.includes('model_worker_level'))
      add('model_worker_level', vocab(ctx, 'model_worker_level', d.modelWorkerLevel));
    if (steps.includes('hardship_tier')) {
      add('hardship_tier', vocab(ctx, 'hardship_tier', d.hardshipTier));
      add('main_cause', vocab(ctx, 'hardship_cause', d.mainCause));
      add(
        'secondary_causes',
        d.secondaryCauses.length
          ? d.secondaryCauses.map((c) => vocab(ctx, 'hardship_cause', c)).join('、')
          : ctx.t('nominate.none'),
      );
    }
    add('description', d.description);
    const form = cat ? (cat.benefitForms.length === 1 ? cat.benefitForms[0] : d.benefitForm) : null;
    if (form) add('benefit_form', vocab(ctx, 'benefit_form', form));
    if (steps.includes('bank_card')) {
      add('bank_name', d.bankName);
      if (d.bankCardLast4)
        add(
          'bank_card',
          maskBankCard(d.bankCardLast4) +
            (d.flags.includes('luhn_warning') ? ctx.t('nominate.luhn_confirmed') : ''),
        );
    }
    lines.push('', ctx.t('nominate.summary_hint'));
    return lines.join('\n');
  }

  function summaryKeyboard(ctx: BotContext, d: Draft): InlineKeyboardButton[][] {
    const steps = stepsFor(d.category ? toCategoryInfo(d.category) : undefined, d.benefitForm).filter(
      (s) => s !== 'secondary_causes' && s !== 'main_cause',
    );
    const edits = steps.map((s) =>
      button(
        deps,
        ctx,
        ctx.t('nominate.edit', { field: ctx.t(`field.${s === 'hardship_tier' ? 'hardship' : s}`) }),
        'nm_edit',
        s,
      ),
    );
    return [
      ...rows(edits, 2),
      [
        button(deps, ctx, ctx.t('nominate.btn_submit'), 'nm_submit'),
        button(deps, ctx, ctx.t('nominate.btn_leave'), 'nm_leave'),
      ],
    ];
  }

  /** Begins or resumes: the draft in PostgreSQL wins over whatever the session remembers. */
  async function begin(ctx: BotContext): Promise<void> {
    const existing = await findDraft(nd, ctx.who.id);
    if (existing) {
      const d = await loadDraft(nd, existing.id, ctx.who.id);
      if (d) {
        ctx.session.dialog = {
          name: DIALOG,
          step: 'summary',
          data: { nid: d.id, editing: null },
          startedAt: Date.now(),
        };
        await ctx.reply(ctx.t('nominate.resume', { name: d.fullName ?? ctx.t('nominate.unnamed') }), {
          reply_markup: {
            inline_keyboard: [[button(deps, ctx, ctx.t('nominate.btn_discard'), 'nm_discard')]],
          },
        });
        await shell.dialogs.apply(ctx, await advance(ctx, ctx.session.dialog));
        return;
      }
    }
    const unionIds = ctx.who.access.unionIds;
    if (unionIds.length === 0) {
      await ctx.reply(ctx.t('errors.forbidden'));
      return;
    }
    const campaigns = await openCampaigns(deps.db, deps.now());
    if (campaigns.length === 0) {
      await ctx.reply(ctx.t('nominate.no_open_campaign'));
      return;
    }
    if (unionIds.length > 1) {
      ctx.session.dialog = { name: DIALOG, step: 'union', data: { nid: null }, startedAt: Date.now() };
      await shell.dialogs.reprompt(ctx);
      return;
    }
    await chooseCampaign(ctx, unionIds[0]!);
  }

  async function chooseCampaign(ctx: BotContext, unionId: number): Promise<void> {
    const campaigns = await openCampaigns(deps.db, deps.now());
    if (campaigns.length === 1) {
      const d = await startDraft(nd, { personId: ctx.who.id, unionId, campaignId: campaigns[0]!.id });
      ctx.session.dialog = {
        name: DIALOG,
        step: 'category',
        data: { nid: d.id, editing: null },
        startedAt: Date.now(),
      };
    } else
      ctx.session.dialog = {
        name: DIALOG,
        step: 'campaign',
        data: { nid: null, union: unionId },
        startedAt: Date.now(),
      };
    await shell.dialogs.reprompt(ctx);
  }

  /** Runs a button handler against the current draft, refusing stale buttons politely. */
  const withDraft =
    (
      fn: (ctx: BotContext, d: Draft, state: DialogState, args: string[]) => Promise<StepResult | undefined>,
    ) =>
    async (ctx: BotContext, args: string[]) => {
      const state = stateOf(ctx);
      const d = state?.data['nid'] ? await loadDraft(nd, draftId(state), ctx.who.id) : null;
      if (!state || !d) {
        await ctx.reply(ctx.t('nominate.draft_gone'));
        return;
      }
      const result = await fn(ctx, d, state, args);
      if (result) await shell.dialogs.apply(ctx, result);
    };

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
          const open = await openCampaigns(deps.db, deps.now());
          if (
            !state ||
            !open.some((c) => c.id === Number(id)) ||
            !ctx.who.access.unionIds.includes(unionId)
          ) {
            return ctx.reply(ctx.t('nominate.campaign_not_open'));
          }
          const d = await startDraft(nd, { personId: ctx.who.id, unionId, campaignId: Number(id) });
          state.data['nid'] = d.id;
          await shell.dialogs.apply(ctx, { next: 'category' });
        },
      },
      {
        action: 'nm_cat',
        access: contact,
        handler: withDraft(async (ctx, d, state, [id]) => {
          const cat = d.campaign.categories.find((c) => c.id === Number(id));
          if (!cat) return { stay: true };
          const quota = await quotaRemaining(deps.db, {
            unionId: d.unionId,
            categoryId: cat.id,
            quota: cat.quotaPerUnion,
            excludeId: d.id,
          });
          if (quota !== null && quota < 1) {
            await ctx.reply(ctx.t('errors.nomination_quota_full', { quota: cat.quotaPerUnion ?? 0 }));
            return { stay: true };
          }
          const budget = await budgetRemaining(deps.db, {
            campaignId: d.campaignId,
            budgetFen: d.campaign.budgetTotalFen,
            excludeId: d.id,
          });
          if (budget < BigInt(cat.standardAmountFen)) {
            await ctx.reply(
              ctx.t('errors.nomination_budget_exhausted', {
                remaining: yuan(Number(budget > 0n ? budget : 0n)),
              }),
            );
            return { stay: true };
          }
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step: 'category',
            data: { categoryId: cat.id, amountFen: cat.standardAmountFen },
          });
          if (quota !== null) await ctx.reply(ctx.t('nominate.quota_left', { left: quota - 1 }));
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_idok',
        access: contact,
        handler: withDraft(async (ctx, d, state) => {
          await saveAnswer(nd, { personId: ctx.who.id, nominationId: d.id, step: 'id_number', data: {} });
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_cardok',
        access: contact,
        handler: withDraft(async (ctx, d, state) => {
          await saveAnswer(nd, { personId: ctx.who.id, nominationId: d.id, step: 'bank_card', data: {} });
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_v',
        access: contact,
        handler: withDraft(async (ctx, d, state, [step, code]) => {
          const v = VOCAB[step as Step];
          const column = VOCAB_COLUMN[step as Step];
          if (!v || !column || !code || !v.codes.includes(code)) return { stay: true };
          const data: Record<string, unknown> = { [column]: code };
          if (step === 'main_cause') data['secondaryCauses'] = d.secondaryCauses.filter((c) => c !== code);
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step: step as Step,
            data: data as never,
          });
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_sc',
        access: contact,
        handler: withDraft(async (ctx, d, _state, [code]) => {
          if (!code || !HARDSHIP_CAUSES.some((c) => c.code === code) || code === d.mainCause)
            return undefined;
          const chosen = d.secondaryCauses.includes(code)
            ? d.secondaryCauses.filter((c) => c !== code)
            : [...d.secondaryCauses, code];
          if (chosen.length > MAX_SECONDARY_CAUSES) {
            await ctx
              .answerCbQuery(
                ctx.t('validation.hardship.too_many_secondary', {
                  max: MAX_SECONDARY_CAUSES,
                  count: chosen.length,
                }),
                { show_alert: true },
              )
              .catch(() => {});
            return undefined;
          }
          await deps.db.nomination.updateMany({
            where: { id: d.id, submittedById: ctx.who.id },
            data: { secondaryCauses: chosen },
          });
          await ctx
            .editMessageReplyMarkup({
              inline_keyboard: secondaryKeyboard(ctx, { ...d, secondaryCauses: chosen }),
            })
            .catch(() => {});
          return undefined;
        }),
      },
      {
        action: 'nm_scdone',
        access: contact,
        handler: withDraft(async (ctx, d, state) => {
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step: 'secondary_causes',
            data: {},
          });
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_form',
        access: contact,
        handler: withDraft(async (ctx, d, state, [form]) => {
          if (!form || !d.category?.benefitForms.includes(form as never)) return { stay: true };
          await saveAnswer(nd, {
            personId: ctx.who.id,
            nominationId: d.id,
            step: 'benefit_form',
            data: { benefitForm: form as never },
          });
          return advance(ctx, state);
        }),
      },
      {
        action: 'nm_back',
        access: contact,
        handler: withDraft(async (_ctx, d, state) => {
          const steps = stepsFor(d.category ? toCategoryInfo(d.category) : undefined, d.benefitForm);
          const current =
            state.step === 'id_confirm'
              ? 'id_number'
              : state.step === 'card_confirm'
                ? 'bank_card'
                : (state.step as Step);
          const prev = previousStep(steps, steps.includes(current) ? current : 'summary');
          if (!prev) return { stay: true };
          state.data['editing'] = null;
          return { next: prev };
        }),
      },
      {
        action: 'nm_goto',
        access: contact,
        handler: withDraft(async (_ctx, _d, _state, [step]) =>
          step === 'id_number' || step === 'bank_card' ? { next: step } : { stay: true },
        ),
      },
      {
        action: 'nm_edit',
        access: contact,
        handler: withDraft(async (_ctx, d, state, [step]) => {
          const steps = stepsFor(d.category ? toCategoryInfo(d.category) : undefined, d.benefitForm);
          if (!step || !steps.includes(step as Step)) return { stay: true };
          state.data['editing'] = true;
          return { next: step };
        }),
      },
      {
        action: 'nm_submit',
        access: contact,
        handler: withDraft(async (ctx, d) => {
          try {
            const r = await submitNomination(nd, { personId: ctx.who.id, nominationId: d.id });
            delete ctx.session.dialog;
            inBackground(deps, 'reminders after submit', () =>
              onNominationChanged(deps.db, deps.queues, r.id, deps.now()),
            );
            await ctx.editMessageReplyMarkup(undefined).catch(() => {});
            const notes = r.flags.filter((f) => f !== 'luhn_warning').map((f) => ctx.t(`flags.${f}`));
            await ctx.reply(
              ctx.t('nominate.submitted', { id: r.id, amount: yuan(r.amountFen) }) +
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
          const state = stateOf(ctx);
          const nid = state?.data['nid'];
          if (typeof nid === 'number') await discardDraft(nd, { personId: ctx.who.id, nominationId: nid });
          shell.dialogs.cancel(ctx);
          await ctx.reply(ctx.t('nominate.discarded'));
        },
      },
    ],
  };
}
