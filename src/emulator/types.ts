// The emulator's inspection/control types shared by the server and the client,
// plus the Telegram shapes (telegram-types.ts).
import type { TgDocument, TgEntity, TgMessage, TgPhotoSize, TgReplyMarkup } from './telegram-types.ts';

export type * from './telegram-types.ts';

export interface Limits {
  /** Sustained sends per chat per second (0 or Infinity disables). */
  perChatPerSecond: number;
  /** Burst size of the per-chat bucket. */
  perChatBurst: number;
  /** Sustained sends per bot per second across chats (0 or Infinity disables). */
  globalPerSecond: number;
  /** Burst size of the global bucket (defaults to globalPerSecond). */
  globalBurst?: number;
}

export interface UserProfile {
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

export interface ButtonView {
  text: string;
  row: number;
  col: number;
  callbackData?: string;
  url?: string;
}

export interface MessageVersion {
  at: number;
  text?: string;
  caption?: string;
  replyMarkup?: TgReplyMarkup;
}

/** A bot message as the user sees it (edits applied), with its edit history. */
export interface BotMessageView {
  messageId: number;
  chatId: number;
  date: number;
  /** Wall-clock ms when the message was accepted. */
  sentAt: number;
  /** Chat activity sequence number of the last change (send/edit/delete) of this message. */
  seq: number;
  method: string;
  text?: string;
  caption?: string;
  parseMode?: string;
  entities?: TgEntity[];
  replyMarkup?: TgReplyMarkup;
  /** Inline keyboard buttons, flattened row by row. */
  buttons: ButtonView[];
  /** Reply keyboard button labels, if the message carried a reply keyboard. */
  keyboard?: string[][];
  removeKeyboard?: boolean;
  document?: TgDocument;
  photo?: TgPhotoSize[];
  /** Previous versions, oldest first (the current version is the message itself). */
  edits: MessageVersion[];
  editedAt?: number;
  deleted: boolean;
  raw: TgMessage;
}

/** A message of a private chat as the web page shows it: the user's own messages too. */
export type ChatEntryView = BotMessageView & { from: 'user' | 'bot' };

/** A person the emulator knows (has a private chat with the bot). */
export interface ChatUserView {
  id: number;
  firstName: string;
  username?: string;
  languageCode?: string;
  blocked: boolean;
}

export interface TranscriptEntry {
  from: 'user' | 'bot';
  messageId: number;
  at: number;
  text?: string;
  caption?: string;
  document?: TgDocument;
  callbackData?: string;
}

export interface CallbackAnswerRecord {
  callbackQueryId: string;
  chatId: number;
  messageId?: number;
  data?: string;
  text?: string;
  showAlert: boolean;
  url?: string;
  cacheTime?: number;
  at: number;
}

export interface OutboundRecord {
  chatId: number;
  messageId: number;
  method: string;
  at: number;
}

export interface EmulatorStats {
  totalSent: number;
  sentPerChat: Record<string, number>;
  tooManyRequests: number;
  forbidden: number;
  badRequests: number;
  callsPerMethod: Record<string, number>;
}

export interface WebhookDelivery {
  updateId: number;
  chatId?: number;
  attempt: number;
  ok: boolean;
  status?: number;
  error?: string;
  at: number;
  durationMs: number;
}

export interface UserActionResult {
  updateId: number;
  messageId?: number;
  callbackQueryId?: string;
  /** Chat activity sequence at the time of the action (bot changes after it have a higher seq). */
  chatSeq: number;
}

export interface ChatChanges {
  seq: number;
  messages: BotMessageView[];
}

export interface BotSummary {
  id: number;
  username: string;
  firstName: string;
  connected: boolean;
  webhookUrl: string;
}
