import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { chartFont } from '../adapters/files/chart-font.ts';
import { migrationNames } from '../adapters/db/tooling/migrations-dir.ts';
import { databaseName, redact } from '../adapters/db/tooling/pg.ts';
import { type Config, weakDataKey } from '../config.ts';
import { createDb } from '../adapters/db/client.ts';
import { Queues } from '../adapters/queue/queues.ts';
import { collectHealth, type HealthProblem, healthProblems } from '../usecases/health.ts';

// `npm run doctor` and the quiet check at `npm start`: one named check per prerequisite, each answering
// ok / warn / fail with a localized detail and, for a problem, the fix (keys under "doctor" in locales/).
// Sandbox mode (no token) downgrades what only matters for real people's data (Redis persistence, a
// pending migration `npm start` applies itself) to warnings; with a real token they fail.
// To add a check: write a `DoctorCheck` and put it in `CHECKS` (or pass your own list to `runDoctor`).

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** A localized text: a key under "doctor." and its parameters. */
export interface Text {
  key: string;
  params?: Record<string, string | number>;
}

export interface CheckResult {
  status: CheckStatus;
  detail: Text;
  /** What to do about a warn/fail. */
  fix?: Text;
}

export interface DoctorContext {
  config: Config;
  /** The Bot API root to ask (the emulator's in sandbox mode when it is running). */
  apiRoot: string | undefined;
  /** `npm start` (quiet): the process has just applied migrations and started the emulator itself. */
  atStart: boolean;
  /** Per-check network timeout. */
  timeoutMs: number;
}

export interface DoctorCheck {
  /** Stable id (also the locale key of its title: doctor.check.<name>). */
  name: string;
  run: (ctx: DoctorContext) => Promise<CheckResult>;
}

const ok = (key: string, params?: Text['params']): CheckResult => ({ status: 'ok', detail: { key, params } });
const problem = (
  status: 'warn' | 'fail',
  key: string,
  params: Text['params'],
  fixKey: string,
  fixParams?: Text['params'],
): CheckResult => ({ status, detail: { key, params }, fix: { key: fixKey, params: fixParams } });
/** Warn in sandbox mode, fail with a real token. */
const sandboxWarns = (ctx: DoctorContext): 'warn' | 'fail' => (ctx.config.sandbox ? 'warn' : 'fail');
/** One line for the checklist: the error's first line, or for Prisma (which starts "Invalid `…`
 * invocation" after an empty line and names the cause last) its last line. */
const message = (err: unknown) => {
  const lines = (err instanceof Error ? err.message : String(err))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines[0]?.startsWith('Invalid `') ? lines.at(-1) : lines[0]) ?? '';
};

const packageJson = join(import.meta.dirname, '..', '..', 'package.json');

/** `>=20.19` style ranges (the form package.json uses): true when `version` satisfies it. */
export function satisfiesMinimum(version: string, range: string): boolean {
  const want = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!want || !have) return false;
  const w = [Number(want[1]), Number(want[2] ?? 0), Number(want[3] ?? 0)];
  const h = [Number(have[1]), Number(have[2]), Number(have[3])];
  for (let i = 0; i < 3; i++) if (h[i] !== w[i]) return h[i]! > w[i]!;
  return true;
}

export const nodeCheck: DoctorCheck = {
  name: 'node',
  run: async () => {
    const range = (JSON.parse(readFileSync(packageJson, 'utf8')) as { engines: { node: string } }).engines
      .node;
    const version = process.version;
    return satisfiesMinimum(version, range)
      ? ok('doctor.node.ok', { version, range })
      : problem('fail', 'doctor.node.old', { version, range }, 'doctor.node.fix', { range });
  },
};

