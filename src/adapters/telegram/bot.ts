import { randomBytes } from 'node:crypto';
import { Context, Telegraf } from 'telegraf';
import type { BotCommand, Update } from 'telegraf/types';
import { isUnavailableError } from '../db/client.ts';
import { type QueryScope, withQueryScope } from '../db/query-scope.ts';
import { ReadCache } from '../db/read-cache.ts';
import { touchPerson } from '../../usecases/people.ts';
import { isReadOnly, type RoleName } from '../../domain/roles.ts';
import { message } from 'telegraf/filters';
import type { BotContext } from './context.ts';
import { DialogRunner } from './dialogs.ts';
import {
  allowed,
  mayUse,
  refusal,
  type BotDeps,
  type CallbackSpec,
  type CommandSpec,
  type DeepLinkSpec,
  type Feature,
  type ShellApi,
} from './kit.ts';
import { redisSessions } from './session-store.ts';
import { ChatOrder, orderKeyOf } from './chat-order.ts';
import { classifyTelegramError } from './errors.ts';
import { INTERACTIVE, type Outbound, type PacedTelegram } from './outbound.ts';
import { DomainError } from '../../domain/errors.ts';

const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const DEDUP_TTL_SECONDS = 24 * 3600;
const COMMAND_RE = /^\/([A-Za-z0-9_]{1,32})(?:@(\w+))?(?:\s+([\s\S]*))?$/;

export interface BotApp {
  bot: Telegraf<BotContext>;
  dialogs: DialogRunner;
  /** Updates being handled right now (graceful shutdown waits for 0). */
  inFlight: () => number;
  /**
   * Handles one webhook update: 'retry' when it failed for a reason a later delivery can fix (a
   * dependency was unavailable): the webhook answers an error so Telegram delivers it again.
   */
  handle: (update: Update) => Promise<'ok' | 'retry'>;
  /** Sets the per-chat command menu for a person's roles (failures are logged, not fatal). */
  syncMenu: (chatId: number, roles: ReadonlySet<RoleName>, locale: 'zh-CN' | 'en') => Promise<void>;
  /** The features the bot was built from (their commands, buttons, dialogs and deep links). */
  features: readonly Feature[];
}

export interface UpdateQueries {
  updateId: number;
  updateType: string;
  statements: readonly string[];
}

