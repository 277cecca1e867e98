import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Update } from 'telegraf/types';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';

// One small HTTP server per process: /healthz, /metrics and (in webhook mode) the Telegram webhook.
// The webhook checks the secret header in constant time, answers as soon as the update is handled
// (at most `answerWithinMs`, after which handling continues in the background: Telegram would
// re-send a slow update, and repeated update_ids are dropped by the bot anyway). An update that failed
// for a reason a later delivery can fix is answered 503, and the bot has not recorded it as done.

export interface HttpLimits {
  /** Time to receive a request's headers (Node's default is 60 s: slow-header sockets pile up). */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
  /** Open connections at most; more are closed at once (Telegram opens up to max_connections, 40). */
  maxConnections: number;
  /** How often Node checks the two timeouts above. */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 200,
  checkIntervalMs: 1_000,
};

export interface HttpOptions {
  port: number;
  host?: string;
  logger: Logger;
  metrics: Metrics;
  /**
   * /metrics: with a token, only for `Authorization: Bearer <token>`; without one it is served only
   * when `metricsOpen` (sandbox), otherwise 404 (the port is public in webhook mode).
   */
  metricsToken?: string;
  metricsOpen?: boolean;
  limits?: Partial<HttpLimits>;
  health: () => Promise<Record<string, boolean>>;
  webhook?: {
    path: string;
    secret: string;
    /** 'retry': the update failed in a way a later delivery can fix; answered 503 so Telegram re-sends it. */
    handle: (update: Update) => Promise<'ok' | 'retry'>;
    answerWithinMs?: number;
  };
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function secretMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function startHttpServer(opts: HttpOptions): Promise<Server> {
  const { logger, metrics } = opts;
  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };

  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const server = createServer({ connectionsCheckingInterval: limits.checkIntervalMs }, async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/healthz') {
        const checks = await opts.health();
        const ok = Object.values(checks).every(Boolean);
        return send(res, ok ? 200 : 503, JSON.stringify({ ok, checks }), 'application/json');
      }
      if (req.method === 'GET' && path === '/metrics') {
        if (opts.metricsToken) {
          if (!secretMatches(req.headers.authorization, `Bearer ${opts.metricsToken}`))
            return send(res, 401, 'unauthorized');
        } else if (!opts.metricsOpen) return send(res, 404, 'not found');
        return send(res, 200, await metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
      }
      const wh = opts.webhook;
      if (wh && req.method === 'POST' && path === wh.path) {
        if (!secretMatches(req.headers['x-telegram-bot-api-secret-token'], wh.secret)) {
          metrics.inc('warmth_webhook_rejected_total', 'Webhook calls with a wrong or missing secret');
          logger.warn({ remote: req.socket.remoteAddress }, 'webhook call with a wrong secret refused');
          return send(res, 401, 'unauthorized');
        }
        let update: Update;
        try {
          update = JSON.parse(await readBody(req)) as Update;
        } catch {
          return send(res, 400, 'bad request');
        }
        const handled = wh.handle(update).catch((err: unknown) => {
          logger.error({ err }, 'webhook update failed');
          return 'retry' as const;
        });
        const timer = new Promise<'slow'>((r) =>
          setTimeout(() => r('slow'), wh.answerWithinMs ?? 20_000).unref(),
        );
        const outcome = await Promise.race([handled, timer]);
        if (outcome === 'retry') return send(res, 503, 'retry later');
        return send(res, 200, 'ok');
      }
      send(res, 404, 'not found');
    } catch (err) {
      logger.error({ err }, 'http request failed');
      if (!res.headersSent) send(res, 500, 'error');
    }
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve(server));
  });
}
