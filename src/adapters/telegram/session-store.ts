import type { Redis } from 'ioredis';
import type { MiddlewareFn } from 'telegraf';
import type { BotContext, Session } from './context.ts';

// Sessions in Redis with a TTL, so dialog state survives a restart but abandoned dialogs expire.
//
// Not telegraf's session(): its in-process cache keeps a rejected store read forever, so after one
// Redis hiccup every later update of that user failed until restart (found by test/e2e/outage.test.ts).
// This one reads per update, saves only when the handler finished without error and the session
// changed, and holds ids and the dialog step only (authoritative data lives in PostgreSQL).

export function redisSession(
  redis: Redis,
  ttlSeconds: number,
  /** The installation's QUEUE_PREFIX: every Redis key of one installation shares it. */
  installation: string,
): MiddlewareFn<BotContext> {
  const prefix = `${installation}:sess:`;
  return async (ctx, next) => {
    if (!ctx.from || !ctx.chat) return next();
    const key = `${prefix}${ctx.chat.id}:${ctx.from.id}`;
    const raw = await redis.get(key);
    ctx.session = raw ? (JSON.parse(raw) as Session) : {};
    await next();
    const after = JSON.stringify(ctx.session ?? {});
    if (after === (raw ?? '{}')) return;
    if (after === '{}') await redis.del(key);
    else await redis.set(key, after, 'EX', ttlSeconds);
  };
}
