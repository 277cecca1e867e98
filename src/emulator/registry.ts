import { BotState } from './bot-state.ts';
import { unauthorized } from './errors.ts';
import type { Notifier } from './notifier.ts';
import type { Limits } from './types.ts';
import type { WebhookRetryOptions } from './webhook.ts';

export interface BotIdentity {
  username?: string;
  firstName?: string;
}

export interface RegistryOptions {
  bots: Record<string, BotIdentity>;
  defaultBotUsername: string;
  limits: Partial<Limits>;
  maxDownloadSize: number;
  webhookRetry: WebhookRetryOptions;
  notifier: Notifier;
  log: (msg: string, data: object) => void;
  onWebhookReply: (bot: BotState, method: string, payload: Record<string, unknown>) => Promise<void>;
}

const TOKEN = /^(\d{1,19}):([A-Za-z0-9_-]+)$/;

/** Bots by id; configured tokens are created eagerly, any other `<digits>:<secret>` token on first use. */
export class BotRegistry {
  private readonly bots = new Map<number, BotState>();
  private placeholder: BotState | undefined;

  constructor(private readonly opts: RegistryOptions) {
    for (const [token, identity] of Object.entries(opts.bots)) {
      const m = TOKEN.exec(token);
      if (!m) throw new Error(`invalid bot token in emulator options: ${token.slice(0, 12)}…`);
      this.create(Number(m[1]), token, identity);
    }
  }

  private create(id: number, token: string | undefined, identity: BotIdentity = {}): BotState {
    const base = this.opts.defaultBotUsername;
    const username =
      identity.username ?? (this.bots.size === 0 ? base : `${base.replace(/_bot$/i, '')}_${id}_bot`);
    const bot = new BotState({
      id,
      token,
      username,
      firstName: identity.firstName ?? 'Warmth Sandbox',
      limits: this.opts.limits,
      maxDownloadSize: this.opts.maxDownloadSize,
      webhookRetry: this.opts.webhookRetry,
      notifier: this.opts.notifier,
      log: this.opts.log,
      onWebhookReply: this.opts.onWebhookReply,
    });
    if (token !== undefined) this.bots.set(id, bot);
    return bot;
  }

  /** The bot a Bot API token belongs to; 401 for malformed tokens or a wrong secret. */
  byToken(token: string): BotState {
    const m = TOKEN.exec(token);
    if (!m) throw unauthorized();
    const id = Number(m[1]);
    const known = this.bots.get(id);
    if (known) {
      if (known.token !== token) throw unauthorized();
      return known;
    }
    if (this.placeholder) {
      const bot = this.placeholder;
      this.placeholder = undefined;
      bot.adopt(id, token);
      this.bots.set(id, bot);
      this.opts.notifier.notifyAll();
      return bot;
    }
    return this.create(id, token);
  }

  /** The bot control calls act on by default: the first configured/connected bot, else a placeholder. */
  defaultBot(): BotState {
    const first = this.bots.values().next();
    if (!first.done) return first.value;
    this.placeholder ??= this.create(0, undefined);
    return this.placeholder;
  }

  /** Finds a bot by id or username (with or without @); undefined selector = default bot. */
  select(selector: string | number | undefined): BotState | undefined {
    if (selector === undefined || selector === '') return this.defaultBot();
    const text = String(selector).replace(/^@/, '');
    if (/^\d+$/.test(text)) return this.bots.get(Number(text));
    return [...this.bots.values()].find((b) => b.user.username?.toLowerCase() === text.toLowerCase());
  }

  all(): BotState[] {
    return [...this.bots.values()];
  }

  close(): void {
    for (const bot of this.bots.values()) {
      bot.webhook.close();
      bot.updates.interrupt();
    }
  }
}
