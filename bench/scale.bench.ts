// Benchmark: province scale (issue 17). One campaign of SCALE_N nominations (default 200,000), seeded with
// set-based SQL, then every step below in order, each timed with the process's peak RSS while it ran:
// the full reminder sync, worker start (with its review-task sweep and the tasks it queued), a submit's
// reminder work, the staff's chat commands through the real bot and the emulator (time to the first
// answer and to the last message), and the Redis memory of the installation at the end.
//
//   npm run bench -- scale                  (200,000 nominations: a few minutes)
//   SCALE_N=20000 npm run bench -- scale    (while developing)
//
// The steps are one table (STEPS): a step is a name, what it runs and its target. A command that becomes a
// job with a progress message (batch creation, marking paid, exports) is re-pointed by changing its
// `done` matcher (the job's final message) — the first answer stays the chat request's figure.
// Same-run baseline: `/whoami` (a command that reads one person) through the same bot and emulator.
// Emulator rate limits are off: the figures measure this system, not Telegram's caps.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import type { Db } from '../src/adapters/db/client.ts';
import { createLogger } from '../src/adapters/logger.ts';
import { Queues } from '../src/adapters/queue/queues.ts';
import { type RunningApp, startApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { EmulatorClient, type UserHandle } from '../src/emulator/client.ts';
import type { MessageMatch } from '../src/emulator/client-format.ts';
import { startEmulator } from '../src/emulator/index.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { bankList } from '../src/usecases/payments/batches.ts';
import { ensureReviewTasks } from '../src/usecases/review/tasks.ts';
import { onNominationChanged, syncReminders } from '../src/usecases/reminders.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import * as fx from '../test/support/reminder-fixtures.ts';
import { type ScaleSeed, seedScale } from '../test/support/scale-seed.ts';
import { REDIS_URL, sleep, summarize, writeResult } from './support.ts';

const N = Number(process.env['SCALE_N'] ?? 200_000);
const SUBMITS = 10;
const CHAT_TARGET_MS = 2_000;
const REDIS_TARGET_MB_PER_100K = 50;
const STAFF_ID = 90_001;

interface Ctx {
  /** A staff member's chat of its own per step (one chat's updates wait for each other). */
  staffChat: () => UserHandle;
  /** True while an update of this chat is still being handled (the chat-order lock in Redis). */
  busy: (u: UserHandle) => Promise<boolean>;
  db: PrismaClient;
  app: RunningApp;
  queues: Queues;
  staff: UserHandle;
  staffId: number;
  campaign: { id: number; code: string };
  seed: ScaleSeed;
  start: () => Promise<RunningApp>;
}

interface Target {
  /** What the target is about, printed in the table. */
  label: string;
  /** The figure checked (a field of the step's result). */
  field: string;
  max: number;
}

interface Step {
  name: string;
  target?: Target;
  run: (c: Ctx) => Promise<Record<string, number | string | boolean>>;
}

const internalError = /Sorry, something went wrong|temporarily unavailable/i;

/** A chat command through the bot: time to the first answer and to the message matching `done`. */
function chat(name: string, text: (c: Ctx) => Promise<string> | string, done: MessageMatch): Step {
  return {
    name,
    target: { label: `first answer ≤ ${CHAT_TARGET_MS} ms`, field: 'firstAnswerMs', max: CHAT_TARGET_MS },
    async run(c) {
      const cmd = await text(c);
      const u = c.staffChat();
      const t0 = performance.now();
      await u.sendText(cmd);
      const first = await u.waitForMessage({ timeoutMs: 600_000 });
      const firstAnswerMs = performance.now() - t0;
      const last = await u.waitForMessage({
        timeoutMs: 600_000,
        match: (m) => internalError.test(m.text ?? '') || matchesDone(m, done),
      });
      const ms = performance.now() - t0;
      // A handler past telegraf's timeout keeps running (the person was told it failed): wait for it, so
      // its work is not counted against the next step, and report how long it really took.
      while ((await c.busy(u)) && performance.now() - t0 < 900_000) await sleep(250);
      const handlerMs = performance.now() - t0;
      const failed = internalError.test(first.text ?? '') || internalError.test(last.text ?? '');
      return {
        command: cmd,
        ok: !failed,
        firstAnswerMs: Math.round(firstAnswerMs),
        ms: Math.round(ms),
        handlerMs: Math.round(handlerMs),
        answer: (last.text ?? last.caption ?? last.document?.file_name ?? '').slice(0, 80),
      };
    },
  };
}

/**
 * A command that became a staff job (usecases/staff-jobs.ts): what the person sees at once is the
 * acknowledgement (the one message the worker then edits): `firstAnswerMs`, the target. The job's
 * completion (its row `delivered`: the message edited into the result, files sent) is `jobMs`.
 */
function job(name: string, kind: string, text: (c: Ctx) => Promise<string> | string): Step {
  return {
    name,
    target: { label: `first answer ≤ ${CHAT_TARGET_MS} ms`, field: 'firstAnswerMs', max: CHAT_TARGET_MS },
    async run(c) {
      const cmd = await text(c);
      const u = c.staffChat();
      const since = new Date();
      const t0 = performance.now();
      await u.sendText(cmd);
      const first = await u.waitForMessage({ timeoutMs: 600_000 });
      const firstAnswerMs = performance.now() - t0;
      while ((await c.busy(u)) && performance.now() - t0 < 900_000) await sleep(100);
      const handlerMs = performance.now() - t0;
      let row: { id: string; status: string; total: number } | null = null;
      for (;;) {
        row = await c.db.staffJob.findFirst({
          where: { kind, createdAt: { gte: since }, chatId: BigInt(u.id) },
          select: { id: true, status: true, total: true },
        });
        if (row && ['delivered', 'failed'].includes(row.status)) break;
        if (!row && !(await c.busy(u))) break; // refused or answered without a job
        if (performance.now() - t0 > 900_000) break;
        await sleep(250);
      }
      const jobMs = performance.now() - t0;
      const final = (await u.messages()).find((m) => m.messageId === first.messageId) ?? first;
      const failed =
        internalError.test(first.text ?? '') ||
        !row ||
        row.status !== 'delivered' ||
        internalError.test(final.text ?? '');
      return {
        command: cmd,
        ok: !failed,
        firstAnswerMs: Math.round(firstAnswerMs),
        handlerMs: Math.round(handlerMs),
        jobMs: Math.round(jobMs),
        ms: Math.round(jobMs),
        jobRows: row?.total ?? 0,
        acknowledgement: (first.text ?? '').slice(0, 80),
        answer: (final.text ?? '').slice(0, 80),
      };
    },
  };
}

function matchesDone(
  m: { text?: string; caption?: string; document?: { file_name?: string } },
  done: MessageMatch,
) {
  if (typeof done === 'function') return done(m as never);
  const text = [m.text, m.caption, m.document?.file_name].filter(Boolean).join('\n');
  return typeof done === 'string' ? text.includes(done) : done.test(text);
}

const _hasDocument = (ext: string) => (m: { document?: { file_name?: string } }) =>
  (m.document?.file_name ?? '').endsWith(ext);

/** The steps, in order. Re-point a command here when it changes (e.g. becomes a job). */
const STEPS: Step[] = [
  {
    name: 'reminders:sync',
    target: { label: 'full sync ≤ 10,000 ms', field: 'ms', max: 10_000 },
    async run(c) {
      // What `npm run reminders:sync` runs (before the app starts: its own Queues, the same prefix).
      const t0 = performance.now();
      const r = await syncReminders(c.db as unknown as Db, c.queues, {
        campaignId: c.campaign.id,
        now: new Date(),
      });
      return { ok: true, ms: Math.round(performance.now() - t0), desired: r.desired, created: r.created };
    },
  },
  {
    name: 'worker start',
    async run(c) {
      const t0 = performance.now();
      c.app = await c.start();
      const startMs = performance.now() - t0;
      // Start-up work: the full reminder sync and the paged review-task sweep, which queued a task per
      // pending nomination (first start on this Redis). Then wait until the workers recorded them all (each
      // schedules its SLA check and the digest): the state a province's worker settles in.
      await c.app.startup;
      const startupMs = performance.now() - t0;
      const review = c.app.queues.get('review');
      const queued = await review.count();
      for (;;) {
        const n = await review.getJobCounts('waiting', 'active', 'prioritized');
        if ((n['waiting'] ?? 0) + (n['active'] ?? 0) + (n['prioritized'] ?? 0) === 0) break;
        await sleep(200);
      }
      return {
        ok: true,
        startMs: Math.round(startMs),
        startupMs: Math.round(startupMs),
        ms: Math.round(performance.now() - t0),
        reviewTasksSeen: queued,
      };
    },
  },
  {
    name: 'worker restart sweep',
    target: { label: 're-queues 0 (bounded start-up)', field: 'queued', max: 0 },
    async run(c) {
      // A second start finds every task recorded: the paged sweep queues nothing.
      const t0 = performance.now();
      const queued = await ensureReviewTasks(c.db as unknown as Db, c.app.queues, c.campaign.id);
      return { ok: true, ms: Math.round(performance.now() - t0), queued };
    },
  },
  {
    name: 'submit: reminder work',
    target: { label: 'median ≤ 50 ms', field: 'medianMs', max: 50 },
    async run(c) {
      const times: number[] = [];
      for (let i = 0; i < SUBMITS; i++) {
        const id = c.seed.blocks.draft.first + i * 13;
        await c.db.nomination.update({
          where: { id },
          data: { status: 'submitted', revision: 1, submittedAt: new Date() },
        });
        const t0 = performance.now();
        await onNominationChanged(c.db as unknown as Db, c.app.queues, id, new Date());
        times.push(performance.now() - t0);
      }
      const s = summarize(times);
      return {
        ok: true,
        ms: Math.round(times.reduce((a, b) => a + b, 0)),
        medianMs: s.medianMs,
        p95Ms: s.p95Ms,
      };
    },
  },
  chat('/whoami (baseline)', () => '/whoami', /Telegram/),
  chat('/queue', () => '/queue', /./),
  chat('/review', () => '/review', /./),
  job('/report', 'report', (c) => `/report ${c.campaign.code}`),
  job('/export', 'ledger_export', (c) => `/export ${c.campaign.code}`),
  job('/entry_list', 'entry_list', (c) => `/entry_list ${c.campaign.code}`),
  chat('/entry_status', (c) => `/entry_status ${c.campaign.code}`, /./),
  chat('/deadlines', () => '/deadlines', /./),
  job('/batch_new', 'batch_new', (c) => `/batch_new ${c.campaign.code}`),
  job('batch paid', 'batch_paid', async (c) => {
    const b = await c.db.paymentBatch.findFirstOrThrow({
      where: { campaignId: c.campaign.id, status: { in: ['open', 'exported'] } },
      orderBy: { id: 'desc' },
    });
    return `/batch_paid ${b.id}`;
  }),
  chat('/followups', () => '/followups', /./),
  {
    // The seeded paid batch holds half the campaign (100,000 payments at 200,000): its bank list is read
    // in pages (a nested relation in one query named one bind parameter per payment and failed above
    // ~32,000). Through the use case `/batch_export` calls, masked (no file built).
    name: 'bank list of the seeded batch',
    async run(c) {
      const t0 = performance.now();
      const list = await bankList(
        { db: c.db as unknown as Db, cipher: c.app.cipher, queues: c.app.queues, now: () => new Date() },
        { batchId: c.seed.batchId, actorId: c.staffId, fullNumbers: false },
      );
      return { ok: true, ms: Math.round(performance.now() - t0), rows: list.rows.length };
    },
  },
];

// ------------------------------------------------------------------------------------------------ redis
/** Bytes of every key under the installation's prefix, grouped by key family (MEMORY USAGE, all samples). */
async function redisBytes(redis: Redis, prefix: string) {
  const families = new Map<string, { keys: number; bytes: number }>();
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', 0);
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const bytes = Number(sizes[i]?.[1] ?? 0);
      total += bytes;
      // {prefix}:reminders:rvsla-1-r1-p1 → reminders:job; {prefix}:review:delayed → review:delayed
      const rest = k.slice(prefix.length + 1);
      const [head, second] = rest.split(':');
      const family =
        head && ['review', 'reminders', 'notifications'].includes(head)
          ? `${head}:${second && /^[a-z-]+$/.test(second) && !/\d/.test(second) && !second.includes('-') ? second : 'job'}`
          : (head ?? rest);
      const f = families.get(family) ?? { keys: 0, bytes: 0 };
      f.keys++;
      f.bytes += bytes;
      families.set(family, f);
    });
  } while (cursor !== '0');
  return { total, families: Object.fromEntries([...families].sort((a, b) => b[1].bytes - a[1].bytes)) };
}

