import type { Redis } from 'ioredis';

// Per-chat pacing for outbound messages (Telegram: about 1 message/s per chat), shared by every worker
// process: a token bucket in Redis, updated atomically by a Lua script. `take()` either consumes a token
// (returns 0) or returns how many milliseconds until one is available (nothing consumed).

const SCRIPT = `
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', key, 't', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', key, ttl)
return wait
`;

export interface ChatBucketOptions {
  /** Tokens per second per chat (default 1). */
  ratePerSec?: number;
  /** Bucket size (default 1: no bursts). */
  burst?: number;
  /** Redis key prefix. */
  prefix?: string;
}

export class ChatBucket {
  private readonly rate: number;
  private readonly burst: number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: ChatBucketOptions = {},
  ) {
    this.rate = opts.ratePerSec ?? 1;
    this.burst = opts.burst ?? 1;
    this.prefix = opts.prefix ?? 'warmth:chat-bucket';
    if (!(this.rate > 0) || !(this.burst >= 1)) throw new Error('ChatBucket: rate > 0 and burst >= 1 needed');
  }

  /** 0 = a token was taken, send now; otherwise milliseconds to wait (no token taken). */
  async take(chatId: number | string, now = Date.now()): Promise<number> {
    const ttl = Math.ceil((this.burst / this.rate) * 1000) + 1000;
    const wait = await this.redis.eval(
      SCRIPT,
      1,
      `${this.prefix}:${chatId}`,
      this.rate,
      this.burst,
      now,
      ttl,
    );
    return Number(wait);
  }
}
