import type { Redis } from 'ioredis';

// Every Bot API send shares two limits across all processes: a token bucket per chat (about 1/s with a
// short burst) and one global schedule for the bot (about 30/s). One Lua call checks the chat's bucket
// (not taken: the caller waits and asks again) and, when the chat may send, RESERVES the next global
// slot (GCRA: a theoretical arrival time advanced by 1/rate per send), so callers are served first come,
// first served and the global rate is used to the full. The chat's token is charged as of the reserved
// slot, so a send that waits for its global slot does not let the chat's next send come too soon.
const SLOT_SCRIPT = `
local chatKey = KEYS[1]
local globalKey = KEYS[2]
local chatRate = tonumber(ARGV[1])
local chatBurst = tonumber(ARGV[2])
local globalInterval = tonumber(ARGV[3])
local globalTolerance = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local maxWait = tonumber(ARGV[6])
local tokens = chatBurst
local ts = now
if chatRate > 0 then
  local state = redis.call('HMGET', chatKey, 't', 'ts')
  if state[1] and state[2] then
    tokens = tonumber(state[1])
    ts = tonumber(state[2])
  end
  if now > ts then
    tokens = math.min(chatBurst, tokens + (now - ts) * chatRate / 1000)
    ts = now
  end
  if tokens < 1 then
    return {1, math.ceil((1 - tokens) * 1000 / chatRate + math.max(0, ts - now))}
  end
end
local wait = 0
local tat = now
if globalInterval > 0 then
  tat = tonumber(redis.call('GET', globalKey) or '0')
  if tat < now then tat = now end
  wait = math.max(0, tat - globalTolerance - now)
  if wait > maxWait then return {2, math.ceil(wait)} end
  redis.call('SET', globalKey, tostring(tat + globalInterval), 'PX', math.ceil(tat + globalInterval - now + 1000))
end
if chatRate > 0 then
  redis.call('HSET', chatKey, 't', tostring(tokens - 1), 'ts', tostring(math.max(ts, now + wait)))
  redis.call('PEXPIRE', chatKey, math.ceil(chatBurst * 1000 / chatRate + wait + 1000))
end
return {0, math.ceil(wait)}
`;

export interface SendSlotOptions {
  /** Sends per second per chat (0 = no per-chat limit). */
  chatPerSec: number;
  /** Sends a chat may make at once before the per-second pace applies. */
  chatBurst: number;
  /** Sends per second for the whole bot, shared by every process (0 = no global limit). */
  globalPerSec: number;
  /** Sends the bot may make at once before the global pace applies. */
  globalBurst: number;
  prefix: string;
}

export type SlotAnswer =
  /** Send after `waitMs` (the slot is reserved). */
  | { kind: 'reserved'; waitMs: number }
  /** The chat used its budget: ask again after `waitMs` (nothing reserved). */
  | { kind: 'chat_busy'; waitMs: number }
  /** The next global slot is more than `maxWaitMs` away (nothing reserved). */
  | { kind: 'too_far'; waitMs: number };

export class SendSlots {
  constructor(
    private readonly redis: Redis,
    readonly opts: SendSlotOptions,
  ) {}

  get enabled(): boolean {
    return this.opts.chatPerSec > 0 || this.opts.globalPerSec > 0;
  }

  async take(chatId: number | string, maxWaitMs: number, now = Date.now()): Promise<SlotAnswer> {
    const o = this.opts;
    const interval = o.globalPerSec > 0 ? 1000 / o.globalPerSec : 0;
    const [code, ms] = (await this.redis.eval(
      SLOT_SCRIPT,
      2,
      `${o.prefix}:chat:${chatId}`,
      `${o.prefix}:global`,
      o.chatPerSec,
      Math.max(1, o.chatBurst),
      interval,
      interval * Math.max(0, o.globalBurst - 1),
      now,
      maxWaitMs,
    )) as [number, number];
    const waitMs = Number(ms);
    return code === 0
      ? { kind: 'reserved', waitMs }
      : code === 1
        ? { kind: 'chat_busy', waitMs }
        : { kind: 'too_far', waitMs };
  }
}
