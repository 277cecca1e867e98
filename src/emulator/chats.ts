import { badRequest, blocked } from './errors.ts';
import { flattenButtons, keyboardLabels } from './markup.ts';
import type {
  BotMessageView,
  CallbackAnswerRecord,
  MessageVersion,
  TgChat,
  TgMessage,
  TgReplyMarkup,
  TgUser,
  TranscriptEntry,
  UserProfile,
} from './types.ts';

export interface StoredMessage {
  from: 'user' | 'bot';
  message: TgMessage;
  sentAt: number;
  seq: number;
  method: string;
  parseMode?: string;
  replyMarkup?: TgReplyMarkup;
  edits: MessageVersion[];
  editedAt?: number;
  deleted: boolean;
}

export class ChatState {
  blocked = false;
  /** Bot-side activity counter: bumped on every send/edit/delete by the bot. */
  seq = 0;
  private nextMessageId = 1;
  readonly messages = new Map<number, StoredMessage>();
  readonly transcript: TranscriptEntry[] = [];
  readonly callbackAnswers: CallbackAnswerRecord[] = [];

  constructor(
    public user: TgUser,
    public chat: TgChat,
  ) {}

  allocateMessageId(): number {
    return this.nextMessageId++;
  }

  get lastMessageId(): number {
    return this.nextMessageId - 1;
  }

  /** The message for the bot to act on, or Telegram's error for `action` ("edit"/"delete"). */
  botMessage(messageId: number, action: 'edit' | 'delete'): StoredMessage {
    const stored = this.messages.get(messageId);
    if (!stored || stored.deleted) throw badRequest(`message to ${action} not found`);
    if (stored.from !== 'bot' && action === 'edit') throw badRequest("message can't be edited");
    return stored;
  }

  botViews(): BotMessageView[] {
    return [...this.messages.values()].filter((m) => m.from === 'bot').map(toView);
  }
}

export function toView(m: StoredMessage): BotMessageView {
  const msg = m.message;
  const keyboard = keyboardLabels(m.replyMarkup);
  return {
    messageId: msg.message_id,
    chatId: msg.chat.id,
    date: msg.date,
    sentAt: m.sentAt,
    seq: m.seq,
    method: m.method,
    ...(msg.text !== undefined ? { text: msg.text } : {}),
    ...(msg.caption !== undefined ? { caption: msg.caption } : {}),
    ...(m.parseMode ? { parseMode: m.parseMode } : {}),
    ...((msg.entities ?? msg.caption_entities) ? { entities: msg.entities ?? msg.caption_entities } : {}),
    ...(m.replyMarkup ? { replyMarkup: m.replyMarkup } : {}),
    buttons: flattenButtons(m.replyMarkup),
    ...(keyboard ? { keyboard } : {}),
    ...(m.replyMarkup && 'remove_keyboard' in m.replyMarkup ? { removeKeyboard: true } : {}),
    ...(msg.document ? { document: msg.document } : {}),
    ...(msg.photo ? { photo: msg.photo } : {}),
    edits: m.edits,
    ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
    deleted: m.deleted,
    raw: msg,
  };
}

/** Private chats keyed by user id (chat.id === user.id). */
export class ChatStore {
  private readonly chats = new Map<number, ChatState>();

  upsertUser(id: number, profile: UserProfile = {}): ChatState {
    const existing = this.chats.get(id);
    const firstName = profile.firstName ?? existing?.user.first_name ?? `User ${id}`;
    const user: TgUser = {
      id,
      is_bot: false,
      first_name: firstName,
      ...((profile.lastName ?? existing?.user.last_name)
        ? { last_name: profile.lastName ?? existing?.user.last_name }
        : {}),
      ...((profile.username ?? existing?.user.username)
        ? { username: profile.username ?? existing?.user.username }
        : {}),
      ...((profile.languageCode ?? existing?.user.language_code)
        ? { language_code: profile.languageCode ?? existing?.user.language_code }
        : {}),
    };
    const chat: TgChat = {
      id,
      type: 'private',
      first_name: user.first_name,
      ...(user.last_name ? { last_name: user.last_name } : {}),
      ...(user.username ? { username: user.username } : {}),
    };
    if (existing) {
      existing.user = user;
      existing.chat = chat;
      return existing;
    }
    const state = new ChatState(user, chat);
    this.chats.set(id, state);
    return state;
  }

  get(chatId: number): ChatState | undefined {
    return this.chats.get(chatId);
  }

  /** The chat the bot may send to: 400 chat not found / 403 blocked like Telegram. */
  forBot(chatId: number): ChatState {
    const chat = this.chats.get(chatId);
    if (!chat) throw badRequest('chat not found');
    if (chat.blocked) throw blocked();
    return chat;
  }

  all(): ChatState[] {
    return [...this.chats.values()];
  }
}
