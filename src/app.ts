import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { FieldCipher } from './adapters/crypto/field-cipher.ts';
import { createDb, type Db } from './adapters/db/client.ts';
import { startHttpServer } from './adapters/http/server.ts';
import { Metrics } from './adapters/http/metrics.ts';
import { I18n } from './adapters/i18n.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { createRedis, Queues } from './adapters/queue/queues.ts';
import { startWorkers } from './adapters/queue/workers.ts';
import { createBot, type BotApp, type UpdateQueries } from './adapters/telegram/bot.ts';
import { UpdatePoller } from './adapters/telegram/polling.ts';
import { CallbackCodec } from './adapters/telegram/callback-data.ts';
import { type ChartFont, chartFont } from './adapters/files/chart-font.ts';
import type { BotDeps } from './adapters/telegram/kit.ts';
import { allFeatures } from './features.ts';
import { allJobs, type JobDeps } from './jobs/index.ts';
import { SendSlots } from './adapters/queue/chat-bucket.ts';
import { BACKGROUND, Outbound, type PacedTelegram } from './adapters/telegram/outbound.ts';
import { createSmsProvider } from './adapters/sms/provider.ts';
import { scheduleNoticeSweeper } from './usecases/notice-sweeper.ts';
import { CLEANUP_DRAFTS_JOB } from './jobs/cleanup-drafts.ts';
import { bootstrapAdmins } from './usecases/people.ts';
import { collectHealth, type Health } from './usecases/health.ts';
import { requeueQueuedNotices } from './usecases/notices.ts';
import { syncReminders } from './usecases/reminders.ts';
import { scheduleCampaignOpenings } from './usecases/announcements.ts';
import { ensureReviewTasks } from './usecases/review/tasks.ts';
import { removeOrphanedExportFiles } from './adapters/files/export-parts.ts';

/** Staff jobs edit their progress message at most this often (Telegram: about 1 message/s per chat). */
const STAFF_PROGRESS_EVERY_MS = 3_000;

// Composition root: builds the adapters once and wires them into the bot, the workers and the HTTP
// server. `role` picks what runs in this process; everything is stopped in reverse order by stop().

export type ProcessRole = 'bot' | 'worker' | 'all';

export interface AppOptions {
  config: Config;
  role: ProcessRole;
  /** Bot API root actually used (sandbox: the emulator's). */
  apiRoot: string;
  logger?: Logger;
  queuePrefix?: string;
  now?: () => Date;
  /** The chart's fonts (default: resolved from CHART_FONT; tests pass none to see the text-only report). */
  chartFont?: ChartFont;
  /** Told after each update which SQL statements it sent (test/e2e/query-budget.test.ts). */
  onUpdateQueries?: (u: UpdateQueries) => void;
}

export interface RunningApp {
  db: Db;
  redis: Redis;
  queues: Queues;
  cipher: FieldCipher;
  i18n: I18n;
  metrics: Metrics;
  logger: Logger;
  botApp?: BotApp;
  workers: Worker[];
  http?: Server;
  httpPort?: number;
  /** The worker's start-up work (reminder sync, review-task sweep); settles when both did (never rejects). */
  startup: Promise<unknown>;
  stop: () => Promise<void>;
}

