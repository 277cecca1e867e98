// Conversation-style test DSL over the Telegram emulator (src/emulator). Bot-agnostic.
//
//   const emu = await startTestEmulator();            // or conversation(url) for a running emulator
//   const alice = emu.user(1001, { firstName: '张三', languageCode: 'zh-hans' });
//   await alice.send('/start');
//   await alice.expectReply(/欢迎/);
//   await alice.press('确认');
//   const doc = await alice.expectDocument();
import { DEFAULT_LIMITS } from '../../src/emulator/rate-limit.ts';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.ts';
import {
  type ButtonTarget,
  describeTranscript,
  EmulatorClient,
  type MessageMatch,
  type UserHandle,
} from '../../src/emulator/client.ts';
import type {
  BotMessageView,
  CallbackAnswerRecord,
  TgBotCommand,
  UserActionResult,
  UserProfile,
} from '../../src/emulator/types.ts';

export interface ExpectOptions {
  /** Default: the conversation timeout (20 s). */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One user talking to the bot in a private chat. */
export class Person {
  /** Replies are matched only after this message id (advances with every send and every matched reply). */
  private cursor = 0;
  private lastPress: UserActionResult | undefined;

  constructor(
    readonly handle: UserHandle,
    private readonly timeoutMs: number,
  ) {}

  get id(): number {
    return this.handle.id;
  }

  private advance(r: UserActionResult): UserActionResult {
    if (r.messageId !== undefined && r.callbackQueryId === undefined)
      this.cursor = Math.max(this.cursor, r.messageId);
    return r;
  }

  /** Sends text; `/cmd args` gets a bot_command entity like in Telegram. */
  async send(text: string): Promise<UserActionResult> {
    return this.advance(await this.handle.sendText(text));
  }

  async command(command: string, payload?: string): Promise<UserActionResult> {
    return this.advance(await this.handle.sendCommand(command, payload));
  }

  /** Presses a callback button of the latest bot message having it (label, regexp, predicate or {messageId,data}). */
  async press(target: ButtonTarget): Promise<UserActionResult> {
    this.lastPress = await this.handle.pressButton(target);
    return this.lastPress;
  }

  async upload(
    file: string | { fileName: string; bytes: Buffer | Uint8Array | string; mimeType?: string },
    caption?: string,
  ): Promise<UserActionResult> {
    return this.advance(await this.handle.sendDocument(file, caption));
  }

  /** Waits for the next bot message (after the last send / matched reply) matching `match`. */
  async expectReply(match?: MessageMatch, opts: ExpectOptions = {}): Promise<BotMessageView> {
    const m = await this.handle.waitForMessage({
      after: this.cursor,
      ...(match !== undefined ? { match } : {}),
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
    });
    this.cursor = Math.max(this.cursor, m.messageId);
    return m;
  }

  /** Waits for a new bot message carrying a document (optionally matching caption / file name). */
  expectDocument(match?: string | RegExp, opts: ExpectOptions = {}): Promise<BotMessageView> {
    return this.expectReply((m) => {
      if (!m.document) return false;
      if (match === undefined) return true;
      const text = [m.caption, m.document.file_name].filter(Boolean).join('\n');
      return typeof match === 'string' ? text.includes(match) : match.test(text);
    }, opts);
  }

  /** Waits for an edit of a bot message after the last action (e.g. after `press`). */
  expectEdit(match?: MessageMatch, opts: ExpectOptions = {}): Promise<BotMessageView> {
    return this.handle.waitForChange({
      since: this.handle.lastActionSeq,
      editsOnly: true,
      ...(match !== undefined ? { match } : {}),
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
    });
  }