export const postgresCheck: DoctorCheck = {
  name: 'postgres',
  run: async (ctx) => {
    const url = redact(ctx.config.databaseUrl);
    const db = databaseName(ctx.config.databaseUrl);
    const client = new pg.Client({
      connectionString: ctx.config.databaseUrl,
      connectionTimeoutMillis: ctx.timeoutMs,
      query_timeout: ctx.timeoutMs,
    });
    try {
      await client.connect();
    } catch (err) {
      if ((err as { code?: string }).code === '3D000')
        return problem(
          sandboxWarns(ctx),
          'doctor.postgres.no_database',
          { db },
          'doctor.postgres.fix_migrate',
        );
      return problem(
        'fail',
        'doctor.postgres.unreachable',
        { url, error: message(err) },
        'doctor.postgres.fix',
      );
    }
    try {
      const table = await client.query<{ t: string | null }>(
        `select to_regclass('_prisma_migrations')::text as t`,
      );
      const applied = new Set<string>();
      if (table.rows[0]?.t) {
        const r = await client.query<{ migration_name: string }>(
          'select migration_name from _prisma_migrations where finished_at is not null and rolled_back_at is null',
        );
        for (const row of r.rows) applied.add(row.migration_name);
      }
      const pending = (await migrationNames()).filter((m) => !applied.has(m));
      if (pending.length > 0)
        return problem(
          sandboxWarns(ctx),
          'doctor.postgres.pending',
          { db, count: pending.length, first: pending[0]! },
          'doctor.postgres.fix_migrate',
        );
      return ok('doctor.postgres.ok', { db, count: applied.size });
    } catch (err) {
      return problem(
        'fail',
        'doctor.postgres.unreachable',
        { url, error: message(err) },
        'doctor.postgres.fix',
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};

export const redisCheck: DoctorCheck = {
  name: 'redis',
  run: async (ctx) => {
    const url = ctx.config.redisUrl.replace(/\/\/[^@/]*@/, '//***@');
    const redis = new Redis(ctx.config.redisUrl, {
      lazyConnect: true,
      connectTimeout: ctx.timeoutMs,
      commandTimeout: ctx.timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    redis.on('error', () => undefined); // reported below
    try {
      await redis.connect();
      const memory = await redis.info('memory');
      const persistence = await redis.info('persistence');
      const policy = /maxmemory_policy:(\S+)/.exec(memory)?.[1] ?? 'unknown';
      const aof = /aof_enabled:1/.test(persistence);
      // `save` is not in INFO; managed Redis may forbid CONFIG (then persistence counts as unknown).
      const save = await redis
        .config('GET', 'save')
        .then((r) => String((r as string[])[1] ?? ''))
        .catch(() => undefined);
      if (policy !== 'noeviction')
        return problem(sandboxWarns(ctx), 'doctor.redis.eviction', { policy }, 'doctor.redis.fix_eviction');
      if (!aof && save === '')
        return problem(sandboxWarns(ctx), 'doctor.redis.no_persistence', {}, 'doctor.redis.fix_persistence');
      if (!aof && save === undefined)
        return problem('warn', 'doctor.redis.persistence_unknown', {}, 'doctor.redis.fix_persistence');
      return ok('doctor.redis.ok', { policy, persistence: aof ? 'AOF' : `RDB (save ${save})` });
    } catch (err) {
      return problem('fail', 'doctor.redis.unreachable', { url, error: message(err) }, 'doctor.redis.fix');
    } finally {
      redis.disconnect();
    }
  },
};

export const chartFontCheck: DoctorCheck = {
  name: 'chart_font',
  run: async (ctx) => {
    const font = chartFont(ctx.config.chartFont);
    const configured = ctx.config.chartFont;
    if (configured && !font.fonts.some((f) => f.source === 'config'))
      return problem(
        'fail',
        'doctor.chart_font.configured_missing',
        { file: configured },
        'doctor.chart_font.fix',
      );
    const primary = font.fonts[0];
    if (!primary) return problem('warn', 'doctor.chart_font.none', {}, 'doctor.chart_font.fix');
    const fallback = font.fonts.find((f) => f !== primary && f.source === 'system');
    return ok(fallback ? 'doctor.chart_font.ok_fallback' : 'doctor.chart_font.ok', {
      family: primary.family,
      file: primary.file,
      fallback: fallback?.family ?? '',
    });
  },
};

async function botApi<T>(ctx: DoctorContext, apiRoot: string, method: string): Promise<T> {
  const res = await fetch(`${apiRoot}/bot${ctx.config.telegram.token}/${method}`, {
    signal: AbortSignal.timeout(ctx.timeoutMs),
  });
  const body = (await res.json()) as { ok: boolean; result?: T; description?: string };
  if (!body.ok)
    throw Object.assign(new Error(body.description ?? `HTTP ${res.status}`), { status: res.status });
  return body.result as T;
}

/**
 * The Bot API root to ask: the configured one, else (sandbox) the running emulator; when `npm run
 * doctor` runs alone the emulator is not running, so one is started for the check and closed after.
 */
async function withApiRoot<T>(ctx: DoctorContext, run: (apiRoot: string) => Promise<T>): Promise<T> {
  const root = ctx.apiRoot ?? ctx.config.telegram.apiRoot ?? `http://127.0.0.1:${ctx.config.emulatorPort}`;
  if (!ctx.config.sandbox || ctx.atStart) return run(root);
  try {
    return await run(root);
  } catch (err) {
    if ((err as { status?: number }).status !== undefined) throw err; // it answered: report that
    const { startEmulator } = await import('../emulator/index.ts');
    const emu = await startEmulator({ port: 0 });
    try {
      return await run(emu.apiRoot);
    } finally {
      await emu.close();
    }
  }
}

export const botApiCheck: DoctorCheck = {
  name: 'bot_api',
  run: async (ctx) => {
    try {
      const me = await withApiRoot(ctx, (root) => botApi<{ username: string }>(ctx, root, 'getMe'));
      return ok(ctx.config.sandbox ? 'doctor.bot_api.ok_emulator' : 'doctor.bot_api.ok', {
        username: me.username,
      });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401 || status === 404)
        return problem(
          'fail',
          'doctor.bot_api.bad_token',
          { error: message(err) },
          'doctor.bot_api.fix_token',
        );
      return problem(
        'fail',
        'doctor.bot_api.unreachable',
        { root: ctx.config.telegram.apiRoot ?? 'emulator', error: message(err) },
        ctx.config.sandbox ? 'doctor.bot_api.fix_emulator' : 'doctor.bot_api.fix_network',
      );
    }
  },
};

/** Telegram delivers webhooks only to HTTPS on these ports. */
const WEBHOOK_PORTS = new Set(['443', '80', '88', '8443']);

export const webhookCheck: DoctorCheck = {
  name: 'webhook',
  run: async (ctx) => {
    const t = ctx.config.telegram;
    if (t.mode === 'webhook') {
      const url = new URL(t.webhookUrl!);
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      if (!ctx.config.sandbox && (url.protocol !== 'https:' || !WEBHOOK_PORTS.has(port)))
        return problem('fail', 'doctor.webhook.bad_url', { url: url.toString() }, 'doctor.webhook.fix_url');
    }
    let info: { url: string; last_error_message?: string; pending_update_count?: number };
    try {
      info = await withApiRoot(ctx, (root) => botApi(ctx, root, 'getWebhookInfo'));
    } catch (err) {
      return problem('warn', 'doctor.webhook.unknown', { error: message(err) }, 'doctor.bot_api.fix_network');
    }
    if (t.mode === 'polling') {
      return info.url
        ? problem('warn', 'doctor.webhook.set_while_polling', { url: info.url }, 'doctor.webhook.fix_polling')
        : ok('doctor.webhook.ok_polling');
    }
    if (info.last_error_message)
      return problem(
        'warn',
        'doctor.webhook.last_error',
        { error: info.last_error_message, pending: info.pending_update_count ?? 0 },
        'doctor.webhook.fix_error',
      );
    return ok('doctor.webhook.ok', { url: t.webhookUrl! });
  },
};

export const dataKeyCheck: DoctorCheck = {
  name: 'data_key',
  run: async (ctx) => {
    for (const k of ctx.config.dataKeys) {
      const weak = weakDataKey(k.key);
      if (!weak) continue;
      // The sandbox's own key is public by design and never accepted with a real token (config.ts).
      if (ctx.config.sandbox && ctx.config.dataKeys.length === 1 && /published/.test(weak))
        return ok('doctor.data_key.sandbox');
      return problem(
        sandboxWarns(ctx),
        'doctor.data_key.weak',
        { version: k.version, why: weak },
        'doctor.data_key.fix',
      );
    }
    return ok('doctor.data_key.ok', { count: ctx.config.dataKeys.length });
  },
};

export const smsCheck: DoctorCheck = {
  name: 'sms',
  run: async (ctx) => {
    const sms = ctx.config.sms;
    if (sms.provider === 'log')
      return ctx.config.sandbox
        ? ok('doctor.sms.log_sandbox')
        : problem('warn', 'doctor.sms.log', {}, 'doctor.sms.fix_log');
    const url = sms.httpUrl!;
    try {
      // Any HTTP answer means the gateway is reachable; nothing is sent.
      await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(ctx.timeoutMs) });
      return ok('doctor.sms.ok', { host: new URL(url).host });
    } catch (err) {
      return problem(
        sandboxWarns(ctx),
        'doctor.sms.unreachable',
        { host: new URL(url).host, error: message(err) },
        'doctor.sms.fix',
      );
    }
  },
};

/** Problems that mean something is down (a failure); the rest is a backlog to act on (a warning). */
const DOWN: HealthProblem['kind'][] = [
  'queue_stalled',
  'reminders_late',
  'notices_sending',
  'notices_waiting',
];

/**
 * The installation's health in words: the same figures and thresholds as /metrics and the example
 * alert rules (usecases/health.ts, ops/alerts.yml). Skipped by the quiet check at start (the worker has
 * not caught up yet then). Shows the first problem and how many more there are.
 */
export const healthCheck: DoctorCheck = {
  name: 'health',
  run: async (ctx) => {
    if (ctx.atStart) return ok('doctor.health.skipped');
    const db = createDb(ctx.config.databaseUrl, { poolSize: 2 });
    const queues = new Queues(ctx.config.redisUrl, ctx.config.queuePrefix);
    // Unreachable PostgreSQL or Redis is reported by their own checks: here it only means "unknown",
    // within the time limit (BullMQ waits for Redis rather than failing).
    const within = <T>(ms: number, p: Promise<T>) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref(),
        ),
      ]);
    try {
      const problems = healthProblems(
        await within(ctx.timeoutMs * 2.5, collectHealth(db, queues, new Date())),
      );
      const first = problems[0];
      if (!first) return ok('doctor.health.ok');
      const { kind, ...params } = first;
      return problem(
        problems.some((p) => DOWN.includes(p.kind)) ? 'fail' : 'warn',
        `doctor.health.${kind}`,
        { ...params, more: problems.length - 1 },
        `doctor.health.fix_${kind}`,
      );
    } catch (err) {
      return problem('warn', 'doctor.health.unknown', { error: message(err) }, 'doctor.health.fix_unknown');
    } finally {
      await within(ctx.timeoutMs, Promise.allSettled([queues.close(), db.$disconnect()])).catch(
        () => undefined,
      );
    }
  },
};

/** Every check, in the order the checklist prints them. Extend by adding a DoctorCheck here. */
export const CHECKS: DoctorCheck[] = [
  nodeCheck,
  postgresCheck,
  redisCheck,
  chartFontCheck,
  botApiCheck,
  webhookCheck,
  dataKeyCheck,
  smsCheck,
  healthCheck,
];