async function getMeWithRetry(botApp: BotApp, logger: Logger) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await botApp.bot.telegram.getMe();
    } catch (err) {
      const code = (err as { response?: { error_code?: number } }).response?.error_code;
      if (code === 401 || code === 404) throw err; // wrong token: retrying cannot help
      if (attempt >= 30) throw err;
      logger.warn({ err, attempt }, 'Bot API not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
}

export async function startApp(opts: AppOptions): Promise<RunningApp> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const now = opts.now ?? (() => new Date());
  const metrics = new Metrics();
  const i18n = new I18n(config.defaultLocale);
  const cipher = new FieldCipher(config.dataKeys, config.hashKeyVersion);
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error (will reconnect)'));
  const queues = new Queues(config.redisUrl, opts.queuePrefix ?? config.queuePrefix);
  // Every Redis key of the installation starts with the prefix as a Redis Cluster hash tag ({warmth}).
  const prefix = queues.prefix;
  const stops: (() => Promise<unknown>)[] = [];
  // The one outbound path of this process; its pace is shared with every other process through Redis
  // (keys under the installation's prefix, per bot token's id: Telegram's limits are per bot).
  const botId = config.telegram.token.split(':')[0];
  const outbound = new Outbound(
    new SendSlots(redis, {
      chatPerSec: config.sendLimits.chatPerSec,
      chatBurst: config.sendLimits.chatBurst,
      globalPerSec: config.sendLimits.globalPerSec,
      globalBurst: Math.max(1, Math.floor(config.sendLimits.globalPerSec / 6)),
      prefix: `${prefix}:send:${botId}`,
    }),
    logger,
    metrics,
  );

  await bootstrapAdmins(db, config.bootstrapAdminIds);

  let botApp: BotApp | undefined;
  let httpWebhook: Parameters<typeof startHttpServer>[0]['webhook'];
  if (opts.role !== 'worker') {
    let username = 'warmth_bot';
    const deps: BotDeps = {
      db,
      redis,
      cipher,
      i18n,
      logger,
      metrics,
      queues,
      now,
      callbacks: new CallbackCodec(cipher),
      inviteTtlDays: config.inviteTtlDays,
      chartFont: opts.chartFont ?? chartFont(config.chartFont),
      botUsername: () => username,
    };
    botApp = createBot(deps, (shell) => allFeatures(deps, shell), {
      token: config.telegram.token,
      apiRoot: opts.apiRoot,
      outbound,
      ...(opts.onUpdateQueries ? { onUpdateQueries: opts.onUpdateQueries } : {}),
    });
    const me = await getMeWithRetry(botApp, logger);
    username = me.username;
    botApp.bot.botInfo = me;
    await setDefaultMenus(botApp, i18n, logger);
    if (config.telegram.mode === 'webhook') {
      const url = new URL(config.telegram.webhookUrl!);
      await botApp.bot.telegram.setWebhook(url.toString(), {
        secret_token: config.telegram.webhookSecret!,
        max_connections: 40,
      });
      const app = botApp;
      httpWebhook = {
        path: url.pathname,
        secret: config.telegram.webhookSecret!,
        handle: (u) => app.handle(u),
      };
    } else {
      // Long polling without telegraf's batch barrier (polling.ts): the next batch is fetched while
      // this one is handled; the shell's chat order keeps each chat's updates in order.
      // bot.telegram is the paced client createBot installed: getUpdates goes the outbound path too.
      const poller = new UpdatePoller(
        botApp.bot.telegram as PacedTelegram,
        (u) => botApp!.bot.handleUpdate(u),
        logger,
      );
      poller.start();
      stops.push(() => poller.stop());
    }
  }

  const http = await startHttpServer({
    port: config.port,
    logger,
    metrics,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    metricsOpen: config.sandbox,
    ...(httpWebhook ? { webhook: httpWebhook } : {}),
    health: async () => ({
      database: await db.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      ),
      redis: await redis.ping().then(
        () => true,
        () => false,
      ),
    }),
  });
  const address = http.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.port;
  // Stop accepting requests; idle keep-alive connections (Telegram's webhook client keeps one open)
  // are closed at once, busy ones get 5 s to finish their update.
  stops.unshift(
    () =>
      new Promise((r) => {
        const force = setTimeout(() => http.closeAllConnections(), 5_000);
        http.close(() => {
          clearTimeout(force);
          r(undefined);
        });
        http.closeIdleConnections();
      }),
  );

  // Wait for updates being handled to finish before closing what they use.
  if (botApp) {
    const app = botApp;
    stops.push(async () => {
      for (let i = 0; i < 200 && app.inFlight() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    });
  }

  let workers: Worker[] = [];
  let startup: Promise<unknown> = Promise.resolve();
  if (opts.role !== 'bot') {
    const telegram = outbound.client(
      config.telegram.token,
      { apiRoot: opts.apiRoot, webhookReply: false },
      BACKGROUND,
    );
    const jobDeps: JobDeps = {
      db,
      i18n,
      logger,
      metrics,
      cipher,
      queues,
      telegram,
      callbacks: new CallbackCodec(cipher),
      now,
      sms: createSmsProvider(config.sms, logger),
      chartFont: opts.chartFont ?? chartFont(config.chartFont),
      staffJobs: { partBytes: config.staffJobs.partBytes, progressEveryMs: STAFF_PROGRESS_EVERY_MS },
    };
    workers = startWorkers({
      redisUrl: config.redisUrl,
      prefix,
      concurrency: config.workerConcurrency,
      jobs: allJobs(),
      deps: jobDeps,
      logger,
      metrics,
      // Global pace of notices across every worker process (Telegram: about 30 messages/s per bot).
      perQueue: {
        notifications: { limiter: { max: config.notifyRatePerSec, duration: 1000 } },
        // Staff jobs (exports...) are heavy: at most STAFF_JOBS_CONCURRENCY at once, all workers together.
        staff: { concurrency: config.staffJobs.concurrency },
      },
    });
    queues
      .get('staff')
      .setGlobalConcurrency(config.staffJobs.concurrency)
      .catch((err: unknown) => logger.warn({ err }, 'could not set the staff jobs concurrency'));
    // Export files a killed worker left behind (the job removes its own on success and failure).
    removeOrphanedExportFiles().then(
      (n) => n > 0 && logger.info({ removed: n }, 'removed export files left by a stopped worker'),
      (err: unknown) => logger.warn({ err }, 'could not clean the export directory'),
    );
    stops.push(() => Promise.all(workers.map((w) => closeWorker(w, logger))));
    scheduleNoticeSweeper(queues).catch((err: unknown) =>
      logger.warn({ err }, 'could not schedule the notice sweeper'),
    );
    // Reminders are derived from PostgreSQL: rebuild missing delayed jobs (e.g. Redis lost its data).
    const rebuild = syncReminders(db, queues, { now: now() }).then(
      (r) => logger.info({ ...r }, 'reminders synced at worker start'),
      (err: unknown) =>
        logger.warn({ err }, 'reminder sync at worker start failed (run npm run reminders:sync)'),
    );
    stops.unshift(() => rebuild);
    // Campaign openings likewise: a delayed job per campaign that opens later, a fan-out for one open now
    // (contacts who already have the opening notice get nothing: one row per contact and campaign).
    const openings = scheduleCampaignOpenings(db, queues, now()).catch((err: unknown) =>
      logger.warn({ err }, 'campaign opening schedule at worker start failed'),
    );
    stops.unshift(() => openings);
    // Notices likewise: every one still `queued` in PostgreSQL gets its job (same id: no duplicates).
    const notices = requeueQueuedNotices(db, queues).then(
      (r) => logger.info({ ...r }, 'queued notices re-queued at worker start'),
      (err: unknown) => logger.warn({ err }, 'notice re-queue at worker start failed'),
    );
    stops.unshift(() => notices);
    // Review tasks likewise: queue any missing one (a failed enqueue after submit, imported rows).
    const reviewTasks = ensureReviewTasks(db, queues).catch((err: unknown) =>
      logger.warn({ err }, 'review task sweep at worker start failed'),
    );
    stops.unshift(() => reviewTasks);
    startup = Promise.all([rebuild, reviewTasks]);
    // Recurring housekeeping through a BullMQ job scheduler (idempotent: upsert by id).
    queues
      .get('reminders')
      .upsertJobScheduler('cleanup-drafts', { every: 3_600_000 }, { name: CLEANUP_DRAFTS_JOB, data: {} })
      .catch((err: unknown) => logger.warn({ err }, 'could not schedule draft clean-up'));
  }
  watchHealth(metrics, db, queues, now);

  stops.push(() => queues.close());
  stops.push(async () => redis.quit().catch(() => redis.disconnect()));
  stops.push(() => db.$disconnect());

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const s of stops) {
        try {
          await s();
        } catch (err) {
          logger.warn({ err }, 'error during shutdown');
        }
      }
    })());

  logger.info(
    { role: opts.role, mode: config.telegram.mode, sandbox: config.sandbox, httpPort },
    'warmth-bot started',
  );
  return {
    db,
    redis,
    queues,
    cipher,
    i18n,
    metrics,
    logger,
    ...(botApp ? { botApp } : {}),
    workers,
    http,
    httpPort,
    startup,
    stop,
  };
}

