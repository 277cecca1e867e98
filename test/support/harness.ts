import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import type { ChartFont } from '../../src/adapters/files/chart-font.ts';
import { type AppOptions, startApp, type RunningApp } from '../../src/app.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTestEmulator, type TestEmulator } from './conversation.ts';

// Runs the real bot (and worker) in-process against the emulator over HTTP, with a fresh database
// cloned from the migrated template and queue names of its own. Logs are captured for inspection.

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise((r) => srv.close(() => r(undefined)));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

export interface HarnessOptions {
  mode?: 'polling' | 'webhook';
  admins?: number[];
  env?: Record<string, string>;
  /** Use this database URL instead of the test database (e.g. through a TCP proxy). */
  databaseUrlFor?: (testDbUrl: string) => string;
  emulator?: TestEmulator;
  role?: 'bot' | 'all';
  /** Controllable clock for the app's use cases (BullMQ delays still run on real time). */
  now?: () => Date;
  /** The chart's fonts instead of the resolved ones (e.g. none, to see /report without a font). */
  chartFont?: ChartFont;
  /** Told after each update which SQL statements it sent (query budget tests). */
  onUpdateQueries?: AppOptions['onUpdateQueries'];
}

export interface Harness {
  emu: TestEmulator;
  app: RunningApp;
  db: TestDatabase;
  logs: string[];
  env: Record<string, string>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const emu = opts.emulator ?? (await startTestEmulator());
  const db = await createTestDatabase();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // The bot paces its sends to the Bot API server's limits, as it would to Telegram's (a test that turns
  // the emulator's limits off turns the pacing off with them).
  const limits = await emu.client.limits();
  const env: Record<string, string> = {
    SEND_RATE_PER_SEC: String(limits.globalPerSecond),
    SEND_CHAT_RATE_PER_SEC: String(limits.perChatPerSecond),
    SEND_CHAT_BURST: String(Math.max(1, limits.perChatBurst)),
    TELEGRAM_BOT_TOKEN: `${100000 + Math.floor(Math.random() * 900000)}:TEST${randomBytes(12).toString('hex')}`,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: opts.databaseUrlFor ? opts.databaseUrlFor(db.url) : db.url,
    REDIS_URL,
    DATA_KEY: randomBytes(32).toString('base64'),
    SMS_PROVIDER: 'log',
    BOOTSTRAP_ADMIN_IDS: (opts.admins ?? []).join(','),
    LOG_LEVEL: 'info',
    PORT: '0',
    ...opts.env,
  };
  if (opts.mode === 'webhook') {
    const port = await freePort();
    Object.assign(env, {
      BOT_MODE: 'webhook',
      PORT: String(port),
      WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
      WEBHOOK_SECRET: `secret_${randomBytes(12).toString('hex')}`,
    });
  }
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const start = () =>
    startApp({
      config: loadConfig(env),
      role: opts.role ?? 'all',
      apiRoot: emu.apiRoot,
      logger: createLogger({ level: 'info', destination }),
      queuePrefix: prefix,
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.chartFont ? { chartFont: opts.chartFont } : {}),
      ...(opts.onUpdateQueries ? { onUpdateQueries: opts.onUpdateQueries } : {}),
    });
  const h: Harness = {
    emu,
    app: await start(),
    db,
    logs,
    env,
    async restart() {
      await h.app.stop();
      h.app = await start();
    },
    async stop() {
      await h.app.stop();
      if (!opts.emulator) await emu.close();
      await db.drop();
    },
  };
  return h;
}
