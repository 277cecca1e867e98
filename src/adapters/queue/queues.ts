import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

// Queue names and connections. Job payloads carry ids only: never ID numbers, phones or bank cards
// (Redis stores job data in clear text).

export const QUEUE_NAMES = ['review', 'reminders', 'notifications', 'staff'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** ioredis for request-path use: fail fast during an outage instead of queueing commands forever. */
export function createRedis(url: string, extra: RedisOptions = {}): Redis {
  // commandTimeout: a command waiting for a dead connection fails after 2 s, so a chat handler answers
  // "temporarily unavailable" instead of hanging (and holding up the polling loop).
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    commandTimeout: 2_000,
    enableReadyCheck: true,
    ...extra,
  });
}

export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Options (not an instance) so BullMQ owns and closes the connection. Workers use blocking commands
 * that must wait for Redis to come back: BullMQ requires maxRetriesPerRequest null.
 */
export function workerConnection(url: string): ConnectionOptions {
  return { ...redisOptionsFromUrl(url), maxRetriesPerRequest: null, connectTimeout: 3_000 };
}

export class Queues {
  readonly byName: Record<QueueName, Queue>;
  private readonly connection: Redis;

  constructor(
    redisUrl: string,
    readonly prefix: string,
  ) {
    // Producers fail fast (no offline queue) so a user gets "temporarily unavailable" rather than a hang.
    this.connection = new Redis(redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 3_000,
    });
    this.connection.on('error', () => {}); // reported through failing calls; avoid unhandled 'error' events
    this.byName = Object.fromEntries(
      QUEUE_NAMES.map((n) => {
        const q = new Queue(n, { connection: this.connection, prefix });
        q.on('error', () => {}); // connection errors surface as failing calls; BullMQ reconnects
        return [n, q];
      }),
    ) as Record<QueueName, Queue>;
  }

  get(name: QueueName): Queue {
    return this.byName[name];
  }

  /** The producers' Redis connection, for small bookkeeping next to the jobs (keys under `prefix`). */
  get redis(): Redis {
    return this.connection;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.byName).map((q) => q.close()));
    this.connection.disconnect();
  }
}
