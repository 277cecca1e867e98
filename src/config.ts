import { z } from 'zod';

// The only reader of process.env. Everything else receives a parsed, typed Config.
//
// Sandbox mode (no TELEGRAM_BOT_TOKEN): the bot talks to the project's own Bot API emulator, and
// DATABASE_URL, REDIS_URL and DATA_KEY get local defaults so a newcomer can run `npm start` on a fresh
// machine. With a real token every one of them must be given explicitly.

export const SANDBOX_TOKEN = '100000001:sandbox-token-not-for-telegram';
const SANDBOX_DATA_KEY = Buffer.alloc(32, 7).toString('base64'); // fixed, public: sandbox data only

/** Keys published somewhere (this file, docs, examples): never accepted outside sandbox mode. */
const KNOWN_KEYS = new Set([SANDBOX_DATA_KEY, Buffer.alloc(32, 0).toString('base64')]);

/**
 * A key that is public or plainly not random: a known key, one with few distinct bytes (all zeros, a
 * repeated pattern) or one that is all printable ASCII (a passphrase). 32 random bytes have about 30
 * distinct values and are all printable with a probability of about 1e-14.
 */
export function weakDataKey(key: Buffer): string | undefined {
  if (KNOWN_KEYS.has(key.toString('base64'))) return 'is a published key (sandbox or example)';
  const text = key.every((b) => b >= 0x20 && b <= 0x7e);
  if (new Set(key).size < 20 || text) return 'is not random: use `openssl rand -base64 32`';
  return undefined;
}
const TELEGRAM_API_ROOT = 'https://api.telegram.org';

const telegramIdList = z
  .string()
  .trim()
  .transform((s, ctx) => {
    if (s === '') return [] as bigint[];
    const ids: bigint[] = [];
    for (const part of s.split(',')) {
      const p = part.trim();
      if (!/^\d{1,20}$/.test(p)) {
        ctx.addIssue({ code: 'custom', message: `"${p}" is not a Telegram user id (digits only)` });
        return z.NEVER;
      }
      ids.push(BigInt(p));
    }
    return ids;
  });

