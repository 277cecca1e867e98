import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/adapters/logger.ts';
import { type AppOptions, startApp } from '../src/app.ts';
import { type Limits, startEmulator } from '../src/emulator/index.ts';
import { FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';

// Shared by the benchmarks: the real app (bot + worker) on a fresh database against an in-process
// emulator, percentile summaries, and writing bench/results/<name>.json.

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (ms) a process has used so far (/proc: utime + stime, 10 ms ticks). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** n, median, p95, p99 and max of a list of milliseconds (rounded to 0.1 ms). */
export function summarize(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    n: s.length,
    medianMs: r(percentile(s, 50)),
    p95Ms: r(percentile(s, 95)),
    p99Ms: r(percentile(s, 99)),
    maxMs: r(s.at(-1) ?? Number.NaN),
  };
}

/**
 * Emulator + fresh DB + app. Rate limits off unless `limits` are given (then the app paces its sends
 * to the same limits): most figures measure this system, not Telegram's cap.
 */
export async function startBenchApp(
  opts: {
    workerConcurrency?: number;
    limits?: Limits;
    /**
     * 'bot+worker process': the bot here and the worker in a process of its own (`main.ts worker`), as
     * docker-compose deploys them, so the worker's jobs do not share the bot's event loop.
     */
    role?: 'bot' | 'all' | 'bot+worker process';
    /** Told after each update which SQL statements it sent (bot.ts). */
    onUpdateQueries?: AppOptions['onUpdateQueries'];
  } = {},
) {
  const { emu, tdb, prefix, token, env } = await benchSetting(opts);
  const separate = opts.role === 'bot+worker process';
  const app = await startApp({
    config: loadConfig(env),
    role: opts.role === 'bot+worker process' ? 'bot' : (opts.role ?? 'all'),
    apiRoot: emu.apiRoot,
    logger: createLogger({ level: 'warn' }),
    queuePrefix: prefix,
    ...(opts.onUpdateQueries ? { onUpdateQueries: opts.onUpdateQueries } : {}),
  });
  const worker = separate ? await startRoleProcess({ ...env, QUEUE_PREFIX: prefix }, 'worker') : undefined;
  if (worker) {
    const stopBot = app.stop;
    app.stop = async () => {
      await worker.stop();
      await stopBot();
    };
  }
  return {
    emu,
    tdb,
    app,
    prefix,
    token,
    /** The bot runs in this process. */
    botPid: undefined as number | undefined,
  };
}

/** Emulator, fresh database and the app's environment for them (see startBenchApp). */
async function benchSetting(opts: { workerConcurrency?: number; limits?: Limits }) {
  const limits = opts.limits ?? { perChatPerSecond: 0, perChatBurst: 1, globalPerSecond: 0 };
  const emu = await startEmulator({ port: 0, limits });
  const tdb = await createTestDatabase();
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const token = `${700000 + Math.floor(Math.random() * 99999)}:BENCH${randomBytes(12).toString('hex')}`;
  const env: Record<string, string> = {
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: tdb.url,
    REDIS_URL,
    DATA_KEY: randomBytes(32).toString('base64'),
    SMS_PROVIDER: 'log',
    LOG_LEVEL: 'warn',
    PORT: '0',
    ...(opts.workerConcurrency ? { WORKER_CONCURRENCY: String(opts.workerConcurrency) } : {}),
    SEND_RATE_PER_SEC: String(limits.globalPerSecond),
    SEND_CHAT_RATE_PER_SEC: String(limits.perChatPerSecond),
    SEND_CHAT_BURST: String(Math.max(1, limits.perChatBurst)),
  };
  return { emu, tdb, prefix, token, env };
}

/**
 * Emulator + fresh DB, and the bot and the worker each in a process of its own (`main.ts bot|worker`,
 * as deployed), so that neither the emulator nor the simulated users (this process) share the bot's
 * event loop, as Telegram's servers do not. `app` is a database client and the bot's key for seeding;
 * `botPid` is the bot's process (for its CPU time).
 */
export async function startBenchProcesses(opts: { workerConcurrency?: number; limits?: Limits } = {}) {
  const { emu, tdb, prefix, token, env } = await benchSetting(opts);
  const envWithPrefix = { ...env, QUEUE_PREFIX: prefix };
  const worker = await startRoleProcess(envWithPrefix, 'worker');
  const bot = await startRoleProcess(envWithPrefix, 'bot').catch(async (err: unknown) => {
    await worker.stop();
    throw err;
  });
  const db = createPrisma(tdb.url);
  const cipher = new FieldCipher([{ version: 1, key: Buffer.from(env['DATA_KEY']!, 'base64') }]);
  const app = {
    db,
    cipher,
    stop: async () => {
      await bot.stop();
      await worker.stop();
      await db.$disconnect();
    },
  };
  return { emu, tdb, app, prefix, token, botPid: bot.pid };
}

/** `main.ts worker` (or `bot`) in a process of its own; resolves once it logged that it started. */
async function startRoleProcess(env: Record<string, string>, role: 'worker' | 'bot') {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // BENCH_WORKER_CPU_PROF=<dir>: the worker writes a CPU profile there when it stops (the bench process
  // itself is profiled with `node --cpu-prof --import tsx bench/<name>.bench.ts`).
  const profDir = process.env['BENCH_WORKER_CPU_PROF'];
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'src/main.ts', role], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = new Promise<void>((resolve, reject) => {
    const look = (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
      if (out.includes('warmth-bot started')) resolve();
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}:\n${out}`)));
  });
  await started;
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

export function writeResult(name: string, result: unknown): string {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
