import { Telegram } from 'telegraf';
import type { SendSlots } from '../queue/chat-bucket.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../logger.ts';
import { classifyTelegramError, SendDeferred } from './errors.ts';

// The one outbound path: every Bot API call of the bot and the workers goes through
// PacedTelegram.callApi (telegraf builds a Telegram per update; the bot's context type swaps it for
// a PacedTelegram, and the workers construct one). A send first takes its slot from SendSlots (per-chat
// pace + the bot's global rate, shared through Redis by every process), then calls the API; on 429 it
// waits retry_after and tries again, within the caller's budget:
//   interactive (a reply to an update): waits up to a few seconds for a 429, then gives up with a log line;
//   background (jobs): a long wait throws SendDeferred, and the job puts itself back as delayed.

type TelegramOptions = ConstructorParameters<typeof Telegram>[1];

export interface OutboundProfile {
  name: 'interactive' | 'background';
  /** Longest wait for a send slot (pacing) before giving up / deferring. */
  maxPacingWaitMs: number;
  /** Total time one call may spend waiting on 429s before giving up / deferring. */
  max429WaitMs: number;
  /** Most attempts of one call (the first included). */
  maxAttempts: number;
}

export const INTERACTIVE: OutboundProfile = {
  name: 'interactive',
  maxPacingWaitMs: 30_000,
  max429WaitMs: 8_000,
  maxAttempts: 8,
};
export const BACKGROUND: OutboundProfile = {
  name: 'background',
  maxPacingWaitMs: 5_000,
  max429WaitMs: 3_000,
  maxAttempts: 3,
};

/** Methods that put something in a chat and count against Telegram's message limits. */
export function isPacedMethod(method: string): boolean {
  return /^(send|edit|copyMessage|forwardMessage|stopPoll)/.test(method);
}

