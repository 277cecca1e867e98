import type { Redis } from 'ioredis';
import type { Session } from './context.ts';

/**
 * telegraf session store on Redis with a TTL, so dialog state survives a restart but abandoned dialogs
 * do not pile up. (The published Redis store uses another client and never expires keys.)
 */
export function redisSessionStore(redis: Redis, ttlSeconds: number, prefix = 'warmth:sess:') {
  return {
    async get(key: string): Promise<Session | undefined> {
      const raw = await redis.get(prefix + key);
      return raw ? (JSON.parse(raw) as Session) : undefined;
    },
    async set(key: string, value: Session): Promise<void> {
      if (!value || Object.keys(value).length === 0) await redis.del(prefix + key);
      else await redis.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
    },
    async delete(key: string): Promise<void> {
      await redis.del(prefix + key);
    },
  };
}
