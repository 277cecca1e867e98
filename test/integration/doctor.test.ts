import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { I18n } from '../../src/adapters/i18n.ts';
import { loadConfig } from '../../src/config.ts';
import pg from 'pg';
import {
  CHECKS,
  type DoctorContext,
  healthCheck,
  redisCheck,
  satisfiesMinimum,
} from '../../src/doctor/checks.ts';
import { checkAtStart, failed, formatChecklist, runDoctor } from '../../src/doctor/run.ts';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort, REDIS_URL } from '../support/harness.ts';

// `npm run doctor` against the real PostgreSQL and Redis (and the emulator), and against wrong addresses:
// the checklist names each problem and its fix, and the exit code tells failure from success. Redis
// settings are tried on private redis-server processes (the shared one is never reconfigured).

let tdb: TestDatabase;
let emu: TestEmulator;
const servers: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  emu = await startTestEmulator();
});
afterAll(async () => {
  // Each redis-server writes its files on the way out: wait for it before removing its directory.
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.exitCode !== null || s.signalCode !== null) return resolve();
          s.once('exit', () => resolve());
          s.kill('SIGTERM');
        }),
    ),
  );
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await emu?.close();
  await tdb?.drop();
});

/** A private redis-server with the given settings; resolves to its URL once it answers. */
async function privateRedis(args: string[]): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'doctor-redis-'));
  dirs.push(dir);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args],
    {
      stdio: 'ignore',
    },
  );
  servers.push(child);
  const { Redis } = await import('ioredis');
  for (let i = 0; i < 50; i++) {
    const r = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null });
    r.on('error', () => undefined);
    const up = await r.connect().then(
      () => true,
      () => false,
    );
    r.disconnect();
    if (up) return `redis://127.0.0.1:${port}/0`;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('private redis-server did not start');
}

