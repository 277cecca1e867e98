import type { InlineKeyboardButton } from 'telegraf/types';
import { formatShanghaiDateTime } from '../../../domain/calendar/date.ts';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { DomainError } from '../../../domain/errors.ts';
import { REJECT_REASONS, REVIEW_ROLES, type ReviewAction } from '../../../domain/review/rules.ts';
import { previewBulkApprove } from '../../../usecases/review/bulk-approve.ts';
import { type DecideResult, decideNomination } from '../../../usecases/review/decide-nomination.ts';
import type { ReviewDeps } from '../../../usecases/review/deps.ts';
import {
  type CardRow,
  listPending,
  nextForReview,
  type QueueFilter,
  releaseLease,
  resolveFilter,
  type ReviewCard,
  reviewCard,
} from '../../../usecases/review/queries.ts';
import type { Params } from '../../i18n.ts';
import type { BotContext } from '../context.ts';
import { button, type BotDeps, type Feature, type ShellApi } from '../kit.ts';
import { requestStaffJob } from '../staff-job-request.ts';

// Review in chat: /queue (filters, pages, bulk approve), /review (one card at a time, edited in place),
// decisions with reasons. Buttons carry the nomination id, revision and version the card showed; the
// use case re-checks role-independent state (campaign, status, version) on every press and the shell
// re-checks the role. Sensitive fields are masked on cards.

const STAFF = REVIEW_ROLES;
const TEXT_DIALOG = 'review_text';

/** Fills "@locale.key" parameters (and comma lists of them) in the reader's language. */
export function localParams(ctx: BotContext, params: Record<string, string | number>): Params {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => {
      if (typeof v !== 'string' || !v.startsWith('@')) return [k, v];
      return [
        k,
        v
          .split(',')
          .map((p) => (p.startsWith('@') ? ctx.t(p.slice(1)) : p))
          .join('、'),
      ];
    }),
  );
}

/** Diff fields without a label in the shared `field` section. */
const OWN_FIELDS = new Set(['birth_date', 'sex', 'amount']);

const ICON = { ok: '✅', warn: '⚠️', fail: '❌' } as const;

