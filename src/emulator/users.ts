import { randomBytes } from 'node:crypto';
import type { BotState } from './bot-state.ts';
import type { ChatState } from './chats.ts';
import { documentOf } from './files.ts';
import { commandEntities } from './text.ts';
import type { TgMessage, TgUpdate, UserActionResult, UserProfile } from './types.ts';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export interface UserFile {
  fileName: string;
  bytes: Buffer;
  mimeType?: string;
  caption?: string;
}

function userMessage(bot: BotState, chat: ChatState, fields: Partial<TgMessage>): TgMessage {
  const now = Date.now();
  const message: TgMessage = {
    message_id: chat.allocateMessageId(),
    from: chat.user,
    chat: chat.chat,
    date: Math.floor(now / 1000),
    ...fields,
  };
  chat.messages.set(message.message_id, {
    from: 'user',
    message,
    sentAt: now,
    seq: chat.seq,
    method: 'user',
    edits: [],
    deleted: false,
  });
  chat.transcript.push({
    from: 'user',
    messageId: message.message_id,
    at: now,
    ...(message.text !== undefined ? { text: message.text } : {}),
    ...(message.caption !== undefined ? { caption: message.caption } : {}),
    ...(message.document ? { document: message.document } : {}),
  });
  bot.touchChat(chat.chat.id);
  return message;
}

const result = (
  update: TgUpdate,
  chat: ChatState,
  extra: Partial<UserActionResult> = {},
): UserActionResult => ({
  updateId: update.update_id,
  chatSeq: chat.seq,
  ...extra,
});

export function userSendText(
  bot: BotState,
  userId: number,
  text: string,
  profile?: UserProfile,
): UserActionResult {
  if (text.trim() === '') throw new ControlError(400, 'text is empty');
  const chat = bot.chats.upsertUser(userId, profile);
  const entities = commandEntities(text);
  const message = userMessage(bot, chat, { text, ...(entities.length ? { entities } : {}) });
  const update = bot.newUpdate({ message });
  return result(update, chat, { messageId: message.message_id });
}

export function userSendDocument(
  bot: BotState,
  userId: number,
  file: UserFile,
  profile?: UserProfile,
): UserActionResult {
  if (file.bytes.length === 0) throw new ControlError(400, 'file is empty');
  const chat = bot.chats.upsertUser(userId, profile);
  const stored = bot.files.put(file.bytes, 'documents', file.fileName, file.mimeType);
  const message = userMessage(bot, chat, {
    document: documentOf(stored),
    ...(file.caption ? { caption: file.caption } : {}),
  });
  const update = bot.newUpdate({ message });
  return result(update, chat, { messageId: message.message_id });
}

/** Presses an inline button (by callback_data) of a bot message, producing a callback_query update. */
export function userPress(bot: BotState, userId: number, messageId: number, data: string): UserActionResult {
  const chat = bot.chats.get(userId);
  const stored = chat?.messages.get(messageId);
  if (!chat || !stored || stored.from !== 'bot' || stored.deleted) {
    throw new ControlError(404, `no bot message ${messageId} in chat ${userId}`);
  }
  const rows = stored.message.reply_markup?.inline_keyboard ?? [];
  if (!rows.some((row) => row.some((b) => b.callback_data === data))) {
    throw new ControlError(
      404,
      `message ${messageId} has no button with callback_data ${JSON.stringify(data)}`,
    );
  }
  const id = `${BigInt(`0x${randomBytes(8).toString('hex')}`) >> 1n}`;
  bot.callbacks.set(id, { chatId: userId, messageId, data, answered: false });
  chat.transcript.push({ from: 'user', messageId, at: Date.now(), callbackData: data });
  const update = bot.newUpdate({
    callback_query: {
      id,
      from: chat.user,
      message: stored.message,
      chat_instance: bot.chatInstance(userId),
      data,
    },
  });
  return result(update, chat, { messageId, callbackQueryId: id });
}

/** Queues an arbitrary update (a fresh update_id is assigned). */
export function injectRawUpdate(bot: BotState, raw: Record<string, unknown>): { updateId: number } {
  const { update_id: _ignored, ...body } = raw;
  const cq = body['callback_query'] as { id?: string; from?: { id: number }; data?: string } | undefined;
  if (cq?.id && cq.from)
    bot.callbacks.set(cq.id, { chatId: cq.from.id, data: cq.data ?? '', answered: false });
  return { updateId: bot.newUpdate(body).update_id };
}

/** Re-delivers an earlier update with the same update_id (to test idempotency). */
export function repeatUpdate(bot: BotState, updateId: number): { updateId: number } {
  const update = bot.updates.recall(updateId);
  if (!update) throw new ControlError(404, `unknown update ${updateId}`);
  const cq = update.callback_query;
  const pending = cq ? bot.callbacks.get(cq.id) : undefined;
  if (pending) pending.answered = false;
  bot.enqueue(update, true);
  return { updateId };
}
