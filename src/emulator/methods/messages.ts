import type { StoredMessage } from '../chats.ts';
import { badRequest } from '../errors.ts';
import { validateMarkup } from '../markup.ts';
import type { Params } from '../params.ts';
import { formatText } from '../text.ts';
import type { TgEntity, TgMessage, TgReplyMarkup } from '../types.ts';
import type { MethodContext, MethodHandler } from './context.ts';

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

export const markupParam = (p: Params): TgReplyMarkup | undefined =>
  validateMarkup(p.json<unknown>('reply_markup', "can't parse reply keyboard markup JSON object"));

export function messageText(p: Params, key: 'text' | 'caption'): { text: string; entities: TgEntity[] } {
  const entityKey = key === 'text' ? 'entities' : 'caption_entities';
  return formatText(
    p.str(key),
    p.str('parse_mode'),
    p.json<TgEntity[]>(entityKey, `can't parse ${entityKey} JSON object`),
  );
}

export function replyTo(ctx: MethodContext, chatMessages: Map<number, StoredMessage>): Partial<TgMessage> {
  const p = ctx.params;
  const params = p.json<{ message_id?: number }>(
    'reply_parameters',
    "can't parse reply parameters JSON object",
  );
  const id = params?.message_id ?? p.int('reply_to_message_id');
  if (id === undefined) return {};
  const target = chatMessages.get(id);
  if (!target || target.deleted) throw badRequest('message to be replied not found');
  return { reply_to_message: target.message };
}

const sendMessage: MethodHandler = (ctx) => {
  const { bot, params: p } = ctx;
  const chat = bot.sendTarget(p);
  const { text, entities } = messageText(p, 'text');
  if (text.length === 0) throw badRequest('message text is empty');
  if (text.length > 4096) throw badRequest('message is too long');
  const markup = markupParam(p);
  const reply = replyTo(ctx, chat.messages);
  bot.throttle(chat.chat.id);
  return bot.addBotMessage(
    chat,
    'sendMessage',
    { text, ...(entities.length ? { entities } : {}), ...reply },
    markup,
    p.str('parse_mode'),
  );
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function inlineOnly(markup: TgReplyMarkup | undefined): TgReplyMarkup | undefined {
  if (markup && !('inline_keyboard' in markup)) throw badRequest('inline keyboard expected');
  return markup;
}

/** Shared edit flow: validation, not-modified check, throttling, version history. */
function edit(
  ctx: MethodContext,
  method: string,
  change: (stored: StoredMessage) => Partial<TgMessage>,
): TgMessage {
  const { bot, params: p } = ctx;
  if (p.has('inline_message_id')) throw badRequest('inline messages are not supported by the emulator');
  const chat = bot.sendTarget(p);
  const messageId = p.int('message_id');
  if (messageId === undefined) throw badRequest('message identifier is not specified');
  const stored = chat.botMessage(messageId, 'edit');
  const markup = inlineOnly(markupParam(p));
  const fields = change(stored);
  const before = stored.message;
  const unchanged =
    Object.entries(fields).every(([k, v]) => same(before[k as keyof TgMessage], v)) &&
    same(before.reply_markup, markup);
  if (unchanged) throw badRequest(NOT_MODIFIED);
  bot.throttle(chat.chat.id);
  const now = Date.now();
  stored.edits.push({
    at: stored.editedAt ?? stored.sentAt,
    ...(before.text !== undefined ? { text: before.text } : {}),
    ...(before.caption !== undefined ? { caption: before.caption } : {}),
    ...(stored.replyMarkup ? { replyMarkup: stored.replyMarkup } : {}),
  });
  const next: TgMessage = { ...before, ...fields, edit_date: Math.floor(now / 1000) };
  delete next.reply_markup;
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete next[k as keyof TgMessage];
  if (markup) next.reply_markup = markup as TgMessage['reply_markup'];
  stored.message = next;
  if (markup) stored.replyMarkup = markup;
  else delete stored.replyMarkup;
  const parseMode = p.str('parse_mode');
  if (parseMode) stored.parseMode = parseMode;
  stored.editedAt = now;
  chat.seq += 1;
  stored.seq = chat.seq;
  bot.recordOutbound(chat.chat.id, messageId, method, now);
  bot.touchChat(chat.chat.id);
  return next;
}

const editMessageText: MethodHandler = (ctx) =>
  edit(ctx, 'editMessageText', (stored) => {
    if (stored.message.text === undefined) throw badRequest('there is no text in the message to edit');
    const { text, entities } = messageText(ctx.params, 'text');
    if (text.length === 0) throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('message is too long');
    return { text, entities: entities.length ? entities : undefined };
  });

const editMessageCaption: MethodHandler = (ctx) =>
  edit(ctx, 'editMessageCaption', (stored) => {
    if (stored.message.text !== undefined) throw badRequest('there is no caption in the message to edit');
    const { text, entities } = messageText(ctx.params, 'caption');
    if (text.length > 1024) throw badRequest('message caption is too long');
    return { caption: text || undefined, caption_entities: entities.length ? entities : undefined };
  });

const editMessageReplyMarkup: MethodHandler = (ctx) => edit(ctx, 'editMessageReplyMarkup', () => ({}));

const deleteMessage: MethodHandler = ({ bot, params: p }) => {
  const chat = bot.chats.forBot(p.chatId());
  const messageId = p.int('message_id');
  if (messageId === undefined) throw badRequest('message identifier is not specified');
  const stored = chat.botMessage(messageId, 'delete');
  stored.deleted = true;
  chat.seq += 1;
  stored.seq = chat.seq;
  bot.touchChat(chat.chat.id);
  return true;
};

const answerCallbackQuery: MethodHandler = ({ bot, params: p }) => {
  const id = p.str('callback_query_id') ?? '';
  const pending = bot.callbacks.get(id);
  if (!pending || pending.answered) {
    throw badRequest('query is too old and response timeout expired or query ID is invalid');
  }
  const text = p.str('text');
  if (text && text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
  pending.answered = true;
  const chat = bot.chats.get(pending.chatId);
  const url = p.str('url');
  const cacheTime = p.int('cache_time');
  chat?.callbackAnswers.push({
    callbackQueryId: id,
    chatId: pending.chatId,
    ...(pending.messageId !== undefined ? { messageId: pending.messageId } : {}),
    ...(pending.data !== undefined ? { data: pending.data } : {}),
    ...(text ? { text } : {}),
    showAlert: p.bool('show_alert'),
    ...(url ? { url } : {}),
    ...(cacheTime !== undefined ? { cacheTime } : {}),
    at: Date.now(),
  });
  bot.touchChat(pending.chatId);
  return true;
};

export const messageMethods: Record<string, MethodHandler> = {
  sendMessage,
  editMessageText,
  editMessageCaption,
  editMessageReplyMarkup,
  deleteMessage,
  answerCallbackQuery,
};
