import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiDeps, callMethod, handleApi, handleFileDownload, webhookReplyParams } from './api.ts';
import { BotControl } from './control.ts';
import { CONTROL_PREFIX, handleControl } from './control-http.ts';
import { sendJson } from './http-util.ts';
import { Notifier } from './notifier.ts';
import { DEFAULT_LIMITS } from './rate-limit.ts';
import { type BotIdentity, BotRegistry } from './registry.ts';
import type { BotSummary, Limits } from './types.ts';
import { handleWeb, type WebPageOptions } from './web.ts';
import { DEFAULT_WEBHOOK_RETRY, type WebhookRetryOptions } from './webhook.ts';

/** Pino-compatible subset. */
export interface EmulatorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Known bots by token; any other `<digits>:<secret>` token is auto-created on first use. */
  bots?: Record<string, BotIdentity>;
  /** Username of auto-created bots (default `warmth_sandbox_bot`). */
  defaultBotUsername?: string;
  limits?: Partial<Limits>;
  /** Upload limit in bytes (Telegram: 50 MB). */
  maxFileSize?: number;
  /** getFile limit in bytes (Telegram: 20 MB). */
  maxDownloadSize?: number;
  webhookRetry?: Partial<WebhookRetryOptions>;
  logger?: EmulatorLogger;
  /** Serve the sandbox's web page at `/` (chat panes over the control API). */
  web?: WebPageOptions;
}

export interface Emulator extends BotControl {
  /** Base URL, e.g. `http://127.0.0.1:8081` (control API under `/_emulator`). */
  readonly url: string;
  /** Value for telegraf's `telegram.apiRoot` / TELEGRAM_API_ROOT (same as url). */
  readonly apiRoot: string;
  readonly port: number;
  /** Control of a specific bot (by id or username); the emulator itself controls the default bot. */
  bot(selector: number | string): BotControl;
  bots(): BotSummary[];
  close(): Promise<void>;
}

const MB = 1024 * 1024;

export async function createEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const notifier = new Notifier();
  const closing = new AbortController();
  const log = (msg: string, data: object): void => opts.logger?.warn(data, msg);
  const deps: ApiDeps = {
    registry: undefined as unknown as BotRegistry,
    maxUploadSize: opts.maxFileSize ?? 50 * MB,
    closing: closing.signal,
    log,
  };
  const registry = new BotRegistry({
    bots: opts.bots ?? {},
    defaultBotUsername: opts.defaultBotUsername ?? 'warmth_sandbox_bot',
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    maxDownloadSize: opts.maxDownloadSize ?? 20 * MB,
    webhookRetry: { ...DEFAULT_WEBHOOK_RETRY, ...opts.webhookRetry },
    notifier,
    log,
    onWebhookReply: async (bot, method, payload) => {
      await callMethod(bot, method, webhookReplyParams(payload), deps, closing.signal).catch((err: unknown) =>
        log('webhook reply method failed', { method, error: String(err) }),
      );
    },
  });
  deps.registry = registry;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const api = /^\/bot([^/]+)\/([^/]+)\/?$/.exec(path);
    if (api) return handleApi(req, res, url, decodeURIComponent(api[1]!), api[2]!, deps);
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(path);
    if (file && req.method === 'GET')
      return handleFileDownload(res, decodeURIComponent(file[1]!), file[2]!, deps);
    if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      return handleControl(req, res, url, registry, notifier, closing.signal);
    }
    if (opts.web && req.method === 'GET' && (await handleWeb(res, path, opts.web))) return;
    sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log('emulator request failed', { url: req.url, error: String(err) });
      sendJson(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
    });
  });
  server.keepAliveTimeout = 65_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  opts.logger?.info({ url }, 'telegram emulator listening');

  const control = new BotControl(() => registry.defaultBot(), notifier);
  const extra = {
    url,
    apiRoot: url,
    port,
    bot(selector: number | string): BotControl {
      if (!registry.select(selector)) throw new Error(`unknown bot ${selector}`);
      return new BotControl(() => registry.select(selector)!, notifier);
    },
    bots: (): BotSummary[] => registry.all().map((b) => b.summary()),
    async close(): Promise<void> {
      closing.abort();
      registry.close();
      notifier.notifyAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return Object.assign(control, extra) as Emulator;
}
