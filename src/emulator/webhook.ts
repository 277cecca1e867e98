import type { TgUpdate, WebhookDelivery } from './types.ts';

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
  allowedUpdates?: string[];
}

export interface WebhookRetryOptions {
  /** First retry delay; doubles per attempt up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up on an update after this many attempts (Infinity = keep trying while the webhook is set). */
  maxAttempts: number;
  /** Per-request timeout. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryOptions = {
  initialDelayMs: 200,
  maxDelayMs: 5000,
  maxAttempts: Number.POSITIVE_INFINITY,
  timeoutMs: 30_000,
};

const chatKeyOf = (u: TgUpdate): string => {
  const id = u.message?.chat.id ?? u.callback_query?.from.id;
  return id === undefined ? 'other' : String(id);
};

/**
 * Pushes updates to the webhook: in order and one at a time per chat, up to max_connections chats
 * in parallel, retrying with exponential backoff; a JSON reply with `method` is executed like Telegram.
 */
export class WebhookSender {
  config: WebhookConfig | undefined;
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;
  readonly deliveries: WebhookDelivery[] = [];
  private generation = 0;
  private readonly queues = new Map<string, TgUpdate[]>();
  private readonly busy = new Set<string>();
  private closed = false;

  constructor(
    private readonly retry: WebhookRetryOptions,
    private readonly onReply: (method: string, payload: Record<string, unknown>) => Promise<void>,
    private readonly log: (msg: string, data: object) => void,
  ) {}

  set(config: WebhookConfig): void {
    this.config = config;
    this.generation += 1;
    this.pump();
  }

  /** Unsets the webhook and returns the updates not yet delivered. */
  unset(): TgUpdate[] {
    this.config = undefined;
    this.generation += 1;
    const pending = [...this.queues.values()].flat();
    this.queues.clear();
    return pending;
  }

  push(update: TgUpdate): void {
    const key = chatKeyOf(update);
    const q = this.queues.get(key) ?? [];
    q.push(update);
    this.queues.set(key, q);
    this.pump();
  }

  get pendingCount(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  close(): void {
    this.closed = true;
    this.generation += 1;
  }

  private pump(): void {
    const config = this.config;
    if (!config || this.closed) return;
    for (const [key, q] of this.queues) {
      if (this.busy.size >= config.maxConnections) return;
      if (q.length === 0 || this.busy.has(key)) continue;
      this.busy.add(key);
      void this.work(key, this.generation).finally(() => {
        this.busy.delete(key);
        this.pump();
      });
    }
  }

  private async work(key: string, generation: number): Promise<void> {
    const q = this.queues.get(key);
    const update = q?.[0];
    if (!q || !update) return;
    for (let attempt = 1; ; attempt++) {
      if (generation !== this.generation || this.closed) return;
      const ok = await this.deliver(update, attempt, key);
      if (generation !== this.generation) return;
      if (ok || attempt >= this.retry.maxAttempts) break;
      const delay = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, delay));
    }
    if (q[0] === update) q.shift();
    if (q.length === 0 && this.queues.get(key) === q) this.queues.delete(key);
  }

  private async deliver(update: TgUpdate, attempt: number, key: string): Promise<boolean> {
    const config = this.config;
    if (!config) return false;
    const started = Date.now();
    const record: WebhookDelivery = {
      updateId: update.update_id,
      attempt,
      ok: false,
      at: started,
      durationMs: 0,
    };
    if (key !== 'other') record.chatId = Number(key);
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(config.secretToken ? { 'X-Telegram-Bot-Api-Secret-Token': config.secretToken } : {}),
        },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(this.retry.timeoutMs),
      });
      record.status = res.status;
      const body = await res.text();
      record.ok = res.status >= 200 && res.status < 300;
      if (!record.ok) {
        record.error = `Wrong response from the webhook: ${res.status} ${res.statusText}`;
      } else if (body && (res.headers.get('content-type') ?? '').includes('json')) {
        const reply = JSON.parse(body) as Record<string, unknown>;
        if (typeof reply['method'] === 'string') {
          const { method, ...payload } = reply;
          await this.onReply(method as string, payload);
        }
      }
    } catch (err) {
      record.error = err instanceof Error ? `Connection failed: ${err.message}` : 'Connection failed';
    }
    record.durationMs = Date.now() - started;
    this.deliveries.push(record);
    if (!record.ok) {
      this.lastErrorDate = Math.floor(Date.now() / 1000);
      this.lastErrorMessage = record.error;
      this.log('webhook delivery failed', record);
    }
    return record.ok;
  }
}
