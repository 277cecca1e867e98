import type { Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Logger } from '../logger.ts';
import type { PacedTelegram } from './outbound.ts';

// Long polling without a batch barrier. telegraf's own loop handles a getUpdates batch and asks for the
// next one only when every update of the batch is done, so one slow update (a chat waiting its turn, a
// spreadsheet being parsed) holds back every other chat's next update. Like grammY's runner, this loop
// asks again as soon as a batch is handed over, with at most `maxInFlight` updates being handled at once
// (beyond it, it waits: back-pressure); the shell's chat order (chat-order.ts) keeps each chat's updates
// in order, and updates of different chats run side by side.
//
// An update is acknowledged to Telegram (the `offset`) only when it and every update before it are done,
// so a process that dies loses nothing: what was not done is delivered again, and what was done is
// dropped by its once-only mark. Updates delivered again while still being handled, or done while an
// earlier one still runs, are skipped here. (grammY's runner acknowledges on receipt and loses what was
// being handled when the process dies; this keeps telegraf's guarantee without its barrier. The price:
// while the oldest update runs, each poll returns it again, so after a batch the loop waits for the
// next update to be done, `busyPollMs` at most, before asking again.)

export interface PollerOptions {
  /** Updates per getUpdates call (Telegram: 1–100). */
  limit?: number;
  /** Long-poll timeout in seconds. */
  timeoutSeconds?: number;
  /** Most updates handled at once by this process. */
  maxInFlight?: number;
  /** Longest pause before asking again when a batch held only updates still being handled (an update
   * being done ends the pause at once). */
  busyPollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class UpdatePoller {
  private readonly inFlight = new Set<number>();
  /** Done, but not yet acknowledged (an earlier update still runs). */
  private readonly doneAhead = new Set<number>();
  private offset = 0;
  private highest = -1;
  private stopped = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly limit: number;
  private readonly timeoutSeconds: number;
  private readonly maxInFlight: number;
  private readonly busyPollMs: number;

  constructor(
    /** The bot's client: its callApi is the outbound path (outbound.ts). */
    private readonly telegram: PacedTelegram,
    private readonly handle: (update: Update) => Promise<unknown>,
    private readonly logger: Logger,
    opts: PollerOptions = {},
  ) {
    this.limit = opts.limit ?? 100;
    this.timeoutSeconds = opts.timeoutSeconds ?? 30;
    this.maxInFlight = opts.maxInFlight ?? 200;
    this.busyPollMs = opts.busyPollMs ?? 50;
  }

  /** Starts polling (after removing any webhook, as telegraf's launch does). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops asking for updates; updates being handled finish on their own (the app waits for them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  /** Updates handed over and not yet done. */
  get handling(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    await this.retrying('deleteWebhook', () => this.telegram.deleteWebhook({ drop_pending_updates: false }));
    let backoffMs = 0;
    while (!this.stopped) {
      if (this.inFlight.size >= this.maxInFlight) {
        await this.somethingDone();
        continue;
      }
      let updates: Update[];
      const limit = Math.min(this.limit, this.maxInFlight - this.inFlight.size);
      try {
        updates = await this.telegram.callApi(
          'getUpdates',
          {
            offset: this.offset,
            limit,
            timeout: this.timeoutSeconds,
          },
          // telegraf types its signal as the abort-controller shim's; Node's is what node-fetch takes.
          { signal: this.abort.signal } as unknown as NonNullable<Parameters<Telegram['callApi']>[2]>,
        );
        backoffMs = 0;
      } catch (err) {
        if (this.stopped) break;
        backoffMs = Math.min(30_000, backoffMs ? backoffMs * 2 : 500);
        this.logger.warn({ err, retryInMs: backoffMs }, 'getUpdates failed; polling again');
        await sleep(backoffMs);
        continue;
      }
      let fresh = 0;
      // Handed over in update_id order and synchronously: the chat order is entered in this order.
      for (const u of updates) {
        const id = u.update_id;
        if (id < this.offset || this.inFlight.has(id) || this.doneAhead.has(id)) continue;
        fresh++;
        this.inFlight.add(id);
        if (id > this.highest) this.highest = id;
        void this.handle(u)
          .catch((err: unknown) =>
            this.logger.error({ err, updateId: id }, 'update failed outside its handler'),
          )
          .finally(() => this.done(id));
      }
      this.acknowledge();
      // Updates returned are still being handled (the offset stays at the oldest one, so a crash loses
      // nothing): asking again at once would only return them again (Telegram answers at once while
      // any update at or after the offset is unconfirmed), so wait until one of them is done (its
      // chat's next update may be waiting, and the offset may move) or `busyPollMs` at most. New updates
      // of other chats then arrive with at most this delay while older ones run. A full batch of new
      // updates is followed at once (more may be waiting).
      if (updates.length > 0 && (fresh === 0 || updates.length < limit))
        await this.somethingDone(this.busyPollMs);
    }
  }

  private done(id: number): void {
    this.inFlight.delete(id);
    this.doneAhead.add(id);
    this.acknowledge();
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The offset moves past every update that is done with nothing earlier still running. */
  private acknowledge(): void {
    let lowest = this.highest + 1;
    for (const id of this.inFlight) if (id < lowest) lowest = id;
    this.offset = Math.max(this.offset, lowest);
    for (const id of this.doneAhead) if (id < this.offset) this.doneAhead.delete(id);
  }

  /** Resolves when an update is done (or after `atMostMs`, when given). */
  private somethingDone(atMostMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.wake;
      const timer = atMostMs === undefined ? undefined : setTimeout(() => wake(), atMostMs);
      let woken = false;
      const wake = () => {
        if (woken) return;
        woken = true;
        clearTimeout(timer);
        if (this.wake === wake) this.wake = undefined;
        previous?.();
        resolve();
      };
      this.wake = wake;
    });
  }

  private async retrying(what: string, call: () => Promise<unknown>): Promise<void> {
    for (let backoffMs = 500; !this.stopped; backoffMs = Math.min(30_000, backoffMs * 2)) {
      try {
        await call();
        return;
      } catch (err) {
        this.logger.warn({ err, retryInMs: backoffMs }, `${what} failed; trying again`);
        await sleep(backoffMs);
      }
    }
  }
}
