import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

// Queue names and connections. Job payloads carry ids only: never ID numbers, phones or bank cards
// (Redis stores job data in clear text).

export const QUEUE_NAMES = ['review', 'reminders', 'notifications', 'staff'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Finished jobs kept per queue, for inspection only: a bound independent of the campaign's size. No job
 * relies on a finished record for de-duplication: its fixed job id de-duplicates while it waits, and a
 * claim (a Reminder or Notice row in PostgreSQL, the campaign's review hash) once it has run.
 */
export const BOUNDED_RETENTION = {
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000, age: 30 * 86_400 },
} as const;

/**
 * The installation's key prefix as a Redis Cluster hash tag (`warmth` → `{warmth}`). BullMQ's Lua scripts
 * touch several keys of a queue at once, which Redis Cluster allows only within one hash slot; with the
 * tag every key of the installation (queues, send slots, chat order, sessions, review sets) hashes to the
 * same slot, so the same keys work on one Redis and on a cluster. A prefix that already has a tag is kept.
 */
export function clusterSafePrefix(prefix: string): string {
  return /^\{[^{}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

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
  /** Every Redis key of the installation starts with this (the configured prefix as a hash tag). */
  readonly prefix: string;

  constructor(redisUrl: string, prefix: string) {
    this.prefix = clusterSafePrefix(prefix);
    // Producers fail fast (no offline queue) so a user gets "temporarily unavailable" rather than a hang.
    this.connection = new Redis(redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 3_000,
    });
    this.connection.on('error', () => {}); // reported through failing calls; avoid unhandled 'error' events
    this.byName = Object.fromEntries(
      QUEUE_NAMES.map((n) => {
        const q = new Queue(n, { connection: this.connection, prefix: this.prefix });
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
