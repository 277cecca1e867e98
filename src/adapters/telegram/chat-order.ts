import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../logger.ts';

// Updates of one chat are handled one at a time, in update_id order; different chats run in parallel.
// Like grammY runner's `sequentialize`, an update waits for the previous update of the same key in this
// process (a promise chain, entered synchronously, so a getUpdates batch that telegraf runs at once keeps
// its order). Across processes (webhook behind a load balancer) Redis holds, per chat, a sorted set of
// the update ids waiting or running and a lock: an update runs when it is the lowest id waiting and holds
// the lock. The same round trip that takes the turn reads whether the update was already handled (a
// webhook redelivery, a retried getUpdates), and the one that gives the turn back records it as handled.
// Every wait is bounded: an update never waits more than `maxWaitMs` (then it runs anyway, with
// a log line), a lock whose process died expires, and a waiting id whose process died is dropped.

// KEYS: queue, lock, done. ARGV: member, token, lock ttl, score, queue ttl ('' = already announced).
// Announces the update (when not yet), then takes the chat's turn when it is the lowest id waiting;
// with the turn it reports whether the update was already handled (the done key), so the first update
// of a chat costs one round trip for ordering and de-duplication together.
const ACQUIRE = `
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head and head ~= ARGV[1] then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'locked' end
  return 'head:' .. head
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  if redis.call('EXISTS', KEYS[3]) == 1 then return 'done' end
  return 'ok'
end
return 'locked'
`;

