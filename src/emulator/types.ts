// Telegram Bot API shapes used by the emulator (a subset, with Telegram's field names),
// plus the emulator's own inspection/control types shared by the server and the client.

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface TgBotUser extends TgUser {
  can_join_groups: boolean;
  can_read_all_group_messages: boolean;
  supports_inline_queries: boolean;
  can_connect_to_business: boolean;
  has_main_web_app: boolean;
}

export interface TgChat {
  id: number;
  type: 'private';
  first_name: string;
  last_name?: string;
  username?: string;
}

export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export interface TgInlineButton {
  text: string;
  callback_data?: string;
  url?: string;
  [key: string]: unknown;
}

export interface TgKeyboardButton {
  text: string;
  [key: string]: unknown;
}

export interface TgInlineKeyboardMarkup {
  inline_keyboard: TgInlineButton[][];
}

export interface TgReplyKeyboardMarkup {
  keyboard: (TgKeyboardButton | string)[][];
  is_persistent?: boolean;
  resize_keyboard?: boolean;
  one_time_keyboard?: boolean;
  input_field_placeholder?: string;
  selective?: boolean;
}

export type TgReplyMarkup =
  | TgInlineKeyboardMarkup
  | TgReplyKeyboardMarkup
  | { remove_keyboard: true; selective?: boolean }
  | { force_reply: true; input_field_placeholder?: string; selective?: boolean };

export interface TgDocument {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface TgPhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size: number;
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: TgChat;
  date: number;
  edit_date?: number;
  text?: string;
  entities?: TgEntity[];
  caption?: string;
  caption_entities?: TgEntity[];
  document?: TgDocument;
  photo?: TgPhotoSize[];
  reply_markup?: TgInlineKeyboardMarkup;
  reply_to_message?: TgMessage;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  chat_instance: string;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
  [key: string]: unknown;
}

export interface TgBotCommand {
  command: string;
  description: string;
}

export interface TgFile {
  file_id: string;
  file_unique_id: string;
  file_size: number;
  file_path: string;
}

// ---- emulator inspection / control types ----

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
