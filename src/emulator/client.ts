import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type {
  BotMessageView,
  BotSummary,
  ButtonView,
  CallbackAnswerRecord,
  ChatChanges,
  EmulatorStats,
  Limits,
  OutboundRecord,
  TgBotCommand,
  TranscriptEntry,
  UserActionResult,
  UserProfile,
  WebhookDelivery,
} from './types.ts';

export type MessageMatch = string | RegExp | ((m: BotMessageView) => boolean);
export type ButtonTarget =
  | string
  | RegExp
  | ((button: ButtonView, message: BotMessageView) => boolean)
  | { messageId: number; data: string };

export interface WaitOptions {
  /** Only messages with a higher message_id count (default: this user's last message sent through the handle). */
  after?: number;
  match?: MessageMatch;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface ChangeWaitOptions {
  /** Chat activity seq to wait beyond (see UserActionResult.chatSeq). */
  since: number;
  match?: MessageMatch;
  timeoutMs?: number;
  /** Only edits of existing messages (default: any change). */
  editsOnly?: boolean;
}

/** Text a matcher looks at: text, caption and document file name. */
export const searchableText = (m: BotMessageView): string =>
  [m.text, m.caption, m.document?.file_name].filter((s) => s !== undefined).join('\n');

export function matches(m: BotMessageView, match: MessageMatch | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(m);
  const text = searchableText(m);
  return typeof match === 'string' ? text.includes(match) : match.test(text);
}

/** Human-readable chat dump for failure messages. */
export function describeTranscript(entries: TranscriptEntry[], messages: BotMessageView[]): string {
  if (entries.length === 0) return '  (nothing — the chat is empty)';
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  return entries
    .map((e) => {
      if (e.from === 'user') {
        if (e.callbackData !== undefined) return `  user  ⟶ pressed button [${e.callbackData}] on #${e.messageId}`;
        return `  user  #${e.messageId}: ${e.text ?? e.caption ?? ''}${e.document ? ` 📎 ${e.document.file_name}` : ''}`;
      }
      const m = byId.get(e.messageId);
      const now = m ? searchableText(m) : (e.text ?? '');
      const buttons = m?.buttons.length ? `  [${m.buttons.map((b) => b.text).join('] [')}]` : '';
      const flags = `${m?.edits.length ? ` (edited ×${m.edits.length})` : ''}${m?.deleted ? ' (deleted)' : ''}`;
      return `  bot   #${e.messageId}${flags}: ${now.replace(/\n/g, '\n          ')}${buttons}`;
    })
    .join('\n');
}

const describeMatch = (match: MessageMatch | undefined): string =>
  match === undefined ? 'any message' : typeof match === 'function' ? 'a message matching the predicate' : String(match);

/** HTTP client of a running emulator's control API (`/_emulator/...`). */
export class EmulatorClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly opts: { bot?: string | number } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, query: Record<string, string> = {}): Promise<T> {
    const res = await this.raw(method, path, body, query);
    return (await res.json()) as T;
  }

  async raw(method: 'GET' | 'POST', path: string, body?: unknown, query: Record<string, string> = {}): Promise<Response> {
    const qs = new URLSearchParams(query);
    if (this.opts.bot !== undefined) qs.set('bot', String(this.opts.bot));
    const q = qs.toString();
    const res = await fetch(`${this.url}/_emulator${path}${q ? `?${q}` : ''}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) {
      const text = await res.text();
      let detail = text;
      try {
        detail = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {}
      throw new Error(`emulator ${method} ${path} failed (${res.status}): ${detail}`);
    }
    return res;
  }

  user(id: number, profile: UserProfile = {}): UserHandle {
    return new UserHandle(this, id, profile);
  }

  health(): Promise<{ ok: boolean; bots: BotSummary[] }> {
    return this.request('GET', '/health');
  }
  stats(): Promise<EmulatorStats> {
    return this.request('GET', '/stats');
  }
  outbound(): Promise<OutboundRecord[]> {
    return this.request('GET', '/outbound');
  }
  async resetStats(): Promise<void> {
    await this.request('POST', '/reset-stats', {});
  }
  limits(): Promise<Limits> {
    return this.request('GET', '/limits');
  }
  setLimits(limits: Partial<Limits>): Promise<Limits> {
    return this.request('POST', '/limits', limits);
  }
  async inject429(count: number, retryAfter = 1): Promise<void> {
    await this.request('POST', '/inject429', { count, retryAfter });
  }
  async blockChat(chatId: number): Promise<void> {
    await this.request('POST', `/chats/${chatId}/block`, {});
  }
  async unblockChat(chatId: number): Promise<void> {
    await this.request('POST', `/chats/${chatId}/unblock`, {});
  }
  injectRawUpdate(update: Record<string, unknown>): Promise<{ updateId: number }> {
    return this.request('POST', '/updates', { update });
  }
  repeatUpdate(updateId: number): Promise<{ updateId: number }> {
    return this.request('POST', `/updates/${updateId}/repeat`, {});
  }
  webhookDeliveries(): Promise<WebhookDelivery[]> {
    return this.request('GET', '/webhook-deliveries');
  }
  async pendingUpdates(): Promise<number> {
    return (await this.request<{ pending: number }>('GET', '/pending')).pending;
  }
  async fileBytes(fileId: string): Promise<Buffer> {
    const res = await this.raw('GET', `/files/${encodeURIComponent(fileId)}`);
    return Buffer.from(await res.arrayBuffer());
  }
  changes(chatId: number, since: number, timeoutMs: number): Promise<ChatChanges> {
    return this.request('GET', `/chats/${chatId}/changes`, undefined, {
      since: String(since),
      timeout: String(Math.max(0, Math.round(timeoutMs))),
    });
  }
}

/** One user's private chat with the bot. */
export class UserHandle {
  /** message_id of the last message this handle sent (default `after` for waits). */
  lastSentMessageId = 0;
  /** Chat seq at the last action (bot changes after it have a higher seq). */
  lastActionSeq = 0;

  constructor(
    readonly client: EmulatorClient,
    readonly id: number,
    readonly profile: UserProfile,
  ) {}

  private track(r: UserActionResult, isMessage: boolean): UserActionResult {
    if (isMessage && r.messageId !== undefined) this.lastSentMessageId = r.messageId;
    this.lastActionSeq = r.chatSeq;
    return r;
  }

  async register(): Promise<void> {
    await this.client.request('POST', `/users/${this.id}`, { profile: this.profile });
  }
  async sendText(text: string): Promise<UserActionResult> {
    const r = await this.client.request<UserActionResult>('POST', `/users/${this.id}/text`, { text, profile: this.profile });
    return this.track(r, true);
  }
  /** `/start` or `/start payload`; the bot_command entity is added by the emulator. */
  sendCommand(command: string, payload?: string): Promise<UserActionResult> {
    const cmd = command.startsWith('/') ? command : `/${command}`;
    return this.sendText(payload ? `${cmd} ${payload}` : cmd);
  }
  async sendDocument(
    file: string | { fileName: string; bytes: Buffer | Uint8Array | string; mimeType?: string },
    caption?: string,
  ): Promise<UserActionResult> {
    const f = typeof file === 'string' ? { fileName: basename(file), bytes: await readFile(file) } : file;
    const r = await this.client.request<UserActionResult>('POST', `/users/${this.id}/document`, {
      fileName: f.fileName,
      base64: Buffer.from(f.bytes).toString('base64'),
      ...('mimeType' in f && f.mimeType ? { mimeType: f.mimeType } : {}),
      ...(caption ? { caption } : {}),
      profile: this.profile,
    });
    return this.track(r, true);
  }

  /** Presses a callback button: by label (exact, else substring), regexp, predicate, or `{ messageId, data }`. */
  async pressButton(target: ButtonTarget): Promise<UserActionResult> {
    const found = typeof target === 'object' && 'messageId' in target ? target : await this.findButton(target);
    const r = await this.client.request<UserActionResult>('POST', `/users/${this.id}/press`, found);
    return this.track(r, false);
  }

  private async findButton(target: Exclude<ButtonTarget, { messageId: number }>) {
    const msgs = (await this.messages()).filter((m) => !m.deleted).reverse();
    const tests: ((b: ButtonView, m: BotMessageView) => boolean)[] =
      typeof target === 'string'
        ? [(b) => b.text === target, (b) => b.text.includes(target)]
        : target instanceof RegExp
          ? [(b) => target.test(b.text)]
          : [target];
    for (const test of tests) {
      for (const m of msgs) {
        const b = m.buttons.find((btn) => btn.callbackData !== undefined && test(btn, m));
        if (b) return { messageId: m.messageId, data: b.callbackData! };
      }
    }
    const seen = msgs.flatMap((m) => m.buttons.map((b) => `#${m.messageId} [${b.text}]`));
    throw new Error(`no callback button ${String(target)} in chat ${this.id}; buttons: ${seen.join(' ') || '(none)'}`);
  }

  messages(): Promise<BotMessageView[]> {
    return this.client.request('GET', `/chats/${this.id}/messages`);
  }
  async lastMessage(): Promise<BotMessageView | undefined> {
    return (await this.messages()).filter((m) => !m.deleted).at(-1);
  }
  transcript(): Promise<TranscriptEntry[]> {
    return this.client.request('GET', `/chats/${this.id}/transcript`);
  }
  callbackAnswers(): Promise<CallbackAnswerRecord[]> {
    return this.client.request('GET', `/chats/${this.id}/callback-answers`);
  }
  /** The command menu this user sees (chat > all_private_chats > default, language then any). */
  myCommands(languageCode?: string): Promise<TgBotCommand[]> {
    return this.client.request('GET', `/chats/${this.id}/commands`, undefined, languageCode ? { lang: languageCode } : {});
  }
  async block(): Promise<void> {
    await this.client.blockChat(this.id);
  }
  async unblock(): Promise<void> {
    await this.client.unblockChat(this.id);
  }
  downloadDocument(msg: BotMessageView | string): Promise<Buffer> {
    const fileId = typeof msg === 'string' ? msg : (msg.document?.file_id ?? msg.photo?.at(-1)?.file_id);
    if (!fileId) throw new Error(`message #${typeof msg === 'string' ? '?' : msg.messageId} has no document`);
    return this.client.fileBytes(fileId);
  }

  /** Waits for a new bot message (message_id > after) matching `match`. */
  waitForMessage(opts: WaitOptions = {}): Promise<BotMessageView> {
    const after = opts.after ?? this.lastSentMessageId;
    return this.waitFor(
      0,
      (m) => !m.deleted && m.messageId > after && matches(m, opts.match),
      opts.timeoutMs,
      `a new message after #${after} matching ${describeMatch(opts.match)}`,
    );
  }

  /** Waits for any bot change (send or edit) after `since` that matches. */
  waitForChange(opts: ChangeWaitOptions): Promise<BotMessageView> {
    return this.waitFor(
      opts.since,
      (m) => !m.deleted && (!opts.editsOnly || m.edits.length > 0) && matches(m, opts.match),
      opts.timeoutMs,
      `${opts.editsOnly ? 'an edit' : 'a change'} after seq ${opts.since} matching ${describeMatch(opts.match)}`,
    );
  }

  private async waitFor(
    since: number,
    accept: (m: BotMessageView) => boolean,
    timeoutMs = 10_000,
    what = 'a message',
  ): Promise<BotMessageView> {
    const deadline = Date.now() + timeoutMs;
    let cursor = since;
    for (let first = true; ; first = false) {
      const remaining = deadline - Date.now();
      const ch = await this.client.changes(this.id, cursor, first ? 0 : Math.min(remaining, 25_000));
      const hit = ch.messages.filter(accept).sort((a, b) => a.messageId - b.messageId)[0];
      if (hit) return hit;
      cursor = Math.max(cursor, ch.seq);
      if (deadline - Date.now() <= 0) break;
    }
    const [entries, msgs] = await Promise.all([this.transcript(), this.messages()]);
    throw new Error(
      `user ${this.id}: timed out after ${timeoutMs} ms waiting for ${what}. The chat so far:\n${describeTranscript(entries, msgs)}`,
    );
  }
}