// KEYS: queue, lock, done. ARGV: member, token, done ttl in seconds ('' = not handled: keep no mark).
const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], '1', 'EX', ARGV[3]) end
return 1
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Where an update is recorded as handled, so a repeated delivery is dropped. */
export interface OnceKey {
  doneKey: string;
  ttlSeconds: number;
}

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
   * Runs `work` once per update id, after every earlier update of `key` (undefined: no ordering). Must be
   * called synchronously when the update arrives (before any await), so updates handed over together keep
   * their order in this process. `work` resolves true when the update was handled (it is then recorded
   * under `once.doneKey` and a repeated delivery is dropped), false when a later delivery should handle it
   * again (a dependency was unavailable).
   *
   * `handled` settles as soon as `work` did (the poller may acknowledge the update and ask for the next
   * one while the turn is given back); `finished` once the turn was given back and the update recorded as
   * handled (it never rejects). The chat's next update in this process waits for `finished`.
   */
  run(
    key: string | undefined,
    updateId: number,
    once: OnceKey,
    work: () => Promise<boolean>,
  ): { handled: Promise<'handled' | 'duplicate'>; finished: Promise<void> } {
    if (key === undefined) return this.unordered(once, work);
    const previous = this.tails.get(key);
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    this.tails.set(key, mine);
    const queueKey = `${this.opts.prefix}:q:${key}`;
    const lockKey = `${this.opts.prefix}:lock:${key}`;
    const member = String(updateId).padStart(20, '0'); // equal scores sort by member: keep ids in order
    const queueTtl = this.maxWaitMs * 2 + this.lockTtlMs;
    // An earlier update of this chat still runs here: announce this one now, so other processes see it
    // waiting. Otherwise the first attempt to take the turn announces it in the same round trip.
    const announced = previous
      ? this.redis
          .multi()
          .zadd(queueKey, updateId, member)
          .pexpire(queueKey, queueTtl)
          .exec()
          .then(
            () => true,
            (err: unknown) => {
              this.logger.warn({ err }, 'chat order: Redis unavailable; ordering within this process only');
              return false;
            },
          )
      : undefined;
    const started = Date.now();
    let handed!: (r: 'handled' | 'duplicate') => void;
    let failed!: (err: unknown) => void;
    const handled = new Promise<'handled' | 'duplicate'>((resolve, reject) => {
      handed = resolve;
      failed = reject;
    });
    const finished = (async () => {
      try {
        if (previous) {
          const inTime = await Promise.race([
            previous.then(() => true),
            sleep(this.maxWaitMs).then(() => false),
          ]);
          if (!inTime) this.late(key, updateId, 'previous update of this chat still running');
        }
        const token = `${this.instance}:${updateId}`;
        const keys = { queueKey, lockKey, doneKey: once.doneKey };
        const turn =
          announced && !(await announced)
            ? 'unordered'
            : await this.acquire(
                keys,
                member,
                token,
                announced ? '' : String(queueTtl),
                key,
                updateId,
                started,
              );
        if (turn === 'unordered') {
          const u = this.unordered(once, work);
          u.handled.then(handed, failed);
          return await u.finished;
        }
        const renew = setInterval(() => {
          this.redis.eval(RENEW, 1, lockKey, token, this.lockTtlMs).catch(() => {});
        }, this.lockTtlMs / 3);
        let isHandled = false;
        try {
          this.metrics.observe(
            'warmth_update_order_wait_seconds',
            'Time an update waited for earlier updates of its chat',
            (Date.now() - started) / 1000,
          );
          if (turn === 'ok') isHandled = await work();
          handed(turn === 'done' ? 'duplicate' : 'handled');
        } catch (err) {
          failed(err);
        } finally {
          clearInterval(renew);
          await this.redis
            .eval(
              RELEASE,
              3,
              queueKey,
              lockKey,
              once.doneKey,
              member,
              token,
              isHandled ? once.ttlSeconds : '',
            )
            .catch((err: unknown) => this.logger.warn({ err }, 'could not record the update as handled'));
        }
      } catch (err) {
        failed(err);
      } finally {
        done();
        if (this.tails.get(key) === mine) this.tails.delete(key);
      }
    })();
    return { handled, finished };
  }

  /** Without the chat's turn (no chat, or Redis unavailable): the once-only check on its own. */
  private unordered(
    once: OnceKey,
    work: () => Promise<boolean>,
  ): { handled: Promise<'handled' | 'duplicate'>; finished: Promise<void> } {
    const handled = (async () => {
      const seen = await this.redis.exists(once.doneKey).catch((err: unknown) => {
        this.logger.warn({ err }, 'update de-duplication unavailable; handling the update anyway');
        return 0;
      });
      if (seen) return { outcome: 'duplicate' as const, record: false };
      return { outcome: 'handled' as const, record: await work() };
    })();
    const finished = handled.then(
      async ({ record }) => {
        if (record)
          await this.redis
            .set(once.doneKey, '1', 'EX', once.ttlSeconds)
            .catch((err: unknown) => this.logger.warn({ err }, 'could not record the update as handled'));
      },
      () => undefined,
    );
    return { handled: handled.then((h) => h.outcome), finished };
  }

  /** Waits for the chat's turn: 'ok', 'done' (already handled; the turn is held and must be released). */
  private async acquire(
    k: { queueKey: string; lockKey: string; doneKey: string },
    member: string,
    token: string,
    announce: string,
    key: string,
    updateId: number,
    started: number,
  ): Promise<'ok' | 'done' | 'unordered'> {
    let head: string | undefined;
    let headSince = Date.now();
    for (let first = true; ; first = false) {
      let answer: string;
      try {
        answer = String(
          await this.redis.eval(
            ACQUIRE,
            3,
            k.queueKey,
            k.lockKey,
            k.doneKey,
            member,
            token,
            this.lockTtlMs,
            updateId,
            first ? announce : '',
          ),
        );
      } catch (err) {
        this.logger.warn({ err }, 'chat order: Redis unavailable; ordering within this process only');
        // Announced by the first attempt but never taken: not left waiting for the stale-head timeout.
        if (!first || announce === '') await this.redis.zrem(k.queueKey, member).catch(() => {});
        return 'unordered';
      }
      if (answer === 'ok' || answer === 'done') return answer;
      if (Date.now() - started > this.maxWaitMs) {
        this.late(key, updateId, 'earlier update in another process still running');
        await this.redis.zrem(k.queueKey, member).catch(() => {});
        return 'unordered';
      }
      if (answer.startsWith('head:')) {
        // A lower id is waiting but nobody holds the lock: it should take it within a poll or two.
        const h = answer.slice(5);
        if (h !== head) {
          head = h;
          headSince = Date.now();
        } else if (Date.now() - headSince > this.staleHeadMs) {
          await this.redis.zrem(k.queueKey, h).catch(() => {});
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