export function reviewFeature(deps: BotDeps, shell: ShellApi): Feature {
  const rd: ReviewDeps = { db: deps.db, cipher: deps.cipher, queues: deps.queues, now: deps.now };
  const leases = { db: deps.db, redis: deps.redis, prefix: deps.queues.prefix };
  const t = (ctx: BotContext, key: string, p: Record<string, string | number> = {}) =>
    ctx.t(key, localParams(ctx, p));

  function cardText(ctx: BotContext, c: ReviewCard): string {
    const v = c.view;
    const en = ctx.locale === 'en';
    const line = (field: string, value: string | null | undefined) =>
      value ? [`${ctx.t(`field.${field}`)}：${value}`] : [];
    const lines = [
      t(ctx, 'review.card_title', { id: v.id, revision: v.revision, status: `@status.${v.status}` }),
      ...line('campaign', en ? v.campaignTitleEn : v.campaignTitleZh),
      ...line('union', v.unionName),
      ...line(
        'category',
        `${en ? v.categoryEn : v.categoryZh}（${v.amountFen !== null ? ctx.t('money.amount', { amount: formatYuan(v.amountFen) }) : '—'}）`,
      ),
      ...line('name', v.fullName),
      ...line('id_number', v.idNumberMasked),
      ...line('phone', v.phoneMasked),
      ...line('employer', v.employer),
      ...line('work_status', v.workStatus ? ctx.t(`vocab.work_status.${v.workStatus}`) : null),
      ...line('hardship_tier', v.hardshipTier ? ctx.t(`vocab.hardship_tier.${v.hardshipTier}`) : null),
      ...line('main_cause', v.mainCause ? ctx.t(`vocab.hardship_cause.${v.mainCause}`) : null),
      ...line('description', v.description),
      ...line('benefit_form', v.benefitForm ? ctx.t(`vocab.benefit_form.${v.benefitForm}`) : null),
      ...line('bank_card', v.bankCardMasked ? `${v.bankName ?? ''} ${v.bankCardMasked}`.trim() : null),
      ...(c.submittedAt
        ? [t(ctx, 'review.submitted_at', { at: formatShanghaiDateTime(c.submittedAt) })]
        : []),
      '',
      ctx.t('review.checks_title'),
      ...c.checks.map((ch) => `${ICON[ch.level]} ${t(ctx, `review.check.${ch.code}`, ch.params)}`),
    ];
    if (c.secondApproval.length)
      lines.push(
        '',
        t(ctx, 'review.four_eyes', { why: c.secondApproval.map((w) => `@review.four_eyes_${w}`).join(',') }),
      );
    for (const d of c.decisions)
      lines.push(
        t(ctx, 'review.decided_line', {
          kind: `@review.kind.${d.kind}`,
          by: d.by,
          at: formatShanghaiDateTime(d.at),
        }),
      );
    if (c.diff) {
      lines.push('', t(ctx, 'review.diff_title', { from: c.diff.fromRevision, to: v.revision }));
      if (c.diff.returnComment) lines.push(t(ctx, 'review.diff_comment', { comment: c.diff.returnComment }));
      if (c.diff.changes.length === 0) lines.push(ctx.t('review.diff_none'));
      for (const ch of c.diff.changes)
        lines.push(
          t(ctx, 'review.diff_line', {
            field: OWN_FIELDS.has(ch.field) ? `@review.field.${ch.field}` : `@field.${ch.field}`,
            before: ch.before,
            after: ch.after,
          }),
        );
    }
    return lines.join('\n').slice(0, 4000);
  }

  function cardKeyboard(ctx: BotContext, c: ReviewCard): InlineKeyboardButton[][] {
    const a = [c.view.id, c.view.revision, c.version] as const;
    return [
      [
        button(deps, ctx, ctx.t('review.btn_approve'), 'rv_ok', ...a),
        button(deps, ctx, ctx.t('review.btn_reject'), 'rv_rj', ...a),
      ],
      [
        button(deps, ctx, ctx.t('review.btn_return'), 'rv_ret', ...a),
        button(deps, ctx, ctx.t('review.btn_skip'), 'rv_skip', c.view.id, c.campaignId),
      ],
    ];
  }

  // "1": pressed on a card, so the next card replaces it; from a digest notice a new message is sent.
  const nextButton = (ctx: BotContext, campaignId: number) => [
    [button(deps, ctx, ctx.t('review.btn_next'), 'rv_next', campaignId, 1)],
  ];

  /** Shows a card (editing the pressed message when `edit`), or "nothing waiting". */
  async function showCard(ctx: BotContext, id: number | null, edit: boolean, row?: CardRow) {
    const c = id ? await reviewCard(rd, id, row) : null;
    const text = c ? cardText(ctx, c) : ctx.t('review.none_waiting');
    const extra = c ? { reply_markup: { inline_keyboard: cardKeyboard(ctx, c) } } : {};
    if (edit) return ctx.editMessageText(text, extra).catch(() => ctx.reply(text, extra));
    return ctx.reply(text, extra);
  }

  async function openNext(ctx: BotContext, edit: boolean, campaignId = 0, afterId = 0) {
    const next = await nextForReview(leases, {
      reviewerId: ctx.who.id,
      filter: campaignId ? { campaignId } : {},
      ...(afterId ? { afterId } : {}),
    });
    return showCard(ctx, next?.id ?? null, edit, next ?? undefined);
  }

  function resultText(ctx: BotContext, r: DecideResult, id: number): string {
    switch (r.outcome) {
      case 'decided':
        return t(ctx, `review.done_${r.status}`, { id });
      case 'taken':
        return t(ctx, r.byId === ctx.who.id ? 'review.taken_self' : 'review.taken', {
          id,
          by: r.by,
          kind: `@review.kind.${r.kind}`,
          at: formatShanghaiDateTime(r.at),
          status: `@status.${r.status}`,
        });
      case 'stale':
        return t(ctx, 'review.stale', { id, status: `@status.${r.status}` });
    }
  }

  /** Runs one decision and turns the card (or a new message) into its outcome plus "next". */
  async function decide(
    ctx: BotContext,
    args: string[],
    action: ReviewAction,
    extra: { reason?: string; comment?: string },
    edit: boolean,
  ) {
    const [nid, rev, ver] = args.map(Number) as [number, number, number];
    // The card shows the outcome as soon as the decision is committed (the contact's notice row is
    // committed with it and its job queued after the card; the lease released alongside): the
    // reviewer's press waits for nothing else.
    const show = (r: DecideResult) => {
      const text = resultText(ctx, r, nid);
      const keyboard = {
        reply_markup: {
          inline_keyboard:
            r.outcome === 'stale'
              ? [
                  [button(deps, ctx, ctx.t('review.btn_refresh'), 'rv_open', nid)],
                  ...nextButton(ctx, r.campaignId),
                ]
              : nextButton(ctx, r.campaignId),
        },
      };
      if (edit) return ctx.editMessageText(text, keyboard).catch(() => ctx.reply(text, keyboard));
      return ctx.reply(text, keyboard);
    };
    try {
      const r = await decideNomination(
        rd,
        { reviewerId: ctx.who.id, nominationId: nid, revision: rev, version: ver, action, ...extra },
        (decided) => Promise.all([show(decided), releaseLease(leases, nid)]),
      );
      if (r.outcome !== 'decided') await show(r);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await ctx.reply(ctx.t(`errors.${err.code}`, err.params));
    }
  }

  // ---------------------------------------------------------------------------------------------- /queue

  const encodeFilter = (f: QueueFilter) => [
    f.campaignId ?? 0,
    f.categoryId ?? 0,
    f.unionId ?? 0,
    f.flaggedOnly ? 1 : 0,
  ];
  const decodeFilter = (a: string[]): QueueFilter => {
    const [c, cat, u, fl] = a.map(Number);
    return {
      ...(c ? { campaignId: c } : {}),
      ...(cat ? { categoryId: cat } : {}),
      ...(u ? { unionId: u } : {}),
      ...(fl ? { flaggedOnly: true } : {}),
    };
  };

  async function queuePage(ctx: BotContext, f: QueueFilter, page: number, edit: boolean) {
    const list = await listPending(rd, f, page);
    const en = ctx.locale === 'en';
    const text =
      list.total === 0
        ? ctx.t('review.queue_empty')
        : [
            t(ctx, 'review.queue_title', {
              total: list.total,
              flagged: list.flagged,
              page: page + 1,
              pages: list.pages,
            }),
            ...list.rows.map((r) =>
              t(ctx, 'review.queue_line', {
                id: r.id,
                name: r.fullName ?? '—',
                union: r.union.name,
                category: (en ? r.category?.nameEn : r.category?.nameZh) ?? '—',
                amount: formatYuan(r.amountFen ?? 0),
                status: `@status.${r.status}`,
                flag: r.flags.length ? ' ⚠️' : '',
              }),
            ),
            '',
            ctx.t('review.queue_hint'),
          ].join('\n');
    const fa = encodeFilter(f);
    const keyboard: InlineKeyboardButton[][] = [
      ...list.rows.map((r) => [
        button(deps, ctx, t(ctx, 'review.btn_open', { id: r.id, name: r.fullName ?? '' }), 'rv_open', r.id),
      ]),
      [
        ...(page > 0 ? [button(deps, ctx, ctx.t('review.prev'), 'q_pg', page - 1, ...fa)] : []),
        ...(page + 1 < list.pages ? [button(deps, ctx, ctx.t('review.next'), 'q_pg', page + 1, ...fa)] : []),
      ],
      ...(f.campaignId && !f.flaggedOnly && list.total > 0
        ? [[button(deps, ctx, ctx.t('review.btn_bulk'), 'rv_bulk', ...fa.slice(0, 3))]]
        : []),
    ].filter((row) => row.length > 0);
    const extra = { reply_markup: { inline_keyboard: keyboard } };
    if (edit) return ctx.editMessageText(text, extra).catch(() => ctx.reply(text, extra));
    return ctx.reply(text, extra);
  }

  async function bulkPreview(ctx: BotContext, f: QueueFilter & { campaignId: number }, edit: boolean) {
    const p = await previewBulkApprove(rd, f, ctx.who.id);
    const excluded = p.excluded.slice(0, 30).map((e) =>
      t(ctx, 'review.bulk_excluded_line', {
        id: e.id,
        name: e.fullName ?? '—',
        why:
          e.reason === 'flagged'
            ? e.flags.map((fl) => `@flags.${fl}`).join(',')
            : `@review.bulk_why_${e.reason}`,
      }),
    );
    const text = [
      p.count > 0
        ? t(ctx, 'review.bulk_preview', { n: p.count, total: formatYuan(p.totalFen) })
        : ctx.t('review.bulk_nothing'),
      ...(p.excluded.length
        ? ['', t(ctx, 'review.bulk_excluded', { n: p.excluded.length }), ...excluded]
        : []),
      ...(p.excluded.length > 30 ? [t(ctx, 'review.bulk_more', { n: p.excluded.length - 30 })] : []),
    ].join('\n');
    const fa = encodeFilter(f).slice(0, 3);
    const extra = {
      reply_markup: {
        inline_keyboard:
          p.count > 0
            ? [
                [
                  button(
                    deps,
                    ctx,
                    t(ctx, 'review.btn_bulk_confirm', { n: p.count }),
                    'rv_bulkok',
                    ...fa,
                    p.count,
                    p.maxId,
                  ),
                  button(deps, ctx, ctx.t('buttons.cancel'), 'q_pg', 0, ...encodeFilter(f)),
                ],
              ]
            : [],
      },
    };
    if (edit) return ctx.editMessageText(text, extra).catch(() => ctx.reply(text, extra));
    return ctx.reply(text, extra);
  }

  return {
    commands: [
      {
        name: 'queue',
        access: STAFF,
        handler: async (ctx, args) => {
          let f: QueueFilter;
          try {
            f = await resolveFilter(rd, args);
          } catch {
            return ctx.reply(ctx.t('review.queue_usage'));
          }
          return queuePage(ctx, f, 0, false);
        },
      },
      { name: 'review', access: STAFF, handler: (ctx) => openNext(ctx, false) },
    ],
    callbacks: [
      {
        action: 'rv_next',
        access: STAFF,
        handler: (ctx, [c, fromCard]) => openNext(ctx, fromCard === '1', Number(c ?? 0)),
      },
      {
        action: 'rv_skip',
        access: STAFF,
        handler: async (ctx, [id, c]) => {
          await releaseLease(leases, Number(id));
          return openNext(ctx, true, Number(c ?? 0), Number(id));
        },
      },
      { action: 'rv_open', access: STAFF, handler: (ctx, [id]) => showCard(ctx, Number(id), false) },
      { action: 'rv_ok', access: STAFF, handler: (ctx, args) => decide(ctx, args, 'approve', {}, true) },
      {
        action: 'rv_rj',
        access: STAFF,
        handler: async (ctx, args) => {
          const a = args.slice(0, 3);
          const reasons = REJECT_REASONS.map((r, i) => [
            button(deps, ctx, ctx.t(`review.reasons.${r}`), 'rv_rr', ...a, i),
          ]);
          await ctx.editMessageReplyMarkup({
            inline_keyboard: [
              ...reasons,
              [button(deps, ctx, ctx.t('review.btn_type_reason'), 'rv_rt', ...a)],
              [button(deps, ctx, ctx.t('review.btn_back'), 'rv_back', ...a)],
            ],
          });
        },
      },
      {
        action: 'rv_rr',
        access: STAFF,
        handler: (ctx, args) => {
          const reason = REJECT_REASONS[Number(args[3])];
          if (!reason) return ctx.reply(ctx.t('errors.button_invalid'));
          return decide(ctx, args.slice(0, 3), 'reject', { reason }, true);
        },
      },
      {
        action: 'rv_back',
        access: STAFF,
        handler: async (ctx, [id]) => {
          const c = await reviewCard(rd, Number(id));
          if (c)
            await ctx.editMessageText(cardText(ctx, c), {
              reply_markup: { inline_keyboard: cardKeyboard(ctx, c) },
            });
        },
      },
      {
        action: 'rv_rt',
        access: STAFF,
        handler: (ctx, [nid, rev, ver]) =>
          shell.dialogs.start(ctx, TEXT_DIALOG, {
            nid: Number(nid),
            rev: Number(rev),
            ver: Number(ver),
            mode: 'reject',
          }),
      },
      {
        action: 'rv_ret',
        access: STAFF,
        handler: (ctx, [nid, rev, ver]) =>
          shell.dialogs.start(ctx, TEXT_DIALOG, {
            nid: Number(nid),
            rev: Number(rev),
            ver: Number(ver),
            mode: 'return',
          }),
      },
      {
        action: 'rv_tx',
        access: STAFF,
        handler: async (ctx) => {
          shell.dialogs.cancel(ctx);
          await ctx.reply(ctx.t('review.text_cancelled'));
        },
      },
      {
        action: 'q_pg',
        access: STAFF,
        handler: (ctx, [page, ...f]) => queuePage(ctx, decodeFilter(f), Math.max(0, Number(page) || 0), true),
      },
      {
        action: 'rv_bulk',
        access: STAFF,
        handler: (ctx, f) => {
          const filter = decodeFilter(f);
          if (!filter.campaignId) return ctx.reply(ctx.t('review.queue_usage'));
          return bulkPreview(ctx, { ...filter, campaignId: filter.campaignId }, true);
        },
      },
      {
        action: 'rv_bulkok',
        access: STAFF,
        handler: async (ctx, [c, cat, u, count, maxId]) => {
          const filter = decodeFilter([c ?? '0', cat ?? '0', u ?? '0', '0']);
          if (!filter.campaignId) return ctx.reply(ctx.t('errors.button_invalid'));
          // Thousands of approvals (and a notice each) run as a staff job on this message.
          return requestStaffJob(deps, ctx, {
            kind: 'bulk_approve',
            params: {
              campaignId: filter.campaignId,
              categoryId: filter.categoryId ?? 0,
              unionId: filter.unionId ?? 0,
              expectCount: Number(count),
              maxId: Number(maxId),
            },
            activeKey: `bulk_approve:${filter.campaignId}`,
            mode: 'edit',
          });
        },
      },
    ],
    dialogs: [
      {
        name: TEXT_DIALOG,
        access: STAFF,
        first: 'text',
        steps: {
          text: {
            prompt: (ctx, state) =>
              ctx.reply(
                ctx.t(state.data['mode'] === 'return' ? 'review.ask_comment' : 'review.ask_reason', {
                  id: Number(state.data['nid']),
                }),
                {
                  reply_markup: { inline_keyboard: [[button(deps, ctx, ctx.t('buttons.cancel'), 'rv_tx')]] },
                },
              ),
            onText: async (ctx, text, state) => {
              const value = text.trim().slice(0, 500);
              if (value.length < 2) {
                await ctx.reply(
                  ctx.t(
                    state.data['mode'] === 'return'
                      ? 'errors.review_comment_required'
                      : 'errors.review_reason_required',
                  ),
                );
                return { stay: true };
              }
              const args = [state.data['nid'], state.data['rev'], state.data['ver']].map(String);
              delete ctx.session.dialog;
              if (state.data['mode'] === 'return')
                await decide(ctx, args, 'return', { comment: value }, false);
              else await decide(ctx, args, 'reject', { reason: value }, false);
              return { end: true };
            },
          },
        },
      },
    ],
  };
}
