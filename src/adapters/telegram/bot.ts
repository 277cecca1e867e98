import { randomBytes } from 'node:crypto';
import { Telegraf } from 'telegraf';
import type { BotCommand } from 'telegraf/types';
import { isUnavailableError } from '../db/client.ts';
import { touchPerson } from '../../usecases/people.ts';
import type { RoleName } from '../../domain/roles.ts';
import type { BotContext } from './context.ts';
import { DialogRunner } from './dialogs.ts';
import {
  allowed,
  type BotDeps,
  type CallbackSpec,
  type CommandSpec,
  type DeepLinkSpec,
  type Feature,
  type ShellApi,
} from './kit.ts';
import { redisSession } from './session-store.ts';
import { DomainError } from '../../domain/errors.ts';

const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const DEDUP_TTL_SECONDS = 24 * 3600;
const COMMAND_RE = /^\/([A-Za-z0-9_]{1,32})(?:@(\w+))?(?:\s+([\s\S]*))?$/;

export interface BotApp {
  bot: Telegraf<BotContext>;
  dialogs: DialogRunner;
  /** Updates being handled right now (graceful shutdown waits for 0). */
  inFlight: () => number;
  /** Sets the per-chat command menu for a person's roles (failures are logged, not fatal). */
  syncMenu: (chatId: number, roles: ReadonlySet<RoleName>, locale: 'zh-CN' | 'en') => Promise<void>;
}

