import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../logger.ts';

// Updates of one chat are handled one at a time, in update_id order; different chats run in parallel.
// Like grammY runner's `sequentialize`, an update waits for the previous update of the same key in this
// process (a promise chain, entered synchronously, so a getUpdates batch that telegraf runs at once keeps
// its order). Across processes (webhook behind a load balancer) Redis holds, per chat, a sorted set of
// the update ids waiting or running and a lock: an update runs when it is the lowest id waiting and holds
// the lock. Every wait is bounded: an update never waits more than `maxWaitMs` (then it runs anyway, with
// a log line), a lock whose process died expires, and a waiting id whose process died is dropped.

const ACQUIRE = `
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head and head ~= ARGV[1] then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'locked' end
  return 'head:' .. head
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 'ok' end
return 'locked'
`;

const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export interface ChatOrderOptions {
  prefix: string;
  /** Longest an update waits for its turn before it runs anyway. */
  maxWaitMs?: number;
  /** Lock lifetime (renewed while the update runs; bounds the wait after a crash). */
  lockTtlMs?: number;
  /** A lower waiting id that makes no progress for this long belonged to a dead process: dropped. */
  staleHeadMs?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ChatOrder {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly maxWaitMs: number;
  private readonly lockTtlMs: number;
  private readonly staleHeadMs: number;
  private readonly pollMs: number;
  private readonly instance = randomBytes(4).toString('hex');

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly opts: ChatOrderOptions,
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
    this.lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.staleHeadMs = opts.staleHeadMs ?? 3_000;
    this.pollMs = opts.pollMs ?? 20;
  }

  /**
   * Runs `work` after every earlier update of `key`. Must be called synchronously when the update
   * arrives (before any await), so updates handed over together keep their order in this process.
   */
  run(key: string, updateId: number, work: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key);
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    this.tails.set(key, mine);
    const queueKey = `${this.opts.prefix}:q:${key}`;
    const lockKey = `${this.opts.prefix}:lock:${key}`;
    const member = String(updateId).padStart(20, '0'); // equal scores sort by member: keep ids in order
    const announced = this.redis
      .multi()
      .zadd(queueKey, updateId, member)
      .pexpire(queueKey, this.maxWaitMs * 2 + this.lockTtlMs)
      .exec()
      .then(
        () => true,
        (err: unknown) => {
          this.logger.warn({ err }, 'chat order: Redis unavailable; ordering within this process only');
          return false;
        },
      );
    const started = Date.now();
    return (async () => {
      try {
        if (previous) {
          const inTime = await Promise.race([
            previous.then(() => true),
            sleep(this.maxWaitMs).then(() => false),
          ]);
          if (!inTime) this.late(key, updateId, 'previous update of this chat still running');
        }
        const token = `${this.instance}:${updateId}`;
        const locked = (await announced)
          ? await this.acquire(queueKey, lockKey, member, token, key, updateId, started)
          : false;
        const renew = locked
          ? setInterval(() => {
              this.redis.eval(RENEW, 1, lockKey, token, this.lockTtlMs).catch(() => {});
            }, this.lockTtlMs / 3)
          : undefined;
        try {
          this.metrics.observe(
            'warmth_update_order_wait_seconds',
            'Time an update waited for earlier updates of its chat',
            (Date.now() - started) / 1000,
          );
          await work();
        } finally {
          if (renew) clearInterval(renew);
          await this.redis.eval(RELEASE, 2, queueKey, lockKey, member, token).catch(() => {});
        }
      } finally {
        done();
        if (this.tails.get(key) === mine) this.tails.delete(key);
      }
    })();
  }

  private async acquire(
    queueKey: string,
    lockKey: string,
    member: string,
    token: string,
    key: string,
    updateId: number,
    started: number,
  ): Promise<boolean> {
    let head: string | undefined;
    let headSince = Date.now();
    for (;;) {
      let answer: string;
      try {
        answer = String(await this.redis.eval(ACQUIRE, 2, queueKey, lockKey, member, token, this.lockTtlMs));
      } catch (err) {
        this.logger.warn({ err }, 'chat order: Redis unavailable; ordering within this process only');
        return false;
      }
      if (answer === 'ok') return true;
      if (Date.now() - started > this.maxWaitMs) {
        this.late(key, updateId, 'earlier update in another process still running');
        return false;
      }
      if (answer.startsWith('head:')) {
        // A lower id is waiting but nobody holds the lock: it should take it within a poll or two.
        const h = answer.slice(5);
        if (h !== head) {
          head = h;
          headSince = Date.now();
        } else if (Date.now() - headSince > this.staleHeadMs) {
          await this.redis.zrem(queueKey, h).catch(() => {});
          this.logger.warn(
            { chatKey: key, staleUpdateId: Number(h) },
            'chat order: dropped a stale waiting update id',
          );
        }
      } else head = undefined;
      await sleep(this.pollMs);
    }
  }

  private late(key: string, updateId: number, why: string): void {
    this.metrics.inc(
      'warmth_update_order_timeouts_total',
      'Updates run before their turn after a bounded wait',
    );
    this.logger.warn(
      { chatKey: key, updateId, why },
      'chat order: waited too long; handling the update anyway',
    );
  }
}

/** The ordering key of an update: its chat, else its sender; undefined = no ordering needed. */
export function orderKeyOf(update: {
  message?: { chat: { id: number } };
  edited_message?: { chat: { id: number } };
  callback_query?: { from: { id: number }; message?: { chat: { id: number } } };
  my_chat_member?: { chat: { id: number } };
}): string | undefined {
  const id =
    update.message?.chat.id ??
    update.edited_message?.chat.id ??
    update.callback_query?.message?.chat.id ??
    update.callback_query?.from.id ??
    update.my_chat_member?.chat.id;
  return id === undefined ? undefined : String(id);
}