/** Removes the bench's keys (the shared Redis keeps no leftovers of a 200,000-row run). */
async function dropKeys(redis: Redis, prefix: string) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

// ------------------------------------------------------------------------------------------------- main
async function main() {
  const emu = await startEmulator({
    port: 0,
    limits: { perChatPerSecond: 0, perChatBurst: 1, globalPerSecond: 0 },
  });
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url);
  const key = randomBytes(32);
  const cipher = new FieldCipher([{ version: 1, key }]);
  const prefix = `bench-scale-${randomBytes(3).toString('hex')}`;
  const token = `${710000 + Math.floor(Math.random() * 9999)}:SCALE${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: tdb.url,
    REDIS_URL,
    DATA_KEY: key.toString('base64'),
    SMS_PROVIDER: 'log',
    LOG_LEVEL: 'warn',
    PORT: '0',
    SEND_RATE_PER_SEC: '0',
    SEND_CHAT_RATE_PER_SEC: '0',
  });
  const queues = new Queues(REDIS_URL, prefix);
  const results: { name: string; peakRssMb: number; [k: string]: unknown }[] = [];
  let app: RunningApp | undefined;
  try {
    // ------------------------------------------------------------------------------------------ seed
    const t0 = performance.now();
    const fed = await fx.federation(db);
    const unions: number[] = [];
    for (let i = 0; i < 500; i++) unions.push(await fx.union(db, fed, `规模工会${i}`));
    const contacts: number[] = [];
    for (let i = 0; i < 200; i++)
      contacts.push(await fx.person(db, 50_000 + i, 'contact', { unionId: unions[i]! }));
    // Staff members (admin + finance, English): one chat per step.
    let staffId = 0;
    for (let i = 0; i < STEPS.length; i++) {
      const id = await fx.person(db, STAFF_ID + i, 'admin', { lang: 'en', name: `Staff ${i}` });
      await db.roleGrant.create({ data: { personId: id, role: 'finance', scope: '' } });
      staffId ||= id;
    }
    const day = 86_400_000;
    const now = Date.now();
    const code = `scale-${randomBytes(2).toString('hex')}`;
    const campaignId = await fx.campaign(db, fed, {
      code,
      opens: new Date(now - 20 * day),
      closes: new Date(now + 10 * day),
      review: new Date(now + 20 * day),
      payment: new Date(now + 30 * day).toISOString().slice(0, 10),
    });
    await db.campaign.update({ where: { id: campaignId }, data: { budgetTotalFen: BigInt(N) * 100_000n } });
    const category = await db.campaignCategory.create({
      data: {
        campaignId,
        code: 'frontline',
        nameZh: '一线职工',
        nameEn: 'Frontline workers',
        kind: 'frontline_worker',
        standardAmountFen: 80_000,
        benefitForms: ['transfer', 'in_kind'],
        requiredFields: [],
      },
    });
    const pct = (p: number) => Math.round(N * p);
    const mix = {
      paid: pct(0.5),
      handedOver: pct(0.05),
      approved: pct(0.05),
      submitted: pct(0.25),
      returned: pct(0.05),
      draft: 0,
    };
    mix.draft = N - Object.values(mix).reduce((a, b) => a + b, 0);
    const seed = await seedScale(db, {
      campaignId,
      unionIds: unions,
      submittedById: contacts[0]!,
      mix,
      lastPaidAt: new Date(now - day),
      paidDays: 5,
      fields: {
        categoryId: category.id,
        benefitForm: 'transfer',
        idNumberEnc: cipher.encrypt('110105198001010015'),
        phoneEnc: cipher.encrypt('13800138000'),
        bankCardEnc: cipher.encrypt('6228480012345678901'),
        bankCardLast4: '8901',
        bankName: '中国农业银行',
      },
    });
    const seedMs = Math.round(performance.now() - t0);
    console.log(`${N} nominations seeded in ${seedMs} ms (${JSON.stringify(mix)})`);

    const client = new EmulatorClient(emu.url, { bot: Number(token.split(':')[0]) });
    const staff = client.user(STAFF_ID, { firstName: 'Staff', languageCode: 'en' });
    let nextStaff = 1;
    const botId = token.split(':')[0];
    const ctx: Ctx = {
      staffChat: () => client.user(STAFF_ID + nextStaff++, { firstName: 'Staff', languageCode: 'en' }),
      busy: async (u) =>
        (await ctx.app.redis.exists(`${ctx.app.queues.prefix}:order:${botId}:lock:${u.id}`)) === 1,
      db,
      app: undefined as unknown as RunningApp,
      queues,
      staff,
      staffId,
      campaign: { id: campaignId, code },
      seed,
      start: () =>
        startApp({
          config,
          role: 'all',
          apiRoot: emu.apiRoot,
          logger: createLogger({ level: 'warn' }),
          queuePrefix: prefix,
        }),
    };

    // ----------------------------------------------------------------------------------------- steps
    for (const step of STEPS) {
      if (step.name.startsWith('/whoami')) {
        await staff.sendText('/start'); // the bot's first update after start-up
        await staff.waitForMessage({ timeoutMs: 60_000 });
      }
      let peak = process.memoryUsage().rss;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 25);
      let r: Record<string, unknown>;
      try {
        r = await step.run(ctx);
      } catch (err) {
        r = {
          ok: false,
          error: String((err as Error).message ?? err)
            .split('\n')[0]
            ?.slice(0, 200),
        };
      } finally {
        clearInterval(timer);
      }
      app = ctx.app;
      const t = step.target;
      const value = t ? Number(r[t.field]) : undefined;
      const row = {
        name: step.name,
        ...r,
        peakRssMb: mb(peak),
        ...(t ? { target: t.label, met: r['ok'] === true && value !== undefined && value <= t.max } : {}),
      };
      results.push(row);
      console.log(JSON.stringify(row));
    }

    // -------------------------------------------------------------------------------------- redis
    // At rest: the notices of the paid batch are still being sent (the notifications queue's pace):
    // their waiting jobs are reported apart and left out of the at-rest figure.
    await sleep(2_000);
    const redis = app!.redis;
    const mem = await redisBytes(redis, app!.queues.prefix);
    const notifications = await app!.queues
      .get('notifications')
      .getJobCounts('waiting', 'delayed', 'prioritized');
    const pendingNoticeJobs =
      (notifications['waiting'] ?? 0) + (notifications['delayed'] ?? 0) + (notifications['prioritized'] ?? 0);
    const noticeBytes = mem.families['notifications:job']?.bytes ?? 0;
    const noticeJobs = mem.families['notifications:job']?.keys ?? 0;
    const waitingNoticeBytes =
      noticeJobs > 0 ? Math.round((noticeBytes / noticeJobs) * pendingNoticeJobs) : 0;
    const atRest = mem.total - waitingNoticeBytes;
    const perHundredK = atRest / (N / 100_000);
    const info = await redis.info('memory');
    const redisRow = {
      name: 'redis (installation prefix)',
      ok: true,
      totalMb: mb(mem.total),
      pendingNoticeJobs,
      pendingNoticeMb: mb(waitingNoticeBytes),
      atRestMb: mb(atRest),
      mbPer100k: mb(perHundredK),
      usedMemoryMb: mb(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0)),
      families: Object.fromEntries(
        Object.entries(mem.families).map(([k, v]) => [k, { keys: v.keys, mb: mb(v.bytes) }]),
      ),
      target: `≤ ${REDIS_TARGET_MB_PER_100K} MB per 100,000 at rest`,
      met: perHundredK <= REDIS_TARGET_MB_PER_100K * 1048576,
      peakRssMb: mb(process.memoryUsage().rss),
    };
    results.push(redisRow);

    // -------------------------------------------------------------------------------------- table
    const fmt = (v: unknown) => (v === undefined ? '' : String(v));
    const rows = results.map((r) => [
      r.name,
      fmt(r['ok'] === false ? `FAILED ${fmt(r['error'] ?? r['answer'])}` : 'ok'),
      fmt(r['firstAnswerMs'] ?? r['medianMs'] ?? r['queued'] ?? r['mbPer100k']),
      fmt(r['ms'] ?? r['atRestMb']),
      fmt(r.peakRssMb),
      fmt(r['target']),
      r['met'] === undefined ? '' : r['met'] ? 'met' : 'MISSED',
    ]);
    const head = ['step', 'result', 'checked figure', 'ms (total) / MB', 'peak RSS MB', 'target', ''];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(`\nscale: ${N} nominations in one campaign (seeded in ${seedMs} ms)\n${line(head)}`);
    for (const r of rows) console.log(line(r.map(String)));
    console.log(`redis families: ${JSON.stringify(redisRow.families)}`);

    const file = writeResult('scale', {
      date: new Date().toISOString(),
      setup: {
        machine: '2 shared cores; other developers may run tests or benchmarks at the same time (noise)',
        nominations: N,
        mix: `${JSON.stringify(mix)}; 500 unions, 200 contacts; one staff member (admin + finance) in English`,
        seedMs,
        chat: 'commands through the real bot (polling) and the emulator, limits off; firstAnswerMs = the first message back, ms = the last (the document for /report, /export, /entry_list)',
        baseline: '/whoami (reads one person) through the same bot in the same run',
        redis:
          'MEMORY USAGE (SAMPLES 0) of every key under the installation prefix after the run; notice jobs still waiting to be sent are reported apart',
      },
      steps: results,
      failed: results.filter((r) => r['ok'] === false).map((r) => r.name),
      missed: results.filter((r) => r['met'] === false).map((r) => r.name),
    });
    console.log(`\nwritten ${file}`);
  } finally {
    await app?.stop();
    await dropKeys(queues.redis, queues.prefix).catch(() => 0);
    await queues.close();
    await db.$disconnect();
    await tdb.drop();
    await emu.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
