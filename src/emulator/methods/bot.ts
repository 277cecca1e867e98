import { badRequest, conflict } from '../errors.ts';
import type { MethodHandler } from './context.ts';

const WEBHOOK_ACTIVE =
  "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

const getMe: MethodHandler = ({ bot }) => bot.user;

const getUpdates: MethodHandler = async ({ bot, params: p, signal }) => {
  if (bot.webhook.config) throw conflict(WEBHOOK_ACTIVE);
  const timeout = Math.max(0, p.int('timeout') ?? 0);
  return bot.updates.poll(p.int('offset') ?? 0, p.int('limit') ?? 100, timeout, signal);
};

const setWebhook: MethodHandler = ({ bot, params: p }) => {
  const url = p.str('url') ?? '';
  if (url === '')
    return deleteWebhook({ bot, params: p, signal: new AbortController().signal, maxUploadSize: 0 });
  if (!/^https?:\/\/\S+$/i.test(url))
    throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
  const secretToken = p.str('secret_token');
  if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
    throw badRequest('secret token contains unallowed characters');
  }
  const maxConnections = p.int('max_connections') ?? 40;
  if (maxConnections < 1 || maxConnections > 100)
    throw badRequest('bad webhook: max_connections must be in range 1-100');
  const allowedUpdates = p.json<string[]>('allowed_updates', "can't parse allowed updates");
  const pending = [...(bot.webhook.config ? bot.webhook.unset() : []), ...bot.updates.drain()];
  bot.updates.interrupt(conflict(WEBHOOK_ACTIVE));
  bot.webhook.set({
    url,
    maxConnections,
    ...(secretToken ? { secretToken } : {}),
    ...(allowedUpdates ? { allowedUpdates } : {}),
  });
  if (!p.bool('drop_pending_updates')) for (const u of pending) bot.webhook.push(u);
  return true;
};

const deleteWebhook: MethodHandler = ({ bot, params: p }) => {
  const pending = bot.webhook.config ? bot.webhook.unset() : [];
  if (p.bool('drop_pending_updates')) {
    bot.updates.drain();
    return true;
  }
  for (const u of pending) bot.updates.push(u);
  return true;
};

const getWebhookInfo: MethodHandler = ({ bot }) => {
  const cfg = bot.webhook.config;
  if (!cfg) return { url: '', has_custom_certificate: false, pending_update_count: bot.updates.pendingCount };
  return {
    url: cfg.url,
    has_custom_certificate: false,
    pending_update_count: bot.webhook.pendingCount,
    max_connections: cfg.maxConnections,
    ip_address: '127.0.0.1',
    ...(bot.webhook.lastErrorDate !== undefined
      ? { last_error_date: bot.webhook.lastErrorDate, last_error_message: bot.webhook.lastErrorMessage }
      : {}),
    ...(cfg.allowedUpdates ? { allowed_updates: cfg.allowedUpdates } : {}),
  };
};

type Scope = { type?: string; chat_id?: number | string; user_id?: number };
const scopeParam = (p: Parameters<MethodHandler>[0]['params']): Scope | undefined =>
  p.json<Scope>('scope', "can't parse BotCommandScope JSON object");

const setMyCommands: MethodHandler = ({ bot, params: p }) => {
  const commands = p.json<unknown>('commands', "can't parse commands JSON object");
  bot.commands.set(commands ?? [], scopeParam(p), p.str('language_code'));
  bot.touchCommands();
  return true;
};

const getMyCommands: MethodHandler = ({ bot, params: p }) =>
  bot.commands.get(scopeParam(p), p.str('language_code'));

const deleteMyCommands: MethodHandler = ({ bot, params: p }) => {
  bot.commands.delete(scopeParam(p), p.str('language_code'));
  bot.touchCommands();
  return true;
};

const ok: MethodHandler = () => true;

const sendChatAction: MethodHandler = ({ bot, params: p }) => {
  bot.chats.forBot(p.chatId());
  return true;
};

export const botMethods: Record<string, MethodHandler> = {
  getMe,
  getUpdates,
  setWebhook,
  deleteWebhook,
  getWebhookInfo,
  setMyCommands,
  getMyCommands,
  deleteMyCommands,
  setChatMenuButton: ok,
  getChatMenuButton: () => ({ type: 'commands' }),
  setMyDescription: ok,
  setMyShortDescription: ok,
  setMyName: ok,
  sendChatAction,
  logOut: ok,
  close: ok,
};