  /** Waits until the bot answered the last pressed button's callback query. */
  async expectAnswer(match?: string | RegExp, opts: ExpectOptions = {}): Promise<CallbackAnswerRecord> {
    const id = this.lastPress?.callbackQueryId;
    if (!id) throw new Error(`user ${this.id}: expectAnswer() needs a press() first`);
    const deadline = Date.now() + (opts.timeoutMs ?? this.timeoutMs);
    for (;;) {
      const answer = (await this.handle.callbackAnswers()).find((a) => a.callbackQueryId === id);
      if (answer) {
        const text = answer.text ?? '';
        if (match !== undefined && !(typeof match === 'string' ? text.includes(match) : match.test(text))) {
          throw new Error(
            `user ${this.id}: callback answer ${JSON.stringify(text)} does not match ${String(match)}`,
          );
        }
        return answer;
      }
      if (Date.now() > deadline) {
        const [entries, msgs] = await Promise.all([this.handle.transcript(), this.handle.messages()]);
        throw new Error(
          `user ${this.id}: the bot did not answer callback query ${id}. The chat so far:\n${describeTranscript(entries, msgs)}`,
        );
      }
      await sleep(25);
    }
  }

  /** Asserts nothing new arrives within `quietMs` (not a speed assertion: it only waits). */
  async expectNoReply(quietMs = 500): Promise<void> {
    const after = this.cursor;
    const extra = (await this.handle.messages()).filter((m) => m.messageId > after);
    if (extra.length === 0) await sleep(quietMs);
    const late = (await this.handle.messages()).filter((m) => m.messageId > after);
    if (late.length > 0) {
      const [entries, msgs] = await Promise.all([this.handle.transcript(), this.handle.messages()]);
      throw new Error(`user ${this.id}: expected no reply, but got:\n${describeTranscript(entries, msgs)}`);
    }
  }

  messages(): Promise<BotMessageView[]> {
    return this.handle.messages();
  }
  lastMessage(): Promise<BotMessageView | undefined> {
    return this.handle.lastMessage();
  }
  commands(languageCode?: string): Promise<TgBotCommand[]> {
    return this.handle.myCommands(languageCode);
  }
  download(message: BotMessageView): Promise<Buffer> {
    return this.handle.downloadDocument(message);
  }
  async dump(): Promise<string> {
    const [entries, msgs] = await Promise.all([this.handle.transcript(), this.handle.messages()]);
    return describeTranscript(entries, msgs);
  }
}

export interface Conversation {
  client: EmulatorClient;
  user(id: number, profile?: UserProfile): Person;
}

/** DSL against a running emulator (URL or anything with `url`). */
export function conversation(
  target: string | { url: string },
  opts: { timeoutMs?: number; bot?: string | number } = {},
): Conversation {
  const client = new EmulatorClient(typeof target === 'string' ? target : target.url, {
    ...(opts.bot !== undefined ? { bot: opts.bot } : {}),
  });
  return {
    client,
    user: (id, profile = {}) => new Person(client.user(id, profile), opts.timeoutMs ?? 20_000),
  };
}

export interface TestEmulator extends Conversation {
  emulator: Emulator;
  url: string;
  apiRoot: string;
  close(): Promise<void>;
}

/**
 * Starts an in-process emulator on a random port with the DSL on top. Telegram's limits are ON (the
 * emulator's defaults: 1 message/s per chat with a burst of 3, 30/s overall), as in production; a test
 * about something else may pass `limits: NO_LIMITS` and say why.
 */
export async function startTestEmulator(
  opts: EmulatorOptions & { timeoutMs?: number } = {},
): Promise<TestEmulator> {
  const { timeoutMs, ...emuOpts } = opts;
  const emulator = await createEmulator({
    port: 0,
    limits: { ...DEFAULT_LIMITS },
    webhookRetry: { initialDelayMs: 20, maxDelayMs: 200 },
    ...emuOpts,
  });
  return {
    ...conversation(emulator, timeoutMs !== undefined ? { timeoutMs } : {}),
    emulator,
    url: emulator.url,
    apiRoot: emulator.apiRoot,
    close: () => emulator.close(),
  };
}
