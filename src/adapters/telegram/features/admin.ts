import { onPeopleChanged } from '../../../usecases/reminders.ts';
import dayjs from 'dayjs';
import { GRANTABLE_ROLES, type RoleName } from '../../../domain/roles.ts';
import { DomainError } from '../../../domain/errors.ts';
import { grantRole, listStaff, personRoles, revokeRole } from '../../../usecases/people.ts';
import { createUnion, listUnions, normaliseUnionName } from '../../../usecases/unions.ts';
import { createInvite } from '../../../usecases/invites.ts';
import type { BotContext } from '../context.ts';
import { button, type BotDeps, type Feature, type ShellApi, inBackground } from '../kit.ts';

// Admin commands: grassroots unions, invites for their contacts, and staff roles.

const ROLE_ALIASES: Record<string, RoleName> = {
  contact: 'contact',
  联系人: 'contact',
  admin: 'admin',
  reviewer: 'reviewer',
  finance: 'finance',
  管理员: 'admin',
  审核员: 'reviewer',
  审核人员: 'reviewer',
  财务: 'finance',
  财务人员: 'finance',
  auditor: 'auditor',
  审计: 'auditor',
  审计人员: 'auditor',
};

/** `<telegram id> <role> [union id]`; a union only for the contact role (contacts join by invite). */
function parseRoleArgs(
  args: string,
  grant: boolean,
): { telegramId: bigint; role: RoleName; unionId?: number } | null {
  const [id, roleRaw, union, ...rest] = args.trim().split(/\s+/);
  const role = roleRaw ? ROLE_ALIASES[roleRaw.toLowerCase()] : undefined;
  if (!id || !/^\d{1,20}$/.test(id) || !role || rest.length > 0) return null;
  if (role === 'contact' && grant) return null;
  if (union !== undefined && (role !== 'contact' || !/^\d{1,9}$/.test(union))) return null;
  return { telegramId: BigInt(id), role, ...(union !== undefined ? { unionId: Number(union) } : {}) };
}

