import { DomainError } from '../../../domain/errors.ts';
import {
  closeFollowUp,
  countOpenFollowUps,
  listOpenFollowUps,
} from '../../../usecases/recipients/followups.ts';
import type { BotContext } from '../context.ts';
import { button, type BotDeps, type Feature, type ShellApi } from '../kit.ts';

// /followups: open staff tasks (unreachable, not received, no answer, locked link), oldest first; [Close]
// asks for the outcome of the phone call and closes the task (audit-logged).

const STAFF = ['admin', 'reviewer', 'finance'] as const;

export function followupsFeature(deps: BotDeps, shell: ShellApi): Feature {
  const show = async (ctx: BotContext) => {
    const [items, total] = await Promise.all([
      listOpenFollowUps(deps.db, { limit: 10 }),
      countOpenFollowUps(deps.db),
    ]);
    if (items.length === 0) return ctx.reply(ctx.t('followups.none'));
    const text = [
      ctx.t('followups.title', { total }),
      ...items.map((f) =>
        ctx.t('followups.line', {
          id: f.id,
          kind: ctx.t(`followups.kind.${f.kind}`),
          nomination: f.nominationId,
          name: f.nameMasked,
          union: f.unionName,
        }),
      ),
    ].join('\n');
    return ctx.reply(text, {
      reply_markup: {
        inline_keyboard: items.map((f) => [
          button(deps, ctx, ctx.t('followups.btn_close', { id: f.id }), 'fu_close', f.id),
        ]),
      },
    });
  };

  return {
    commands: [{ name: 'followups', access: STAFF, handler: (ctx) => show(ctx) }],
    callbacks: [
      {
        action: 'fu_close',
        access: STAFF,
        handler: (ctx, [id]) => shell.dialogs.start(ctx, 'fu_close', { id: Number(id) }),
      },
    ],
    dialogs: [
      {
        name: 'fu_close',
        access: STAFF,
        first: 'outcome',
        steps: {
          outcome: {
            prompt: (ctx, state) =>
              ctx.reply(ctx.t('followups.ask_outcome', { id: Number(state.data['id']) })),
            onText: async (ctx, text, state) => {
              try {
                await closeFollowUp(deps.db, {
                  followUpId: Number(state.data['id']),
                  actorId: ctx.who.id,
                  outcome: text,
                  now: deps.now(),
                });
                await ctx.reply(ctx.t('followups.closed', { id: Number(state.data['id']) }));
                return { end: true };
              } catch (err) {
                if (!(err instanceof DomainError)) throw err;
                await ctx.reply(ctx.t(`followups.errors.${err.code}`, err.params));
                return err.code === 'followup_outcome_empty' ? { stay: true } : { end: true };
              }
            },
          },
        },
      },
    ],
  };
}
