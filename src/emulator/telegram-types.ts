// Telegram Bot API shapes used by the emulator (a subset, with Telegram's field names).

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
