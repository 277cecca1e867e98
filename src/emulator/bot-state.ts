import { createHash } from 'node:crypto';
import { type ChatState, ChatStore, type StoredMessage } from './chats.ts';
import { CommandStore } from './commands.ts';
import { tooManyRequests } from './errors.ts';
import { FileStore } from './files.ts';
import type { Notifier } from './notifier.ts';
import type { Params } from './params.ts';
import { RateLimiter } from './rate-limit.ts';
import type {
  BotSummary,
  EmulatorStats,
  Limits,
  OutboundRecord,
  TgBotUser,
  TgMessage,
  TgReplyMarkup,
  TgUpdate,
  TgUser,
} from './types.ts';
import { UpdateQueue } from './updates.ts';
import { type WebhookRetryOptions, WebhookSender } from './webhook.ts';

export interface BotStateOptions {
  id: number;
  token: string | undefined;
  username: string;
  firstName: string;
  limits: Partial<Limits>;
  maxDownloadSize: number;
  webhookRetry: WebhookRetryOptions;
  notifier: Notifier;
  log: (msg: string, data: object) => void;
  /** Executes a method a webhook answered with (webhook reply). */
  onWebhookReply: (bot: BotState, method: string, payload: Record<string, unknown>) => Promise<void>;
}

interface PendingCallback {
  chatId: number;
  messageId?: number;
  data?: string;
  answered: boolean;
}

const emptyStats = (): EmulatorStats => ({
  totalSent: 0,
  sentPerChat: {},
  tooManyRequests: 0,
  forbidden: 0,
  badRequests: 0,
  callsPerMethod: {},
});

/** Everything the emulator knows about one bot: its chats, files, updates, webhook, limits, stats. */
export class BotState {
  id: number;
  token: string | undefined;
  user: TgBotUser;
  lastCallAt: number | undefined;
  readonly chats = new ChatStore();
  readonly files: FileStore;
  readonly commands = new CommandStore();
  readonly updates = new UpdateQueue();
  readonly webhook: WebhookSender;
  readonly limiter: RateLimiter;
  readonly callbacks = new Map<string, PendingCallback>();
  stats: EmulatorStats = emptyStats();
  outbound: OutboundRecord[] = [];
  private readonly notifier: Notifier;

  constructor(opts: BotStateOptions) {
    this.id = opts.id;
    this.token = opts.token;
    this.user = {
      id: opts.id,
      is_bot: true,
      first_name: opts.firstName,
      username: opts.username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
    this.files = new FileStore(opts.maxDownloadSize);
    this.limiter = new RateLimiter(opts.limits);
    this.notifier = opts.notifier;
    this.webhook = new WebhookSender(
      opts.webhookRetry,
      (method, payload) => opts.onWebhookReply(this, method, payload),
      opts.log,
    );
  }

  /** Takes over a placeholder default bot once the first real token shows up. */
  adopt(id: number, token: string): void {
    this.id = id;
    this.token = token;
    this.user = { ...this.user, id };
  }

  summary(): BotSummary {
    return {
      id: this.id,
      username: this.user.username ?? '',
      firstName: this.user.first_name,
      connected: this.lastCallAt !== undefined,
      webhookUrl: this.webhook.config?.url ?? '',
    };
  }

  chatKey(chatId: number): string {
    return `chat:${this.id}:${chatId}`;
  }

  chatInstance(chatId: number): string {
    return BigInt.asIntN(
      64,
      BigInt(`0x${createHash('sha1').update(`${this.id}:${chatId}`).digest('hex').slice(0, 16)}`),
    ).toString();
  }

  /** Queues an update for getUpdates, or hands it to the webhook when one is set. */
  enqueue(update: TgUpdate, repeat = false): void {
    this.updates.remember(update);
    if (this.webhook.config) this.webhook.push(update);
    else this.updates.push(update, repeat);
  }

  newUpdate(body: Omit<TgUpdate, 'update_id'>): TgUpdate {
    const update = { update_id: this.updates.allocateId(), ...body } as TgUpdate;
    this.enqueue(update);
    return update;
  }

  /** Chat lookup for a sending method: forced 429s first, then 400 chat not found / 403 blocked. */
  sendTarget(p: Params): ChatState {
    const forced = this.limiter.takeForced();
    if (forced !== undefined) throw tooManyRequests(forced);
    return this.chats.forBot(p.chatId());
  }

  /** Consumes rate-limit budget for one send to `chatId` (429 with retry_after when exhausted). */
  throttle(chatId: number): void {
    const retryAfter = this.limiter.acquire(chatId);
    if (retryAfter !== undefined) throw tooManyRequests(retryAfter);
  }

  /** Stores a new bot message and records it as delivered. */
  addBotMessage(
    chat: ChatState,
    method: string,
    fields: Omit<TgMessage, 'message_id' | 'from' | 'chat' | 'date'>,
    replyMarkup: TgReplyMarkup | undefined,
    parseMode: string | undefined,
  ): TgMessage {
    const now = Date.now();
    const message: TgMessage = {
      message_id: chat.allocateMessageId(),
      from: this.publicUser(),
      chat: chat.chat,
      date: Math.floor(now / 1000),
      ...fields,
    };
    if (replyMarkup && 'inline_keyboard' in replyMarkup) message.reply_markup = replyMarkup;
    chat.seq += 1;
    const stored: StoredMessage = {
      from: 'bot',
      message,
      sentAt: now,
      seq: chat.seq,
      method,
      edits: [],
      deleted: false,
      ...(replyMarkup ? { replyMarkup } : {}),
      ...(parseMode ? { parseMode } : {}),
    };
    chat.messages.set(message.message_id, stored);
    chat.transcript.push({
      from: 'bot',
      messageId: message.message_id,
      at: now,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.caption !== undefined ? { caption: message.caption } : {}),
      ...(message.document ? { document: message.document } : {}),
    });
    this.recordOutbound(chat.chat.id, message.message_id, method, now);
    this.touchChat(chat.chat.id);
    return message;
  }

  recordOutbound(chatId: number, messageId: number, method: string, at = Date.now()): void {
    this.stats.totalSent += 1;
    const key = String(chatId);
    this.stats.sentPerChat[key] = (this.stats.sentPerChat[key] ?? 0) + 1;
    this.outbound.push({ chatId, messageId, method, at });
  }

  /** Wakes anyone long-polling this chat's bot activity. */
  touchChat(chatId: number): void {
    this.notifier.notify(this.chatKey(chatId));
  }

  /** Tells watchers (the web page) that command menus changed. */
  touchCommands(): void {
    this.notifier.notify(`commands:${this.id}`);
  }

  /** The bot as it appears in `message.from`. */
  publicUser(): TgUser {
    return {
      id: this.user.id,
      is_bot: true,
      first_name: this.user.first_name,
      username: this.user.username ?? '',
    };
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.outbound = [];
  }
}