export function createBot(
  deps: BotDeps,
  features: (shell: ShellApi) => Feature[],
  opts: {
    token: string;
    apiRoot: string;
    outbound: Outbound;
    /** Told after each update which SQL statements it sent (the query budget test listens). */
    onUpdateQueries?: (u: UpdateQueries) => void;
  },
): BotApp {
  const { outbound } = opts;
  // Every Bot API call goes through the outbound path: telegraf builds a Telegram per update and hands
  // it to the context's constructor, which swaps it for a paced one (and bot.telegram is one too).
  class PacedContext extends Context {
    constructor(update: Update, telegram: Context['telegram'], botInfo: Context['botInfo']) {
      super(update, outbound.client(telegram.token, telegram.options, INTERACTIVE), botInfo);
    }
  }
  const bot = new Telegraf<BotContext>(opts.token, {
    telegram: { apiRoot: opts.apiRoot, webhookReply: false },
    handlerTimeout: 55_000,
    contextType: PacedContext as unknown as new (
      ...args: ConstructorParameters<typeof Context>
    ) => BotContext,
  });
  bot.telegram = outbound.client(opts.token, bot.telegram.options, INTERACTIVE);
  // Per bot (token id): several bots may share one Redis, and chat ids repeat across bots.
  // Campaigns, categories and unions as read by updates, checked once per update (read-cache.ts).
  const readCache = new ReadCache();
  const order = new ChatOrder(deps.redis, deps.logger, deps.metrics, {
    prefix: `${deps.queues.prefix}:order:${opts.token.split(':')[0]}`,
  });
  const retryLater = new Set<number>();
  const viaWebhook = new Set<number>();
  const dialogs = new DialogRunner();
  const commands = new Map<string, CommandSpec>();
  const callbacks = new Map<string, CallbackSpec>();
  let inFlight = 0;
  const { i18n, logger, metrics } = deps;

  const syncMenu: BotApp['syncMenu'] = async (chatId, roles, locale) => {
    const list: BotCommand[] = [...commands.values()]
      .filter((c) => mayUse(roles, c))
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

  // 1. Bookkeeping; one update per chat at a time, in order (chat-order.ts); drop repeated updates.
  //    An update is recorded as done only after it was handled, so one that failed or whose process
  //    died is handled again when Telegram delivers it again.
  bot.use((ctx, next) => {
    // Synchronous up to order.run(): updates of one getUpdates batch enter in their order.
    const started = process.hrtime.bigint();
    inFlight++;
    ctx.requestId = randomBytes(4).toString('hex');
    ctx.locale = i18n.resolve(null, ctx.from?.language_code);
    ctx.t = (key, params) => i18n.t(ctx.locale, key, params);
    const once = {
      doneKey: `${deps.queues.prefix}:upd:${ctx.botInfo?.id ?? 0}:${ctx.update.update_id}`,
      ttlSeconds: DEDUP_TTL_SECONDS,
    };
    /** True when handled (recorded as done); false when a later delivery should handle it again. */
    const handle = async (): Promise<boolean> => {
      metrics.inc('warmth_updates_total', 'Updates received', { type: ctx.updateType });
      try {
        await next();
      } catch (err) {
        // Answered inside the chat's turn, so the answer cannot overtake the next update's reply.
        await onError(err, ctx);
        // Unavailable: not recorded as done; a webhook delivery is answered with an error (redelivered).
        if (isUnavailableError(err)) {
          if (viaWebhook.has(ctx.update.update_id)) retryLater.add(ctx.update.update_id);
          return false;
        }
      }
      // 3. A button press is always answered (a feature may have acted without answering).
      if (ctx.callbackQuery && !(ctx.telegram as PacedTelegram).callbackAnswered)
        await ctx.answerCbQuery().catch((err: unknown) => {
          if (classifyTelegramError(err).kind !== 'query_too_old')
            logger.warn({ err }, 'could not answer a callback query');
        });
      return true;
    };
    const key = orderKeyOf(ctx.update as Parameters<typeof orderKeyOf>[0]);
    // The statements this update sends are counted from here (query-scope.ts): the per-update query
    // budget (README "Query budgets").
    // The same scope carries this process's read cache (read-cache.ts; README "Caches and invalidation").
    const scope: QueryScope = { statements: [], cache: readCache };
    // Handled: the poller acknowledges the update and asks for the next while the chat's turn is given
    // back (`finished`, which the chat's next update waits for, and so does a graceful stop: inFlight).
    const { handled, finished } = order.run(key, ctx.update.update_id, once, () =>
      withQueryScope(scope, handle),
    );
    void finished
      .then(() => {
        inFlight--;
        metrics.histogram(
          'warmth_update_seconds',
          'Time to handle an update',
          Number(process.hrtime.bigint() - started) / 1e9,
        );
        metrics.observe(
          'warmth_update_db_queries',
          'SQL statements sent per update',
          scope.statements.length,
        );
        opts.onUpdateQueries?.({
          updateId: ctx.update.update_id,
          updateType: ctx.updateType,
          statements: scope.statements,
        });
      })
      .catch((err: unknown) => logger.warn({ err }, 'update bookkeeping failed'));
    return handled.then((r) => {
      if (r === 'duplicate') metrics.inc('warmth_updates_duplicate_total', 'Repeated updates dropped');
    });
  });

  const sessions = redisSessions(deps.redis, SESSION_TTL_SECONDS, deps.queues.prefix);
  // 2. Private chats only; identify the person and their roles.
  bot.use(async (ctx, next) => {
    if (!ctx.from || ctx.from.is_bot) return;
    if (ctx.chat && ctx.chat.type !== 'private') {
      if (ctx.message) await ctx.reply(ctx.t('basic.private_only'));
      return;
    }
    // 3. The session (Redis, keyed by chat and user) is read alongside the person: two round trips at
    //    once instead of one after the other.
    const session = sessions.read(ctx);
    ctx.who = await touchPerson(deps.db, ctx.from);
    ctx.locale = i18n.resolve(ctx.who.locale, ctx.who.telegramLanguage);
    await sessions.around(ctx, session, next);
  });

  // 3b. Read-only roles (auditors) send no files: every file handler (campaign files, spreadsheets,
  //     bank returns, entry lists) changes records.
  bot.on(message('document'), async (ctx, next) => {
    if (!isReadOnly(ctx.who.access.roles)) return next();
    await ctx.reply(ctx.t('auditor.read_only'));
  });

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
    if (!allowed(ctx, spec)) {
      metrics.inc('warmth_callbacks_refused_total', 'Forged or unknown button presses', {
        reason: 'forbidden',
      });
      await ctx.answerCbQuery(refusal(ctx, spec), { show_alert: true });
      return;
    }
    await answeredAlongside(ctx, () => spec.handler(ctx, payload.args));
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
      if (!allowed(ctx, spec)) {
        metrics.inc('warmth_commands_refused_total', 'Commands refused for lack of a role', {
          command: spec.name,
        });
        await ctx.reply(refusal(ctx, spec));
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

  /**
   * Answers the press (the spinner stops) while the handler acts: the two calls are independent, so the
   * reviewer's edited card does not wait for the answer's round trip. The handler's error wins.
   */
  async function answeredAlongside(ctx: BotContext, act: () => Promise<unknown>): Promise<void> {
    const answered = ctx.answerCbQuery().then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    try {
      await act();
    } catch (err) {
      await answered;
      throw err;
    }
    const a = await answered;
    // Too old: the action was taken and shown; only the spinner was not stopped in time.
    if (a && classifyTelegramError(a.err).kind !== 'query_too_old') throw a.err;
  }

  // One error handler: expected failures become their localized message; outages a polite
  // "temporarily unavailable"; bugs an apology with a reference the log can be searched for.
  const onError = async (err: unknown, ctx: Context) => {
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
  };
  bot.catch(onError);

  const handle: BotApp['handle'] = async (update) => {
    viaWebhook.add(update.update_id);
    try {
      await bot.handleUpdate(update);
    } finally {
      viaWebhook.delete(update.update_id);
    }
    return retryLater.delete(update.update_id) ? 'retry' : 'ok';
  };

  return { bot, dialogs, inFlight: () => inFlight, syncMenu, handle, features: featureList };
}