/** DATA_KEY: "<base64 32 bytes>" (key version 1) or "<v>:<base64>,<v>:<base64>,..." (first = current). */
const dataKeys = z.string().transform((s, ctx) => {
  const keys: { version: number; key: Buffer }[] = [];
  const parts = s.split(',').map((p) => p.trim());
  for (const part of parts) {
    const m = /^(?:(\d{1,4}):)?([A-Za-z0-9+/=_-]+)$/.exec(part);
    const key = m ? Buffer.from(m[2]!, 'base64') : undefined;
    if (!m || !key || key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`), or a list "2:<key>,1:<key>"',
      });
      return z.NEVER;
    }
    keys.push({ version: m[1] ? Number(m[1]) : 1, key });
  }
  if (new Set(keys.map((k) => k.version)).size !== keys.length) {
    ctx.addIssue({ code: 'custom', message: 'key versions must be unique' });
    return z.NEVER;
  }
  return keys;
});

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

const envSchema = z
  .object({
    TELEGRAM_BOT_TOKEN: z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]{10,}$/, 'must look like 123456789:AA... (from @BotFather)')
      .optional(),
    TELEGRAM_API_ROOT: url(['http:', 'https:']).optional(),
    BOT_MODE: z.enum(['polling', 'webhook']).default('polling'),
    WEBHOOK_URL: url(['https:', 'http:']).optional(),
    WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, '16-256 characters of A-Z a-z 0-9 _ -')
      .optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Bearer token for /metrics; without it, /metrics is served only in sandbox mode. */
    METRICS_TOKEN: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, '16-256 characters of A-Z a-z 0-9 _ -')
      .optional(),
    DATABASE_URL: url(['postgresql:', 'postgres:']).optional(),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    DATA_KEY: dataKeys.optional(),
    DEFAULT_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
    TZ: z.string().default('Asia/Shanghai'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BOOTSTRAP_ADMIN_IDS: telegramIdList.default([]),
    EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(5),
    /** Staff jobs (exports, batch creation, batch paid, bulk approval, import submit) at once, all workers together. */
    STAFF_JOBS_CONCURRENCY: z.coerce.number().int().min(1).max(20).default(2),
    /** Largest export file sent in one piece (MB); bigger exports are split into parts (Telegram: 50 MB). */
    EXPORT_PART_MB: z.coerce.number().min(0.01).max(49).default(45),
    INVITE_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(14),
    NOTIFY_RATE_PER_SEC: z.coerce.number().int().min(1).max(30).default(25),
    SEND_RATE_PER_SEC: z.coerce.number().min(0).max(1000).default(30),
    SEND_CHAT_RATE_PER_SEC: z.coerce.number().min(0).max(100).default(1),
    SEND_CHAT_BURST: z.coerce.number().int().min(1).max(100).default(3),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, '1-40 characters of A-Z a-z 0-9 _ -')
      .default('warmth'),
    /** Sandbox default `log`; production must choose (a `log` SMS is never delivered). */
    SMS_PROVIDER: z.enum(['log', 'http']).optional(),
    SMS_HTTP_URL: url(['http:', 'https:']).optional(),
    SMS_HTTP_TEMPLATE: z.string().optional(),
    SMS_HTTP_TOKEN: z.string().optional(),
    /** Font file for the report chart's words (default: the font in assets/fonts, then fontconfig's). */
    CHART_FONT: z.string().optional(),
    /** Version of the DATA_KEY entry the look-up hashes and button MACs derive from (default: oldest). */
    DATA_HASH_KEY_VERSION: z.coerce.number().int().min(0).max(9999).optional(),
  })
  .superRefine((env, ctx) => {
    const production = env.TELEGRAM_BOT_TOKEN !== undefined;
    if (env.BOT_MODE === 'webhook') {
      if (!env.WEBHOOK_URL)
        ctx.addIssue({ code: 'custom', path: ['WEBHOOK_URL'], message: 'required when BOT_MODE=webhook' });
      if (!env.WEBHOOK_SECRET)
        ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'required when BOT_MODE=webhook' });
    }
    if (env.SMS_PROVIDER === 'http' && !env.SMS_HTTP_URL)
      ctx.addIssue({ code: 'custom', path: ['SMS_HTTP_URL'], message: 'required when SMS_PROVIDER=http' });
    if (production) {
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'DATA_KEY', 'SMS_PROVIDER'] as const) {
        if (env[key] === undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: 'required when TELEGRAM_BOT_TOKEN is set' });
      }
      for (const k of env.DATA_KEY ?? []) {
        const weak = weakDataKey(k.key);
        if (weak)
          ctx.addIssue({ code: 'custom', path: ['DATA_KEY'], message: `key version ${k.version} ${weak}` });
      }
    }
    if (
      env.DATA_HASH_KEY_VERSION !== undefined &&
      !(env.DATA_KEY ?? [{ version: 1 }]).some((k) => k.version === env.DATA_HASH_KEY_VERSION)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['DATA_HASH_KEY_VERSION'],
        message: 'must be the version of one of the DATA_KEY entries',
      });
  });

export interface Config {
  sandbox: boolean;
  telegram: {
    token: string;
    apiRoot: string | undefined;
    mode: 'polling' | 'webhook';
    webhookUrl?: string;
    webhookSecret?: string;
  };
  port: number;
  /** /metrics needs `Authorization: Bearer <token>`; unset: open in sandbox mode, off otherwise. */
  metricsToken: string | undefined;
  databaseUrl: string;
  redisUrl: string;
  dataKeys: { version: number; key: Buffer }[];
  /** Key version of the look-up hashes and MACs (undefined: the oldest key). See `npm run keys`. */
  hashKeyVersion: number | undefined;
  defaultLocale: 'zh-CN' | 'en';
  timeZone: string;
  logLevel: string;
  bootstrapAdminIds: bigint[];
  emulatorPort: number;
  workerConcurrency: number;
  /** Staff jobs: how many run at once across all workers; export part size in bytes. */
  staffJobs: { concurrency: number; partBytes: number };
  inviteTtlDays: number;
  /** Global send rate of the notifications worker (Telegram allows about 30/s). */
  notifyRatePerSec: number;
  /**
   * Outbound pacing shared by every process (0 = off, e.g. against a Bot API server without limits):
   * sends per second for the whole bot, per chat, and a chat's burst.
   */
  sendLimits: { globalPerSec: number; chatPerSec: number; chatBurst: number };
  /** Redis key prefix of the BullMQ queues. */
  queuePrefix: string;
  sms: { provider: 'log' | 'http'; httpUrl?: string; httpTemplate?: string; httpToken?: string };
  /** CHART_FONT: a font file for the chart (see src/adapters/files/chart-font.ts for the order). */
  chartFont: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example.`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Treat empty strings as "not set", as shells and .env files commonly produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const sandbox = e.TELEGRAM_BOT_TOKEN === undefined;
  return {
    sandbox,
    telegram: {
      token: e.TELEGRAM_BOT_TOKEN ?? SANDBOX_TOKEN,
      apiRoot: e.TELEGRAM_API_ROOT ?? (sandbox ? undefined : TELEGRAM_API_ROOT),
      mode: e.BOT_MODE,
      ...(e.WEBHOOK_URL ? { webhookUrl: e.WEBHOOK_URL } : {}),
      ...(e.WEBHOOK_SECRET ? { webhookSecret: e.WEBHOOK_SECRET } : {}),
    },
    port: e.PORT,
    metricsToken: e.METRICS_TOKEN,
    databaseUrl:
      e.DATABASE_URL ??
      `postgresql://${encodeURIComponent(env['USER'] || env['LOGNAME'] || 'postgres')}@127.0.0.1:5432/warmth_sandbox`,
    redisUrl: e.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    dataKeys: e.DATA_KEY ?? [{ version: 1, key: Buffer.from(SANDBOX_DATA_KEY, 'base64') }],
    hashKeyVersion: e.DATA_HASH_KEY_VERSION,
    defaultLocale: e.DEFAULT_LOCALE,
    timeZone: e.TZ,
    logLevel: e.LOG_LEVEL,
    bootstrapAdminIds: e.BOOTSTRAP_ADMIN_IDS,
    emulatorPort: e.EMULATOR_PORT,
    workerConcurrency: e.WORKER_CONCURRENCY,
    staffJobs: {
      concurrency: e.STAFF_JOBS_CONCURRENCY,
      partBytes: Math.round(e.EXPORT_PART_MB * 1024 * 1024),
    },
    inviteTtlDays: e.INVITE_TTL_DAYS,
    notifyRatePerSec: e.NOTIFY_RATE_PER_SEC,
    sendLimits: {
      globalPerSec: e.SEND_RATE_PER_SEC,
      chatPerSec: e.SEND_CHAT_RATE_PER_SEC,
      chatBurst: e.SEND_CHAT_BURST,
    },
    queuePrefix: e.QUEUE_PREFIX,
    sms: {
      provider: e.SMS_PROVIDER ?? 'log',
      ...(e.SMS_HTTP_URL ? { httpUrl: e.SMS_HTTP_URL } : {}),
      ...(e.SMS_HTTP_TEMPLATE ? { httpTemplate: e.SMS_HTTP_TEMPLATE } : {}),
      ...(e.SMS_HTTP_TOKEN ? { httpToken: e.SMS_HTTP_TOKEN } : {}),
    },
    chartFont: e.CHART_FONT,
  };
}
