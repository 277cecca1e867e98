import type { Redis } from 'ioredis';
import type { BotContext, Session } from './context.ts';

// Sessions in Redis with a TTL, so dialog state survives a restart but abandoned dialogs expire.
//
// Not telegraf's session(): its in-process cache keeps a rejected store read forever, so after one
// Redis hiccup every later update of that user failed until restart (found by test/e2e/outage.test.ts).
// This one reads per update, saves only when the handler finished without error and the session
// changed, and holds ids and the dialog step only (authoritative data lives in PostgreSQL).

export interface SessionStore {
  /** Starts reading the update's session (undefined when it has no chat or user). */
  read(ctx: BotContext): Promise<string | null> | undefined;
  /** Runs `next` with `ctx.session` from what `read` returned, then saves it if it changed. */
  around(ctx: BotContext, read: Promise<string | null> | undefined, next: () => Promise<void>): Promise<void>;
}

export function redisSessions(
  redis: Redis,
  ttlSeconds: number,
  /** The installation's QUEUE_PREFIX: every Redis key of one installation shares it. */
  installation: string,
): SessionStore {
  const prefix = `${installation}:sess:`;
  const keyOf = (ctx: BotContext) =>
    ctx.from && ctx.chat ? `${prefix}${ctx.chat.id}:${ctx.from.id}` : undefined;
  return {
    read(ctx) {
      const key = keyOf(ctx);
      if (!key) return undefined;
      const p = redis.get(key);
      p.catch(() => {}); // awaited by around(), or dropped when the update failed before it
      return p;
    },
    async around(ctx, read, next) {
      const key = keyOf(ctx);
      if (!key || !read) return next();
      const raw = await read;
      ctx.session = raw ? (JSON.parse(raw) as Session) : {};
      await next();
      const after = JSON.stringify(ctx.session ?? {});
      if (after === (raw ?? '{}')) return;
      if (after === '{}') await redis.del(key);
      else await redis.set(key, after, 'EX', ttlSeconds);
    },
  };
}