function doctor(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/doctor.ts', ...args], {
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    out += String(d);
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

const sandboxEnv = () => ({
  DATABASE_URL: tdb.url,
  REDIS_URL,
  EMULATOR_PORT: '0', // the emulator is started for the check on a free port
});

// One token for the file: the emulator refuses a second token for the same bot id.
const TOKEN = `424243:DOC${randomBytes(10).toString('hex')}`;
const productionEnv = () => ({
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_API_ROOT: emu.apiRoot,
  DATABASE_URL: tdb.url,
  REDIS_URL,
  DATA_KEY: randomBytes(32).toString('base64'),
  SMS_PROVIDER: 'log',
});

describe('npm run doctor', () => {
  it('passes against the real services (sandbox), printing the checklist in Chinese; exit 0', async () => {
    const { code, out } = await doctor(sandboxEnv());
    expect(out).toContain('warmth-bot 运行环境检查（沙盒模式');
    expect(out).toMatch(/✓ Node\.js 版本：v\d+/);
    expect(out).toMatch(/✓ PostgreSQL 数据库：已连接数据库 warmth_test_db_\w+，\d+ 个迁移均已应用/);
    expect(out).toContain('✓ 图表中文字体：Warmth Chart Sans');
    expect(out).toContain('✓ Telegram Bot API：本地模拟器可用');
    expect(out).toContain('共 0 项未通过');
    expect(code, out).toBe(0);
  });

  it('in English on request, and production mode checks the token with the Bot API', async () => {
    const { code, out } = await doctor(productionEnv(), ['--lang', 'en']);
    expect(out).toContain('warmth-bot prerequisites (production)');
    expect(out).toContain('✓ Telegram Bot API: the token works');
    expect(out).toContain('! SMS provider: SMS_PROVIDER=log');
    // The shared test Redis runs without persistence: a failure with a real token.
    expect(out).toMatch(/✗ Redis: persistence is off[^\n]*\n\s+Fix: Turn on AOF/);
    expect(code, out).toBe(1);
  });

  it('a wrong Redis or PostgreSQL address fails, naming the fix; exit 1', async () => {
    const port = await freePort(); // nothing listens there
    const redis = await doctor({ ...sandboxEnv(), REDIS_URL: `redis://127.0.0.1:${port}/0` });
    expect(redis.out).toMatch(
      new RegExp(
        `✗ Redis：无法连接 redis://127\\.0\\.0\\.1:${port}/0[^\\n]*\\n\\s+解决办法：确认 Redis 已启动且 REDIS_URL 正确`,
      ),
    );
    expect(redis.out).toContain('共 1 项未通过');
    expect(redis.code).toBe(1);

    const pgUrl = `postgresql://nobody@127.0.0.1:${port}/warmth`;
    const pg = await doctor({ ...sandboxEnv(), DATABASE_URL: pgUrl }, ['--lang', 'en']);
    expect(pg.out).toMatch(
      /✗ PostgreSQL: cannot connect to [^\n]*\n\s+Fix: Make sure PostgreSQL is running and DATABASE_URL is right/,
    );
    expect(pg.code).toBe(1);
  });

  it('an invalid configuration exits 2 with the problems listed', async () => {
    const { code, out } = await doctor({ ...sandboxEnv(), REDIS_URL: 'http://wrong' });
    expect(out).toContain('配置有误');
    expect(out).toContain('REDIS_URL: must be a URL starting with redis:// or rediss://');
    expect(code).toBe(2);
  });
});

describe('doctor checks', () => {
  const ctx = (env: Record<string, string>): DoctorContext => ({
    config: loadConfig(env),
    apiRoot: undefined,
    atStart: false,
    timeoutMs: 3000,
  });

  it('Redis: eviction and missing persistence warn in sandbox and fail in production; noeviction + AOF pass', async () => {
    const lru = await privateRedis(['--maxmemory-policy', 'allkeys-lru', '--save', '', '--appendonly', 'no']);
    const sandbox = await redisCheck.run(ctx({ ...sandboxEnv(), REDIS_URL: lru }));
    expect(sandbox).toMatchObject({
      status: 'warn',
      detail: { key: 'doctor.redis.eviction', params: { policy: 'allkeys-lru' } },
    });
    const production = await redisCheck.run(ctx({ ...productionEnv(), REDIS_URL: lru }));
    expect(production.status).toBe('fail');
    expect(production.fix?.key).toBe('doctor.redis.fix_eviction');

    const good = await privateRedis([
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--appendonly',
      'yes',
    ]);
    expect(await redisCheck.run(ctx({ ...productionEnv(), REDIS_URL: good }))).toMatchObject({
      status: 'ok',
      detail: { params: { policy: 'noeviction', persistence: 'AOF' } },
    });
  });

  it('at start: quiet, only problems, in the background; nothing printed when all pass', async () => {
    const printed: string[] = [];
    const i18n = new I18n('zh-CN');
    const good = await privateRedis(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes']);
    const results = await checkAtStart(
      {
        config: loadConfig({ ...productionEnv(), REDIS_URL: good, SMS_PROVIDER: 'log' }),
        apiRoot: emu.apiRoot,
        timeoutMs: 10_000, // the test machine is shared and busy; npm start uses 3 s
      },
      { i18n, role: 'bot', print: (t) => printed.push(t) },
    );
    expect(results.map((r) => r.name)).toEqual(CHECKS.map((c) => c.name));
    // Only the SMS warning (SMS_PROVIDER=log with a real token) is printed, with its fix.
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('短信通道');
    expect(printed[0]).not.toContain('✓');
    const quietOk = formatChecklist(
      results.filter((r) => r.status === 'ok'),
      i18n,
      'zh-CN',
      { quiet: true, sandbox: false },
    );
    expect(quietOk).toBe('');
    expect(failed(results), printed.join('')).toBe(false);
  });

  it('health: the figures of /metrics in words, a stuck notice fails naming the fix', async () => {
    // A generous time limit: this reads PostgreSQL and every queue on a machine that may be busy.
    const slow = (e: Record<string, string>) => ({ ...ctx(e), timeoutMs: 10_000 });
    const env = { ...sandboxEnv(), QUEUE_PREFIX: `doctor-${randomBytes(4).toString('hex')}` };
    expect(await healthCheck.run(slow(env))).toEqual({ status: 'ok', detail: { key: 'doctor.health.ok' } });
    expect((await healthCheck.run({ ...slow(env), atStart: true })).detail.key).toBe('doctor.health.skipped');
    // A database not created yet: "unknown", naming the cause (not Prisma's empty first line).
    const missing = await healthCheck.run(
      slow({ ...env, DATABASE_URL: tdb.url.replace(/\/[^/?]+(\?|$)/, '/warmth_doctor_missing$1') }),
    );
    expect(missing.detail).toEqual({
      key: 'doctor.health.unknown',
      params: { error: expect.stringMatching(/warmth_doctor_missing.*does not exist/) },
    });
    const client = new pg.Client({ connectionString: tdb.url });
    await client.connect();
    try {
      const p = await client.query<{ id: number }>(
        `INSERT INTO person (display_name) VALUES ('doctor test') RETURNING id`,
      );
      await client.query(
        `INSERT INTO notice (unique_key, kind, person_id, status, template) VALUES ($1, 'payment', $2, 'sending', 'x')`,
        [`doctor-${p.rows[0]!.id}`, p.rows[0]!.id],
      );
    } finally {
      await client.end();
    }
    const r = await healthCheck.run(slow(env));
    expect(r).toMatchObject({
      status: 'fail',
      detail: { key: 'doctor.health.notices_sending', params: { count: 1, more: 0 } },
      fix: { key: 'doctor.health.fix_notices_sending' },
    });
    const zh = new I18n().t('zh-CN', r.detail.key, r.detail.params);
    expect(zh).toBe('1 条通知停留在“发送中”状态');
  });

  it('a check that hangs is reported as failed after its time limit', async () => {
    const results = await runDoctor({ ...ctx(sandboxEnv()), timeoutMs: 50 }, [
      { name: 'slow', run: () => new Promise(() => undefined) },
    ]);
    expect(results).toEqual([
      { name: 'slow', status: 'fail', detail: { key: 'doctor.timeout', params: { seconds: 0 } } },
    ]);
  });

  it('reads the engines range the way package.json writes it', () => {
    expect(satisfiesMinimum('v20.19.0', '>=20.19')).toBe(true);
    expect(satisfiesMinimum('v20.20.2', '>=20.19')).toBe(true);
    expect(satisfiesMinimum('v22.1.0', '>=20.19')).toBe(true);
    expect(satisfiesMinimum('v20.18.9', '>=20.19')).toBe(false);
    expect(satisfiesMinimum('v18.20.0', '>=20.19')).toBe(false);
  });
});