export function adminFeature(deps: BotDeps, shell: ShellApi): Feature {
  const admin = ['admin'] as const;

  const sendInvite = async (ctx: BotContext, unionId: number, maxUses: number) => {
    const inv = await createInvite(deps.db, deps.cipher, {
      actorId: ctx.who.id,
      unionId,
      maxUses,
      ttlDays: deps.inviteTtlDays,
      now: deps.now(),
    });
    const link = `https://t.me/${deps.botUsername()}?start=${inv.payload}`;
    await ctx.reply(
      ctx.t('admin.invite_created', {
        union: inv.unionName,
        link,
        uses: maxUses,
        expires: dayjs(inv.expiresAt).format('YYYY-MM-DD HH:mm'),
      }),
      { link_preview_options: { is_disabled: true } },
    );
  };

  const changeRole = async (ctx: BotContext, args: string, grant: boolean) => {
    // Contacts join a union through its invite link, not by a grant.
    if (grant && /^\s*\d+\s+(contact\b|联系人)/i.test(args))
      return ctx.reply(ctx.t('admin.grant_contact_by_invite'));
    const parsed = parseRoleArgs(args, grant);
    if (!parsed) {
      await ctx.reply(
        ctx.t(grant ? 'admin.grant_usage' : 'admin.revoke_usage', { roles: GRANTABLE_ROLES.join(' / ') }),
      );
      return;
    }
    const r = grant
      ? await grantRole(deps.db, { actorId: ctx.who.id, ...parsed })
      : await revokeRole(deps.db, { actorId: ctx.who.id, ...parsed });
    const role = ctx.t(`roles.${parsed.role}`);
    if ('conflict' in r && r.conflict && r.conflict.length > 0)
      return ctx.reply(
        ctx.t('auditor.role_conflict', {
          id: String(parsed.telegramId),
          role,
          held: r.conflict.map((x) => ctx.t(`roles.${x}`)).join('、'),
        }),
      );
    const key = r.changed
      ? grant
        ? 'admin.granted'
        : 'admin.revoked'
      : grant
        ? 'admin.grant_nochange'
        : 'admin.revoke_nochange';
    const drafts =
      !grant && r.changed && parsed.role === 'contact' && 'draftsDeleted' in r
        ? `\n${ctx.t('admin.contact_revoked_drafts', { drafts: r.draftsDeleted ?? 0, returned: r.returnedLeft ?? 0 })}`
        : '';
    await ctx.reply(ctx.t(key, { id: String(parsed.telegramId), role }) + drafts);
    if (r.changed) {
      inBackground(deps, 'reminders after a role change', () =>
        onPeopleChanged(deps.db, deps.queues, deps.now(), { telegramId: parsed.telegramId }),
      );
      // Refresh the person's own command menu (fails harmlessly if they never opened the bot).
      const p = await personRoles(deps.db, parsed.telegramId);
      if (p) {
        const locale = deps.i18n.resolve(p.locale, p.telegramLanguage);
        await shell.syncMenu(Number(parsed.telegramId), new Set(p.roles.map((r) => r as RoleName)), locale);
      }
    }
  };

  return {
    commands: [
      {
        name: 'unions',
        access: admin,
        handler: async (ctx) => {
          const unions = await listUnions(deps.db);
          if (unions.length === 0) return ctx.reply(ctx.t('admin.unions_empty'));
          const lines = unions.map((u) =>
            ctx.t('admin.union_line', { id: u.id, name: u.name, contacts: u.contacts }),
          );
          return ctx.reply(
            [
              ctx.t('admin.unions_title', { count: unions.length }),
              ...lines,
              '',
              ctx.t('admin.unions_hint'),
            ].join('\n'),
          );
        },
      },
      {
        name: 'union_add',
        access: admin,
        handler: async (ctx, args) => {
          if (args) {
            ctx.session.dialog = {
              name: 'union_add',
              step: 'confirm',
              data: { name: normaliseUnionName(args) },
              startedAt: Date.now(),
            };
            await shell.dialogs.reprompt(ctx);
          } else await shell.dialogs.start(ctx, 'union_add');
        },
      },
      {
        name: 'invite',
        access: admin,
        handler: async (ctx, args) => {
          const [unionArg, usesArg] = args.split(/\s+/).filter(Boolean);
          if (unionArg) {
            const unionId = Number(unionArg);
            const uses = usesArg ? Number(usesArg) : 1;
            if (!Number.isInteger(unionId)) return ctx.reply(ctx.t('admin.invite_usage'));
            return sendInvite(ctx, unionId, uses);
          }
          const unions = await listUnions(deps.db);
          if (unions.length === 0) return ctx.reply(ctx.t('admin.unions_empty'));
          return ctx.reply(ctx.t('admin.invite_pick_union'), {
            reply_markup: {
              inline_keyboard: unions.slice(0, 30).map((u) => [button(deps, ctx, u.name, 'inv_union', u.id)]),
            },
          });
        },
      },
      { name: 'grant', access: admin, handler: (ctx, args) => changeRole(ctx, args, true) },
      { name: 'revoke', access: admin, handler: (ctx, args) => changeRole(ctx, args, false) },
      {
        name: 'staff',
        access: admin,
        handler: async (ctx) => {
          const grants = await listStaff(deps.db);
          const lines = grants.map((g) =>
            ctx.t('admin.staff_line', {
              role: ctx.t(`roles.${g.role}`),
              name: g.person.displayName,
              id: String(g.person.telegramId ?? '-'),
            }),
          );
          await ctx.reply([ctx.t('admin.staff_title'), ...lines].join('\n'));
        },
      },
    ],
    callbacks: [
      {
        action: 'inv_union',
        access: admin,
        handler: async (ctx, [id]) => sendInvite(ctx, Number(id), 1),
      },
      {
        action: 'union_ok',
        access: admin,
        handler: async (ctx) => {
          const name = ctx.session.dialog?.name === 'union_add' ? ctx.session.dialog.data['name'] : undefined;
          if (typeof name !== 'string') return ctx.editMessageText(ctx.t('dialog.expired'));
          // The dialog is dropped only once the union exists: after an outage the same button works again.
          try {
            const u = await createUnion(deps.db, { actorId: ctx.who.id, name });
            delete ctx.session.dialog;
            await ctx.editMessageText(ctx.t('admin.union_created', { id: u.id, name: u.name }));
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            delete ctx.session.dialog;
            await ctx.editMessageText(ctx.t(`errors.${err.code}`, err.params));
          }
        },
      },
    ],
    dialogs: [
      {
        name: 'union_add',
        access: admin,
        first: 'name',
        steps: {
          name: {
            prompt: (ctx) => ctx.reply(ctx.t('admin.union_ask_name')),
            onText: async (ctx, text, state) => {
              const name = normaliseUnionName(text);
              if (name.length < 2 || name.length > 60 || !/\p{L}/u.test(name)) {
                await ctx.reply(ctx.t('errors.union_name_invalid', { min: 2, max: 60 }));
                return { stay: true };
              }
              state.data['name'] = name;
              return { next: 'confirm' };
            },
          },
          confirm: {
            prompt: (ctx, state) =>
              ctx.reply(ctx.t('admin.union_confirm', { name: String(state.data['name']) }), {
                reply_markup: {
                  inline_keyboard: [
                    [
                      button(deps, ctx, ctx.t('buttons.create'), 'union_ok'),
                      button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel'),
                    ],
                  ],
                },
              }),
          },
        },
      },
    ],
  };
}
