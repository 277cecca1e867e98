import { ApiError, conflict } from './errors.ts';
import type { TgUpdate } from './types.ts';

interface QueueEntry {
  update: TgUpdate;
  /** Returned by getUpdates at least once (so a higher offset confirms it). */
  delivered: boolean;
  /** Re-delivery of an old update_id (kept until returned even though its id is below the offset). */
  repeat: boolean;
}

const TERMINATED = 'terminated by other getUpdates request; make sure that only one bot instance is running';

/** Pending updates with getUpdates semantics (offset confirmation, limit, long polling). */
export class UpdateQueue {
  // Like Telegram, update ids do not restart at 1: a bot that remembers the ids it handled (to drop
  // repeated webhook deliveries) must not mistake a restarted emulator's updates for old ones.
  // (Seconds modulo 10^6, times 1000: stays below 2^31 and repeats only every 11.5 days.)
  private nextId = (Math.floor(Date.now() / 1000) % 1_000_000) * 1000 + 1;
  private entries: QueueEntry[] = [];
  private readonly history = new Map<number, TgUpdate>();
  private wake: (() => void) | undefined;
  private activePoll: AbortController | undefined;

  allocateId(): number {
    return this.nextId++;
  }

  /** Records an update so it can be repeated later. */
  remember(update: TgUpdate): void {
    this.history.set(update.update_id, update);
  }

  recall(updateId: number): TgUpdate | undefined {
    return this.history.get(updateId);
  }

  push(update: TgUpdate, repeat = false): void {
    this.entries.push({ update, delivered: false, repeat });
    this.wake?.();
  }

  get pendingCount(): number {
    return this.entries.length;
  }

  /** Removes and returns everything pending (e.g. when a webhook is set). */
  drain(): TgUpdate[] {
    const out = this.entries.map((e) => e.update);
    this.entries = [];
    return out;
  }

  private confirm(offset: number): void {
    if (offset < 0) {
      this.entries = this.entries.slice(offset);
      return;
    }
    this.entries = this.entries.filter((e) => e.update.update_id >= offset || (e.repeat && !e.delivered));
  }

  private take(limit: number): TgUpdate[] {
    const batch = this.entries.slice(0, limit);
    for (const e of batch) e.delivered = true;
    return batch.map((e) => e.update);
  }

  /** getUpdates: confirm by offset, then return up to `limit`, waiting up to `timeoutSec` for the first. */
  async poll(offset: number, limit: number, timeoutSec: number, signal: AbortSignal): Promise<TgUpdate[]> {
    this.activePoll?.abort(conflict(TERMINATED));
    const mine = new AbortController();
    this.activePoll = mine;
    try {
      this.confirm(offset);
      const deadline = Date.now() + timeoutSec * 1000;
      while (this.entries.length === 0 && Date.now() < deadline && !signal.aborted && !mine.signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            mine.signal.removeEventListener('abort', done);
            if (this.wake === done) this.wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
          signal.addEventListener('abort', done, { once: true });
          mine.signal.addEventListener('abort', done, { once: true });
          this.wake = done;
        });
      }
      if (mine.signal.aborted && mine.signal.reason instanceof ApiError) throw mine.signal.reason;
      if (signal.aborted) return [];
      return this.take(Math.min(100, Math.max(1, limit)));
    } finally {
      if (this.activePoll === mine) this.activePoll = undefined;
    }
  }

  /** Ends any waiting poll (webhook set / emulator closing). */
  interrupt(reason?: ApiError): void {
    if (reason) this.activePoll?.abort(reason);
    this.wake?.();
  }
}