export function createBot(
  deps: BotDeps,
  features: (shell: ShellApi) => Feature[],
  opts: { token: string; apiRoot: string },
): BotApp {
  const bot = new Telegraf<BotContext>(opts.token, {
    telegram: { apiRoot: opts.apiRoot, webhookReply: false },
    handlerTimeout: 55_000,
  });
  const dialogs = new DialogRunner();
  const commands = new Map<string, CommandSpec>();
  const callbacks = new Map<string, CallbackSpec>();
  let inFlight = 0;
  const { i18n, logger, metrics } = deps;

  const syncMenu: BotApp['syncMenu'] = async (chatId, roles, locale) => {
    const list: BotCommand[] = [...commands.values()]
      .filter((c) => c.access === 'anyone' || c.access.some((r) => roles.has(r)))
      .map((c) => ({ command: c.name, description: i18n.t(locale, `commands.${c.name}`) }));
    try {
      await bot.telegram.setMyCommands(list, { scope: { type: 'chat', chat_id: chatId } });
    } catch (err) {
      logger.warn({ err, chatId }, 'setMyCommands failed (menu not updated)');
    }
  };

  const deepLinks = new Map<string, DeepLinkSpec>();
  const featureList = features({ dialogs, syncMenu, deepLinks, commands });
  for (const f of featureList) {
    for (const l of f.deepLinks ?? []) deepLinks.set(l.prefix, l);
    for (const c of f.commands ?? []) commands.set(c.name, c);
    for (const c of f.callbacks ?? []) callbacks.set(c.action, c);
    for (const d of f.dialogs ?? []) dialogs.add(d);
  }

  // 1. Bookkeeping, and drop repeated updates (Telegram re-sends when a webhook answer is slow).
  bot.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    inFlight++;
    ctx.requestId = randomBytes(4).toString('hex');
    ctx.locale = i18n.resolve(null, ctx.from?.language_code);
    ctx.t = (key, params) => i18n.t(ctx.locale, key, params);
    try {
      const fresh = await deps.redis
        .set(
          `${deps.queues.prefix}:upd:${ctx.botInfo?.id ?? 0}:${ctx.update.update_id}`,
          '1',
          'EX',
          DEDUP_TTL_SECONDS,
          'NX',
        )
        .catch((err: unknown) => {
          logger.warn({ err }, 'update de-duplication unavailable; handling the update anyway');
          return 'OK';
        });
      if (fresh !== 'OK') {
        metrics.inc('warmth_updates_duplicate_total', 'Repeated updates dropped');
        return;
      }
      metrics.inc('warmth_updates_total', 'Updates received', { type: ctx.updateType });
      await next();
    } finally {
      inFlight--;
      metrics.observe(
        'warmth_update_seconds',
        'Time to handle an update',
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  });

  // 2. Private chats only; identify the person and their roles.
  bot.use(async (ctx, next) => {
    if (!ctx.from || ctx.from.is_bot) return;
    if (ctx.chat && ctx.chat.type !== 'private') {
      if (ctx.message) await ctx.reply(ctx.t('basic.private_only'));
      return;
    }
    ctx.who = await touchPerson(deps.db, ctx.from);
    ctx.locale = i18n.resolve(ctx.who.locale, ctx.who.telegramLanguage);
    await next();
  });

  // 3. Session in Redis, keyed by chat and user.
  bot.use(redisSession(deps.redis, SESSION_TTL_SECONDS, deps.queues.prefix));

  for (const f of featureList) f.install?.(bot);

  // 4. Buttons: verify, check the role again on the server, answer first, then act.
  bot.on('callback_query', async (ctx) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    const payload = data ? deps.callbacks.decode(ctx.from.id, data) : null;
    const spec = payload && callbacks.get(payload.action);
    if (!payload || !spec) {
      metrics.inc('warmth_callbacks_refused_total', 'Forged or unknown button presses', {
        reason: 'invalid',
      });
      logger.warn({ requestId: ctx.requestId, userId: ctx.from.id }, 'refused invalid callback data');
      await ctx.answerCbQuery(ctx.t('errors.button_invalid'), { show_alert: true });
      return;
    }
    if (!allowed(ctx, spec.access)) {
      metrics.inc('warmth_callbacks_refused_total', 'Forged or unknown button presses', {
        reason: 'forbidden',
      });
      await ctx.answerCbQuery(ctx.t('errors.forbidden'), { show_alert: true });
      return;
    }
    await ctx.answerCbQuery();
    await spec.handler(ctx, payload.args);
  });

  // 5. Text: commands, then the dialog in progress, then a helpful hint.
  bot.on('text', async (ctx) => {
    const text = ctx.message.text;
    const m = COMMAND_RE.exec(text.trim());
    if (m) {
      const spec = commands.get(m[1]!.toLowerCase());
      if (!spec) {
        await ctx.reply(
          ctx.t(ctx.session.dialog ? 'basic.unknown_command_in_dialog' : 'basic.unknown_command', {
            command: m[1]!,
          }),
        );
        return;
      }
      if (!allowed(ctx, spec.access)) {
        metrics.inc('warmth_commands_refused_total', 'Commands refused for lack of a role', {
          command: spec.name,
        });
        await ctx.reply(ctx.t('errors.forbidden'));
        return;
      }
      await spec.handler(ctx, (m[3] ?? '').trim());
      return;
    }
    if (await dialogs.onText(ctx, text)) return;
    await ctx.reply(ctx.t('basic.stray_text'));
  });

  // 6. Anything else (stickers, photos, voice...).
  bot.on('message', async (ctx) => {
    if (ctx.session.dialog) {
      await ctx.reply(ctx.t('dialog.text_expected'));
      await dialogs.reprompt(ctx);
    } else await ctx.reply(ctx.t('basic.stray_text'));
  });

  // One error handler: expected failures become their localized message; outages a polite
  // "temporarily unavailable"; bugs an apology with a reference the log can be searched for.
  bot.catch(async (err, ctx) => {
    const c = ctx as BotContext;
    const t = c.t ?? ((k: string) => i18n.t(i18n.defaultLocale, k));
    let text: string;
    if (err instanceof DomainError) text = t(`errors.${err.code}`, err.params);
    else if (isUnavailableError(err)) {
      metrics.inc('warmth_unavailable_total', 'Updates answered with "temporarily unavailable"');
      logger.warn({ err, requestId: c.requestId }, 'dependency unavailable');
      text = t('errors.unavailable');
    } else {
      const ref = c.requestId ?? randomBytes(4).toString('hex');
      metrics.inc('warmth_handler_errors_total', 'Updates that failed with an unexpected error');
      logger.error({ err, requestId: ref, updateType: ctx.updateType }, 'update handler failed');
      text = t('errors.internal', { ref });
    }
    try {
      if (ctx.callbackQuery) await ctx.answerCbQuery(text, { show_alert: true }).catch(() => ctx.reply(text));
      else if (ctx.chat) await ctx.reply(text);
    } catch (replyErr) {
      logger.warn({ err: replyErr }, 'could not tell the user about the error');
    }
  });

  return { bot, dialogs, inFlight: () => inFlight, syncMenu };
}
