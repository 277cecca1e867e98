import type { BotState } from './bot-state.ts';
import { type StoredMessage, toView } from './chats.ts';
import type { Notifier } from './notifier.ts';
import type {
  BotMessageView,
  CallbackAnswerRecord,
  ChatChanges,
  ChatEntryView,
  ChatUserView,
  EmulatorStats,
  Limits,
  OutboundRecord,
  TgBotCommand,
  TranscriptEntry,
  UserActionResult,
  UserProfile,
  WebhookDelivery,
} from './types.ts';
import {
  ControlError,
  injectRawUpdate,
  repeatUpdate,
  type UserFile,
  userPress,
  userSendDocument,
  userSendText,
} from './users.ts';

/** In-process control of one emulated bot: act as users, inspect what the bot did, shape failures. */
export class BotControl {
  constructor(
    private readonly current: () => BotState,
    private readonly notifier: Notifier,
  ) {}

  get botId(): number {
    return this.current().id;
  }

  // ---- acting as users ----
  registerUser(userId: number, profile: UserProfile = {}): void {
    this.current().chats.upsertUser(userId, profile);
  }
  sendText(userId: number, text: string, profile?: UserProfile): UserActionResult {
    return userSendText(this.current(), userId, text, profile);
  }
  sendDocument(userId: number, file: UserFile, profile?: UserProfile): UserActionResult {
    return userSendDocument(this.current(), userId, file, profile);
  }
  pressButton(userId: number, messageId: number, data: string): UserActionResult {
    return userPress(this.current(), userId, messageId, data);
  }
  injectRawUpdate(update: Record<string, unknown>): { updateId: number } {
    return injectRawUpdate(this.current(), update);
  }
  repeatUpdate(updateId: number): { updateId: number } {
    return repeatUpdate(this.current(), updateId);
  }

  // ---- inspecting ----
  messages(chatId: number): BotMessageView[] {
    return this.current().chats.get(chatId)?.botViews() ?? [];
  }
  /** Every message of the chat, the user's and the bot's, in order (what a chat window shows). */
  history(chatId: number): ChatEntryView[] {
    const chat = this.current().chats.get(chatId);
    return chat ? [...chat.messages.values()].map((m) => ({ ...toView(m), from: m.from })) : [];
  }
  users(): ChatUserView[] {
    return this.current()
      .chats.all()
      .map((c) => ({
        id: c.user.id,
        firstName: c.user.first_name,
        ...(c.user.username ? { username: c.user.username } : {}),
        ...(c.user.language_code ? { languageCode: c.user.language_code } : {}),
        blocked: c.blocked,
      }));
  }
  /** A stored file with its name and type (for downloads and images). */
  file(fileId: string): { bytes: Buffer; fileName?: string; mimeType?: string } {
    const file = this.current().files.get(fileId);
    if (!file) throw new ControlError(404, `unknown file ${fileId}`);
    return file;
  }
  transcript(chatId: number): TranscriptEntry[] {
    return [...(this.current().chats.get(chatId)?.transcript ?? [])];
  }
  callbackAnswers(chatId: number): CallbackAnswerRecord[] {
    return [...(this.current().chats.get(chatId)?.callbackAnswers ?? [])];
  }
  myCommands(chatId: number, languageCode?: string): TgBotCommand[] {
    const bot = this.current();
    const lang = languageCode ?? bot.chats.get(chatId)?.user.language_code;
    return bot.commands.resolveForPrivateChat(chatId, lang);
  }
  fileBytes(fileId: string): Buffer {
    return this.file(fileId).bytes;
  }
  chatSeq(chatId: number): number {
    return this.current().chats.get(chatId)?.seq ?? 0;
  }
  /** Bot messages changed (sent/edited/deleted) after `since`, waiting up to `timeoutMs` for one. */
  async changes(
    chatId: number,
    since: number,
    timeoutMs: number,
    signal?: AbortSignal,
    /** Each message's latest edit only (`?edits=latest`), not its whole history. */
    latestEditOnly = false,
  ): Promise<ChatChanges> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const bot = this.current();
      const chat = bot.chats.get(chatId);
      const changed = chat
        ? [...chat.messages.values()].filter((m) => m.from === 'bot' && m.seq > since)
        : [];
      const remaining = deadline - Date.now();
      if (changed.length > 0 || remaining <= 0 || signal?.aborted) {
        const view = latestEditOnly
          ? (m: StoredMessage) => ({ ...toView(m), edits: m.edits.slice(-1) })
          : toView;
        return { seq: chat?.seq ?? 0, messages: changed.map(view) };
      }
      await this.notifier.wait(bot.chatKey(chatId), remaining, signal);
    }
  }
  pendingUpdates(): number {
    const bot = this.current();
    return bot.webhook.config ? bot.webhook.pendingCount : bot.updates.pendingCount;
  }
  webhookDeliveries(): WebhookDelivery[] {
    return [...this.current().webhook.deliveries];
  }

  // ---- shaping failures and load ----
  blockChat(chatId: number): void {
    this.current().chats.upsertUser(chatId).blocked = true;
  }
  unblockChat(chatId: number): void {
    const chat = this.current().chats.get(chatId);
    if (chat) chat.blocked = false;
  }
  inject429(count: number, retryAfterSec = 1): void {
    this.current().limiter.inject429(count, retryAfterSec);
  }
  setLimits(limits: Partial<Limits>): void {
    this.current().limiter.setLimits(limits);
  }
  getLimits(): Limits {
    return this.current().limiter.getLimits();
  }
  stats(): EmulatorStats {
    return structuredClone(this.current().stats);
  }
  outbound(): OutboundRecord[] {
    return [...this.current().outbound];
  }
  resetStats(): void {
    this.current().resetStats();
  }
}
