import type { Logger } from '../logger.ts';
import { maskPhone } from '../../domain/masking.ts';

// SMS for recipients the bot cannot reach in Telegram (no chat, or the bot was blocked).
// Two providers: `log` (sandbox default: writes a masked line to the log, sends nothing, and says so:
// its result is "not delivered", so the notice stays unreachable and staff get a follow-up) and `http`
// (POSTs a JSON body built from a configured template to an SMS gateway). Production must name its
// provider (config.ts). A provider never throws: it returns the outcome, so the notice pipeline can
// record it and move on.

export interface SmsResult {
  ok: boolean;
  /** Gateway message id, if any. */
  id?: string;
  error?: string;
}

export interface SmsProvider {
  readonly name: string;
  send(phone: string, text: string): Promise<SmsResult>;
}

export class LogOnlySmsProvider implements SmsProvider {
  readonly name = 'log';
  readonly sent: { phone: string; text: string; at: Date }[] = [];

  constructor(private readonly logger?: Logger) {}

  async send(phone: string, text: string): Promise<SmsResult> {
    this.sent.push({ phone, text, at: new Date() });
    if (this.sent.length > 1000) this.sent.shift();
    this.logger?.info({ phone: maskPhone(phone), chars: text.length }, 'SMS (log only, not sent)');
    return { ok: false, error: 'not delivered: SMS_PROVIDER=log sends nothing' };
  }
}

export const DEFAULT_SMS_TEMPLATE = '{"phone":"{phone}","text":"{text}"}';

export interface HttpSmsOptions {
  url: string;
  /** JSON body with `{phone}` and `{text}` placeholders (values are JSON-escaped). */
  template?: string;
  token?: string;
  timeoutMs?: number;
  logger?: Logger;
}

/** Fills `{phone}` / `{text}` with JSON-escaped values (the template is JSON text). */
export function renderSmsBody(template: string, phone: string, text: string): string {
  const esc = (v: string) => JSON.stringify(v).slice(1, -1);
  return template.replaceAll('{phone}', esc(phone)).replaceAll('{text}', esc(text));
}

export class HttpSmsProvider implements SmsProvider {
  readonly name = 'http';
  constructor(private readonly opts: HttpSmsOptions) {
    JSON.parse(renderSmsBody(opts.template ?? DEFAULT_SMS_TEMPLATE, '1', 'x')); // fail fast on a bad template
  }

  async send(phone: string, text: string): Promise<SmsResult> {
    const body = renderSmsBody(this.opts.template ?? DEFAULT_SMS_TEMPLATE, phone, text);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      const raw = await res.text();
      if (!res.ok) return { ok: false, error: `HTTP ${res.status}: ${raw.slice(0, 200)}` };
      let id: string | undefined;
      try {
        const j = JSON.parse(raw) as { id?: unknown; messageId?: unknown };
        const v = j.id ?? j.messageId;
        if (typeof v === 'string' || typeof v === 'number') id = String(v);
      } catch {
        // a gateway answering 2xx with a non-JSON body still accepted the message
      }
      return { ok: true, ...(id ? { id } : {}) };
    } catch (err) {
      this.opts.logger?.warn({ phone: maskPhone(phone), err: (err as Error).message }, 'SMS gateway failed');
      return { ok: false, error: (err as Error).message.slice(0, 200) };
    }
  }
}

export function createSmsProvider(
  cfg: { provider: 'log' | 'http'; httpUrl?: string; httpTemplate?: string; httpToken?: string },
  logger?: Logger,
): SmsProvider {
  if (cfg.provider === 'http') {
    if (!cfg.httpUrl) throw new Error('SMS_HTTP_URL is required for SMS_PROVIDER=http');
    return new HttpSmsProvider({
      url: cfg.httpUrl,
      ...(cfg.httpTemplate ? { template: cfg.httpTemplate } : {}),
      ...(cfg.httpToken ? { token: cfg.httpToken } : {}),
      ...(logger ? { logger } : {}),
    });
  }
  return new LogOnlySmsProvider(logger);
}
