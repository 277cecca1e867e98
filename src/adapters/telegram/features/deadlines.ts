import {
  applyDeadlineChange,
  type DeadlineField,
  listDeadlines,
  planDeadlineChange,
} from '../../../usecases/deadlines.ts';
import { onCampaignChanged } from '../../../usecases/reminders.ts';
import { notifyDeadlineChange } from '../../../usecases/announcements.ts';
import type { BotContext } from '../context.ts';
import { button, type BotDeps, type Feature, inBackground, type ShellApi } from '../kit.ts';

// Staff commands on the campaign timeline: /deadlines (dates with working days left, entry deadlines due
// and overdue) and /deadline <campaign> <opens|closes|review|payment> <YYYY-MM-DD[ HH:mm]> (admins), which
// shows old → new and asks for confirmation; on confirm the change is audited and reminders re-synced.

const DIALOG = 'deadline';

export function deadlinesFeature(deps: BotDeps, shell: ShellApi): Feature {
  const admin = ['admin'] as const;

  const problemText = (ctx: BotContext, p: { code: string; params?: Record<string, string> }) => {
    const params: Record<string, string> = { ...(p.params ?? {}) };
    for (const k of ['field', 'other'] as const) {
      if (params[k]) params[k] = ctx.t(`reminders.field_${params[k]}`);
    }
    return ctx.t(`reminders.errors.${p.code}`, params);
  };

  return {
    commands: [
      {
        name: 'deadlines',
        access: ['admin', 'reviewer', 'finance'],
        handler: async (ctx) => {
          const list = await listDeadlines(deps.db, deps.now());
          if (list.length === 0) return ctx.reply(ctx.t('reminders.deadlines_empty'));
          const blocks = list.map((c) => {
            const lines = [
              ctx.t('reminders.deadlines_campaign', {
                title: ctx.locale === 'en' ? c.titleEn : c.titleZh,
                code: c.code,
              }),
            ];
            for (const l of c.lines) {
              lines.push(
                ctx.t(l.passed ? 'reminders.deadline_line_passed' : 'reminders.deadline_line', {
                  field: ctx.t(`reminders.field_${l.field}`),
                  value: l.value,
                  n: Math.abs(l.workingDaysLeft),
                }),
              );
            }
            lines.push(
              ctx.t('reminders.deadlines_entry', {
                days: c.entryWorkingDays,
                open: c.entryOpen,
                overdue: c.entryOverdue,
                next: c.nextEntryDeadline ?? '-',
              }),
            );
            return lines.join('\n');
          });
          return ctx.reply([ctx.t('reminders.deadlines_title'), '', blocks.join('\n\n')].join('\n'));
        },
      },
      {
        name: 'deadline',
        access: admin,
        handler: async (ctx, args) => {
          const m = /^(\S+)\s+(\S+)\s+(\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2})?)\s*$/.exec(args);
          if (!m) return ctx.reply(ctx.t('reminders.deadline_usage'));
          const plan = await planDeadlineChange(deps.db, { code: m[1]!, field: m[2]!, value: m[3]! });
          if (!plan.ok) return ctx.reply(problemText(ctx, plan.problem));
          const c = plan.change;
          ctx.session.dialog = {
            name: DIALOG,
            step: 'confirm',
            data: {
              campaignId: c.campaignId,
              code: c.campaignCode,
              field: c.field,
              before: c.before,
              after: c.after,
              value: c.value.toISOString(),
            },
            startedAt: Date.now(),
          };
          await shell.dialogs.reprompt(ctx);
        },
      },
    ],
    callbacks: [
      {
        action: 'dl_ok',
        access: admin,
        handler: async (ctx) => {
          const d = ctx.session.dialog?.name === DIALOG ? ctx.session.dialog.data : undefined;
          if (!d || typeof d['value'] !== 'string') return ctx.editMessageText(ctx.t('dialog.expired'));
          const field = String(d['field']) as DeadlineField;
          const r = await applyDeadlineChange(deps.db, {
            actorId: ctx.who.id,
            campaignId: Number(d['campaignId']),
            field,
            before: String(d['before']),
            value: new Date(d['value']),
          });
          delete ctx.session.dialog;
          if (!r.ok) {
            return ctx.editMessageText(
              r.problem.code === 'stale' ? ctx.t('reminders.errors.stale') : problemText(ctx, r.problem),
            );
          }
          await ctx.editMessageText(
            ctx.t('reminders.deadline_changed', {
              code: r.change.campaignCode,
              field: ctx.t(`reminders.field_${field}`),
              before: r.change.before,
              after: r.change.after,
            }),
          );
          const change = r.change;
          // Contacts (nomination deadline) or reviewers (review deadline) are told, once per change.
          inBackground(deps, 'deadline change notices', () =>
            notifyDeadlineChange(
              deps.db,
              deps.queues,
              { ...change, changedAt: change.changedAt ?? deps.now() },
              deps.now(),
            ),
          );
          try {
            await onCampaignChanged(deps.db, deps.queues, r.change.campaignId, deps.now());
          } catch (err) {
            // The change is committed; the worker's next sync (or npm run reminders:sync) catches up.
            deps.logger.warn(
              { err, campaignId: r.change.campaignId },
              'reminder re-sync after /deadline failed',
            );
            await ctx.reply(ctx.t('reminders.resync_failed'));
          }
        },
      },
    ],
    dialogs: [
      {
        name: DIALOG,
        access: admin,
        first: 'confirm',
        steps: {
          confirm: {
            prompt: (ctx, state) =>
              ctx.reply(
                ctx.t('reminders.deadline_confirm', {
                  code: String(state.data['code']),
                  field: ctx.t(`reminders.field_${String(state.data['field'])}`),
                  before: String(state.data['before']),
                  after: String(state.data['after']),
                }),
                {
                  reply_markup: {
                    inline_keyboard: [
                      [
                        button(deps, ctx, ctx.t('reminders.button_confirm'), 'dl_ok'),
                        button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel'),
                      ],
                    ],
                  },
                },
              ),
          },
        },
      },
    ],
  };
}
