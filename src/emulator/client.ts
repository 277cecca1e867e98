import type {
  BotSummary,
  ChatChanges,
  EmulatorStats,
  Limits,
  OutboundRecord,
  UserProfile,
  WebhookDelivery,
} from './types.ts';
import { UserHandle } from './user-handle.ts';

export * from './client-format.ts';
export { type ControlTransport, UserHandle } from './user-handle.ts';

/** HTTP client of a running emulator's control API (`/_emulator/...`). */
export class EmulatorClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly opts: { bot?: string | number } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
  ): Promise<T> {
    const res = await this.raw(method, path, body, query);
    return (await res.json()) as T;
  }

  async raw(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
  ): Promise<Response> {
    const qs = new URLSearchParams(query);
    if (this.opts.bot !== undefined) qs.set('bot', String(this.opts.bot));
    const q = qs.toString();
    const res = await fetch(`${this.url}/_emulator${path}${q ? `?${q}` : ''}`, {
      method,
      ...(body !== undefined
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
        : {}),
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
  changes(chatId: number, since: number, timeoutMs: number, latestEditOnly = false): Promise<ChatChanges> {
    return this.request('GET', `/chats/${chatId}/changes`, undefined, {
      since: String(since),
      timeout: String(Math.max(0, Math.round(timeoutMs))),
      ...(latestEditOnly ? { edits: 'latest' } : {}),
    });
  }
}