/** editMessageReplyMarkup with no (or an empty) keyboard. */
function isKeyboardRemoval(method: string, payload: Record<string, unknown> | undefined): boolean {
  if (method !== 'editMessageReplyMarkup') return false;
  const markup = payload?.['reply_markup'] as { inline_keyboard?: unknown[] } | undefined;
  return (
    markup === undefined || (Array.isArray(markup.inline_keyboard) && markup.inline_keyboard.length === 0)
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a send waits for Redis to hand out a slot before it goes unpaced (Redis outage). */
const SLOT_TIMEOUT_MS = 1_000;

export class Outbound {
  /** Chats whose next paced send already has its slot (see PacedTelegram.ready). */
  private readonly prepaid = new Map<string, number>();
  private lastSlotWarning = 0;

  constructor(
    readonly slots: SendSlots | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** A Telegram client whose every call goes through this path. */
  client(token: string, options: TelegramOptions, profile: OutboundProfile): PacedTelegram {
    return new PacedTelegram(token, options, this, profile);
  }

  async call<T>(
    profile: OutboundProfile,
    method: string,
    payload: Record<string, unknown> | undefined,
    send: () => Promise<T>,
  ): Promise<T> {
    // Taking the buttons off an answered prompt is cosmetic: it takes its slot like any send, but the
    // reply the person waits for does not wait behind it (callers ignore its result).
    if (profile.name === 'interactive' && isKeyboardRemoval(method, payload)) {
      void this.paced(profile, method, payload, send).catch((err: unknown) => {
        const kind = classifyTelegramError(err).kind;
        if (kind !== 'not_modified' && kind !== 'message_gone')
          this.logger.warn({ err, method }, 'outbound: removing a keyboard failed');
      });
      return true as T;
    }
    return this.paced(profile, method, payload, send);
  }

  private async paced<T>(
    profile: OutboundProfile,
    method: string,
    payload: Record<string, unknown> | undefined,
    send: () => Promise<T>,
  ): Promise<T> {
    const chatId = payload?.['chat_id'];
    const paced =
      this.slots?.enabled &&
      isPacedMethod(method) &&
      (typeof chatId === 'number' || typeof chatId === 'string');
    const started = Date.now();
    let waited429 = 0;
    for (let attempt = 1; ; attempt++) {
      if (paced && !(attempt === 1 && this.usePrepaid(String(chatId))))
        await this.waitForSlot(profile, method, chatId as number | string, started);
      try {
        return await send();
      } catch (err) {
        const f = classifyTelegramError(err);
        if (f.kind !== 'rate_limited') throw err;
        this.metrics.inc('warmth_outbound_429_total', 'Bot API calls answered 429', {
          profile: profile.name,
        });
        if (attempt >= profile.maxAttempts || waited429 + f.retryAfterMs > profile.max429WaitMs) {
          return this.giveUp(profile, method, chatId, f.retryAfterMs, 'rate_limited', err);
        }
        waited429 += f.retryAfterMs;
        await sleep(f.retryAfterMs);
      }
    }
  }

  /**
   * Waits for a send slot for `chatId` now, so that the next paced call to that chat (within a few
   * seconds) goes out at once: a job can claim its row after the wait, right before the send.
   */
  async ready(profile: OutboundProfile, chatId: number | string): Promise<void> {
    if (!this.slots?.enabled) return;
    await this.waitForSlot(profile, 'ready', chatId, Date.now());
    this.prepaid.set(String(chatId), Date.now());
  }

  private usePrepaid(chatId: string): boolean {
    const at = this.prepaid.get(chatId);
    if (at === undefined) return false;
    this.prepaid.delete(chatId);
    return Date.now() - at < 5_000;
  }

  private async waitForSlot(
    profile: OutboundProfile,
    method: string,
    chatId: number | string,
    started: number,
  ): Promise<void> {
    for (;;) {
      const budget = Math.max(0, profile.maxPacingWaitMs - (Date.now() - started));
      const slot = await this.takeSlot(chatId, budget);
      // Redis unreachable: send unpaced rather than not at all (a 429 is still waited out and retried).
      if (slot === undefined) return;
      if (slot.kind === 'reserved') {
        if (slot.waitMs > 0) await sleep(slot.waitMs);
        return;
      }
      if (slot.kind === 'too_far' || slot.waitMs > budget)
        return this.giveUp(profile, method, chatId, slot.waitMs, 'paced');
      await sleep(slot.waitMs);
    }
  }

  /** A send slot, or undefined when Redis does not answer within a second (an outage). */
  private async takeSlot(chatId: number | string, budget: number) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), SLOT_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.slots!.take(chatId, budget), timeout]);
    } catch (err) {
      const now = Date.now();
      if (now - this.lastSlotWarning > 10_000) {
        this.lastSlotWarning = now;
        this.logger.warn({ err }, 'outbound: send slots unavailable (Redis); sending unpaced');
      }
      this.metrics.inc('warmth_outbound_unpaced_total', 'Sends made without a slot (Redis unavailable)');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private giveUp(
    profile: OutboundProfile,
    method: string,
    chatId: unknown,
    retryAfterMs: number,
    reason: 'rate_limited' | 'paced',
    err?: unknown,
  ): never {
    this.metrics.inc('warmth_outbound_gave_up_total', 'Bot API calls given up after waiting', {
      profile: profile.name,
      reason,
    });
    // Background senders defer (the job comes back); an interactive reply is lost: say so in the log.
    if (profile.name === 'interactive')
      this.logger.warn({ method, chatId, retryAfterMs, reason }, 'outbound: gave up on an interactive send');
    if (reason === 'rate_limited' && err && profile.name === 'interactive') throw err;
    throw new SendDeferred(retryAfterMs, reason);
  }
}

/** telegraf's Telegram with callApi routed through the outbound path. */
export class PacedTelegram extends Telegram {
  /** Set once answerCallbackQuery succeeded (the shell answers any callback left unanswered). */
  callbackAnswered = false;

  constructor(
    token: string,
    options: TelegramOptions,
    outbound: Outbound,
    readonly profile: OutboundProfile,
  ) {
    super(token, options);
    const direct = this.callApi.bind(this);
    const paced = async (method: string, payload: Record<string, unknown> | undefined, opts?: unknown) => {
      const result = await outbound.call(profile, method, payload, () =>
        (direct as (m: string, p: unknown, o?: unknown) => Promise<unknown>)(method, payload, opts),
      );
      if (method === 'answerCallbackQuery') this.callbackAnswered = true;
      return result;
    };
    this.callApi = paced as unknown as Telegram['callApi'];
    this.ready = (chatId) => outbound.ready(profile, chatId);
  }

  /** Waits for a send slot for `chatId`; the next send to it goes out at once (throws SendDeferred). */
  readonly ready: (chatId: number | string) => Promise<void>;
}
