import { setLocale } from '../../../usecases/people.ts';
import { ROLES } from '../../../domain/roles.ts';
import { unionsByIds } from '../../../usecases/unions.ts';
import type { Locale } from '../../i18n.ts';
import type { BotContext } from '../context.ts';
import { allowed, button, mayUse, refusal, type BotDeps, type Feature, type ShellApi } from '../kit.ts';

// /start (and deep links), /help (role-aware), /lang, /whoami, /cancel.

export function basicFeature(deps: BotDeps, shell: ShellApi): Feature {
  const rolesText = (ctx: BotContext) =>
    ROLES.filter((r) => ctx.who.access.roles.has(r))
      .map((r) => ctx.t(`roles.${r}`))
      .join('、') || ctx.t('roles.none');

  const help = async (ctx: BotContext) => {
    const lines = [ctx.t('help.title'), ''];
    const sections: [string, (c: { access: readonly string[] | 'anyone' }) => boolean][] = [
      ['help.section_everyone', (c) => c.access === 'anyone'],
      ...ROLES.filter((r) => ctx.who.access.roles.has(r)).map(
        (r) =>
          [
            `help.section_${r}`,
            (c: { access: readonly string[] | 'anyone' }) => c.access !== 'anyone' && c.access.includes(r),
          ] as [string, (c: { access: readonly string[] | 'anyone' }) => boolean],
      ),
    ];
    const shown = new Set<string>();
    for (const [title, match] of sections) {
      const cmds = [...shell.commands.values()].filter(
        (c) => match(c) && !shown.has(c.name) && mayUse(ctx.who.access.roles, c),
      );
      if (cmds.length === 0) continue;
      lines.push(ctx.t(title));
      for (const c of cmds) {
        shown.add(c.name);
        lines.push(`/${c.name} — ${ctx.t(`commands.${c.name}`)}`);
      }
      lines.push('');
    }
    if (ctx.who.access.roles.size === 0) lines.push(ctx.t('help.no_role'));
    await ctx.reply(lines.join('\n').trim());
  };

  return {
    commands: [
      {
        name: 'start',
        access: 'anyone',
        readOnly: true,
        handler: async (ctx, args) => {
          if (args) {
            const link = [...shell.deepLinks.values()].find((l) => args.startsWith(l.prefix));
            const guard = { access: 'anyone' as const, ...(link?.readOnly ? { readOnly: true } : {}) };
            if (link && !allowed(ctx, guard)) return ctx.reply(refusal(ctx, guard));
            if (link) return link.handler(ctx, args.slice(link.prefix.length));
            await ctx.reply(ctx.t('basic.start_payload_unknown'));
            return;
          }
          await shell.syncMenu(ctx.chat!.id, ctx.who.access.roles, ctx.locale);
          await ctx.reply(ctx.t('basic.welcome', { name: ctx.who.displayName, roles: rolesText(ctx) }));
          if (ctx.who.access.roles.size === 0) await ctx.reply(ctx.t('help.no_role'));
          if (ctx.session.dialog) {
            await ctx.reply(ctx.t('dialog.resuming'));
            await shell.dialogs.reprompt(ctx);
          }
        },
      },
      { name: 'help', access: 'anyone', readOnly: true, handler: help },
      {
        name: 'lang',
        access: 'anyone',
        handler: async (ctx) => {
          await ctx.reply(ctx.t('lang.choose'), {
            reply_markup: {
              inline_keyboard: [
                [button(deps, ctx, '简体中文', 'lang', 'zh-CN'), button(deps, ctx, 'English', 'lang', 'en')],
              ],
            },
          });
        },
      },
      {
        name: 'whoami',
        access: 'anyone',
        readOnly: true,
        handler: async (ctx) => {
          const unions = ctx.who.access.unionIds.length
            ? (await unionsByIds(deps.db, ctx.who.access.unionIds)).map((u) => u.name).join('、')
            : ctx.t('roles.none');
          await ctx.reply(
            ctx.t('basic.whoami', {
              name: ctx.who.displayName,
              telegramId: ctx.from!.id,
              roles: rolesText(ctx),
              unions,
              language: ctx.t(`lang.name_${ctx.locale}`),
            }),
          );
        },
      },
      {
        name: 'cancel',
        access: 'anyone',
        readOnly: true,
        handler: async (ctx) => {
          await ctx.reply(ctx.t(shell.dialogs.cancel(ctx) ? 'dialog.cancelled' : 'dialog.nothing_to_cancel'));
        },
      },
    ],
    callbacks: [
      {
        action: 'dlg_cancel',
        access: 'anyone',
        readOnly: true,
        handler: async (ctx) => {
          shell.dialogs.cancel(ctx);
          await ctx.editMessageText(ctx.t('dialog.cancelled'));
        },
      },
      {
        action: 'lang',
        access: 'anyone',
        handler: async (ctx, [locale]) => {
          if (locale !== 'zh-CN' && locale !== 'en') return;
          await setLocale(deps.db, ctx.who.id, locale);
          ctx.locale = locale as Locale;
          await ctx.editMessageText(ctx.t('lang.changed'));
          await shell.syncMenu(ctx.chat!.id, ctx.who.access.roles, ctx.locale);
        },
      },
    ],
  };
}
