import { onPeopleChanged } from '../../../usecases/reminders.ts';
import { onContactJoined } from '../../../usecases/announcements.ts';
import { checkInvite, checkInviteById, redeemInvite } from '../../../usecases/invites.ts';
import { touchPerson } from '../../../usecases/people.ts';
import { button, type BotDeps, type Feature, type ShellApi, inBackground } from '../kit.ts';

// A contact opens https://t.me/<bot>?start=inv_<code>, sees which union invites them, and confirms.
// Between the two steps the session keeps the invite's id (never the code: sessions live in Redis
// for days and the database keeps only the code's hash).

export function inviteFeature(deps: BotDeps, shell: ShellApi): Feature {
  return {
    deepLinks: [
      {
        prefix: 'inv_',
        handler: async (ctx, code) => {
          const check = await checkInvite(deps.db, deps.cipher, code, ctx.who.id, deps.now());
          if (!check.ok) return ctx.reply(ctx.t(`errors.invite_${check.reason}`));
          if (check.alreadyMember)
            return ctx.reply(ctx.t('invite.already_member', { union: check.unionName }));
          ctx.session.dialog = {
            name: 'invite',
            step: 'confirm',
            data: { inviteId: check.inviteId },
            startedAt: Date.now(),
          };
          await shell.dialogs.reprompt(ctx);
        },
      },
    ],
    callbacks: [
      {
        action: 'inv_ok',
        access: 'anyone',
        handler: async (ctx) => {
          const inviteId =
            ctx.session.dialog?.name === 'invite' ? ctx.session.dialog.data['inviteId'] : undefined;
          if (typeof inviteId !== 'number') return ctx.editMessageText(ctx.t('dialog.expired'));
          const r = await redeemInvite(deps.db, inviteId, ctx.who.id, deps.now());
          delete ctx.session.dialog;
          inBackground(deps, 'reminders after a contact joined', () =>
            onPeopleChanged(deps.db, deps.queues, deps.now(), { id: ctx.who.id }),
          );
          // A contact who joins while a campaign is open gets its opening notice too (once).
          inBackground(deps, 'opening notices after a contact joined', () =>
            onContactJoined(deps.db, deps.queues, ctx.who.id, deps.now()),
          );
          await ctx.editMessageText(ctx.t('invite.joined', { union: r.unionName }));
          const me = await touchPerson(deps.db, ctx.from!);
          await shell.syncMenu(ctx.chat!.id, me.access.roles, ctx.locale);
        },
      },
    ],
    dialogs: [
      {
        name: 'invite',
        access: 'anyone',
        first: 'confirm',
        steps: {
          confirm: {
            prompt: async (ctx, state) => {
              const check = await checkInviteById(
                deps.db,
                Number(state.data['inviteId']),
                ctx.who.id,
                deps.now(),
              );
              if (!check.ok) {
                delete ctx.session.dialog;
                return ctx.reply(ctx.t(`errors.invite_${check.reason}`));
              }
              return ctx.reply(ctx.t('invite.confirm', { union: check.unionName }), {
                reply_markup: {
                  inline_keyboard: [
                    [
                      button(deps, ctx, ctx.t('buttons.join'), 'inv_ok'),
                      button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel'),
                    ],
                  ],
                },
              });
            },
          },
        },
      },
    ],
  };
}
