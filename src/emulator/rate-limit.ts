import type { Limits } from './types.ts';

export const DEFAULT_LIMITS: Limits = { perChatPerSecond: 1, perChatBurst: 3, globalPerSecond: 30 };

const enabled = (rate: number): boolean => rate > 0 && Number.isFinite(rate);

/** Classic token bucket: `capacity` tokens, refilled at `rate` tokens per second. */
class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Milliseconds until one token is available (0 = available now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** Per-chat plus global token buckets, and forced 429s for tests. */
export class RateLimiter {
  private limits: Limits;
  private readonly chats = new Map<number, TokenBucket>();
  private global: TokenBucket | undefined;
  private forced: { count: number; retryAfter: number } = { count: 0, retryAfter: 1 };

  constructor(limits: Partial<Limits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  setLimits(limits: Partial<Limits>): void {
    this.limits = { ...this.limits, ...limits };
    this.chats.clear();
    this.global = undefined;
  }

  getLimits(): Limits {
    return { ...this.limits };
  }

  inject429(count: number, retryAfterSec: number): void {
    this.forced = { count: Math.max(0, count), retryAfter: Math.max(1, Math.ceil(retryAfterSec)) };
  }

  /** Returns a forced retry_after if an injected 429 is pending (and consumes it). */
  takeForced(): number | undefined {
    if (this.forced.count <= 0) return undefined;
    this.forced.count -= 1;
    return this.forced.retryAfter;
  }

  /** Consumes one send for `chatId`; returns retry_after seconds (>= 1) if over a limit. */
  acquire(chatId: number, now = Date.now()): number | undefined {
    const { perChatPerSecond, perChatBurst, globalPerSecond } = this.limits;
    let chat: TokenBucket | undefined;
    if (enabled(perChatPerSecond)) {
      chat = this.chats.get(chatId);
      if (!chat) {
        chat = new TokenBucket(perChatPerSecond, Math.max(1, perChatBurst), now);
        this.chats.set(chatId, chat);
      }
    }
    if (enabled(globalPerSecond) && !this.global) {
      const burst = this.limits.globalBurst ?? globalPerSecond;
      this.global = new TokenBucket(globalPerSecond, Math.max(1, burst), now);
    }
    const global = enabled(globalPerSecond) ? this.global : undefined;
    const wait = Math.max(chat?.waitMs(now) ?? 0, global?.waitMs(now) ?? 0);
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
    chat?.take();
    global?.take();
    return undefined;
  }
}
