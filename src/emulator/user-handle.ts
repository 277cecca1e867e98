import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type ButtonTarget,
  type ChangeWaitOptions,
  describeMatch,
  describeTranscript,
  matches,
  type WaitOptions,
} from './client-format.ts';
import type {
  BotMessageView,
  ButtonView,
  CallbackAnswerRecord,
  ChatChanges,
  TgBotCommand,
  TranscriptEntry,
  UserActionResult,
  UserProfile,
} from './types.ts';

/** What a UserHandle needs from the control client (EmulatorClient implements it). */
export interface ControlTransport {
  request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<T>;
  changes(chatId: number, since: number, timeoutMs: number, latestEditOnly?: boolean): Promise<ChatChanges>;
  fileBytes(fileId: string): Promise<Buffer>;
  blockChat(chatId: number): Promise<void>;
  unblockChat(chatId: number): Promise<void>;
}

/** One user's private chat with the bot. */
export class UserHandle {
  /** message_id of the last message this handle sent (default `after` for waits). */
  lastSentMessageId = 0;
  /** Chat seq at the last action (bot changes after it have a higher seq). */
  lastActionSeq = 0;

  constructor(
    readonly client: ControlTransport,
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
    const r = await this.client.request<UserActionResult>('POST', `/users/${this.id}/text`, {
      text,
      profile: this.profile,
    });
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
    const found =
      typeof target === 'object' && 'messageId' in target ? target : await this.findButton(target);
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
    throw new Error(
      `no callback button ${String(target)} in chat ${this.id}; buttons: ${seen.join(' ') || '(none)'}`,
    );
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
    return this.client.request(
      'GET',
      `/chats/${this.id}/commands`,
      undefined,
      languageCode ? { lang: languageCode } : {},
    );
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
      opts.latestEditOnly ?? false,
    );
  }

  private async waitFor(
    since: number,
    accept: (m: BotMessageView) => boolean,
    timeoutMs = 10_000,
    what = 'a message',
    latestEditOnly = false,
  ): Promise<BotMessageView> {
    const deadline = Date.now() + timeoutMs;
    let cursor = since;
    for (let first = true; ; first = false) {
      const remaining = deadline - Date.now();
      const ch = await this.client.changes(
        this.id,
        cursor,
        first ? 0 : Math.min(remaining, 25_000),
        latestEditOnly,
      );
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