/**
 * Lets active jobs finish (up to 10 s), then closes by force. A forced close loses nothing: a job
 * still active becomes "stalled" and BullMQ hands it to the next worker, and handlers are idempotent.
 * (After a Redis outage, close() and disconnect() were seen to wait forever: test/e2e/outage.test.ts.)
 */
async function closeWorker(w: Worker, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), 10_000);
  });
  const result = await Promise.race([w.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    logger.warn({ queue: w.name }, 'worker did not close in 10 s; closing by force');
    await Promise.race([w.close(true), new Promise((r) => setTimeout(r, 5_000))]);
  }
}

/**
 * What to watch (README, "What to watch"; ops/alerts.yml): the installation's health figures
 * (usecases/health.ts, read at most every 10 s however often Prometheus scrapes) as gauges, and every
 * counter an alert names declared up front so it is present before its first event.
 */
function watchHealth(metrics: Metrics, db: Db, queues: Queues, now: () => Date) {
  metrics.declare('warmth_jobs_total', 'Jobs processed', 'counter');
  metrics.declare('warmth_jobs_failed_total', 'Job attempts that failed', 'counter');
  metrics.declare('warmth_jobs_retried_total', 'Failed job attempts that will be retried', 'counter');
  metrics.declare('warmth_outbound_429_total', 'Bot API calls answered 429', 'counter');
  metrics.declare('warmth_outbound_gave_up_total', 'Bot API calls given up after waiting', 'counter');
  metrics.declare('warmth_handler_errors_total', 'Updates that failed with an unexpected error', 'counter');
  metrics.declare('warmth_unavailable_total', 'Updates answered with "temporarily unavailable"', 'counter');
  metrics.declare('warmth_update_seconds', 'Time to handle an update', 'histogram');
  let last: { at: number; health: Promise<Health> } | undefined;
  metrics.onCollect(async () => {
    if (!last || Date.now() - last.at > 10_000) {
      last = { at: Date.now(), health: collectHealth(db, queues, now()) };
      last.health.catch(() => {
        last = undefined;
      });
    }
    const h = await last.health;
    for (const [queue, q] of Object.entries(h.queues)) {
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
        metrics.set('warmth_queue_jobs', 'Jobs per queue and state', q[state], { queue, state });
      metrics.set(
        'warmth_queue_oldest_waiting_seconds',
        'Age of the oldest job ready to run, per queue',
        q.oldestWaitingSeconds,
        { queue },
      );
    }
    for (const [status, n] of Object.entries(h.notices.byStatus))
      metrics.set('warmth_notices', 'Notices per status (PostgreSQL)', n, { status });
    metrics.set(
      'warmth_notice_oldest_queued_seconds',
      'Age of the oldest notice not yet sent',
      h.notices.oldestQueuedSeconds,
    );
    metrics.set('warmth_reminders_scheduled', 'Reminders scheduled', h.reminders.scheduled);
    metrics.set(
      'warmth_reminders_late',
      'Scheduled reminders more than 5 minutes past due',
      h.reminders.late,
    );
    metrics.set('warmth_review_backlog', 'Nominations waiting for a review decision', h.review.backlog);
    metrics.set(
      'warmth_review_sla_breaches',
      'Nominations waiting for review longer than their campaign SLA',
      h.review.slaBreaches,
    );
  });
}

/** Default menus for people with no chat-specific menu yet (localized per language). */
async function setDefaultMenus(botApp: BotApp, i18n: I18n, logger: Logger) {
  const names = ['start', 'help', 'lang', 'whoami', 'cancel'];
  for (const lang of ['zh-CN', 'en'] as const) {
    const commands = names.map((n) => ({ command: n, description: i18n.t(lang, `commands.${n}`) }));
    try {
      await botApp.bot.telegram.setMyCommands(commands, {
        scope: { type: 'all_private_chats' },
        ...(lang === i18n.defaultLocale ? {} : { language_code: lang.slice(0, 2) }),
      });
    } catch (err) {
      logger.warn({ err }, 'setMyCommands failed (default menu not set)');
    }
  }
}
