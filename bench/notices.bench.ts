// Benchmark: N payment notices (default 10,000) from "batch paid" to the recipients' chats, through the
// Bot API emulator enforcing Telegram's limits (30 messages/s overall, 1/s per chat), with 429s injected and
// one of W worker processes (default 3, sharing the limit through Redis) killed with SIGKILL mid-run
// (restarted only with --restart).
//
//   npm run bench:notices -- [--count 10000] [--workers 3] [--rate 30] [--kill-at 0.4] [--inject 3] [--retry-after 1] [--restart]
//   npm run bench:notices -- --rolling [--count 2000] [--workers 1]
//
// --rolling: a rolling restart instead of the SIGKILL: at --kill-at a new worker starts, and once it
// listens the first worker gets SIGTERM (it finishes its active jobs and exits); results go to
// bench/results/notices-rolling.json (0 lost, 0 duplicated expected, nothing left in `sending`).
//
// Each worker is a child process (`tsx src/main.ts worker`, in its own process group so SIGKILL reaches the
// node process under tsx) with env pointing at a fresh test database, the local Redis (own queue prefix)
// and the in-process emulator. Results go to bench/results/notices.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import { createDb } from '../src/adapters/db/client.ts';
import { Queues } from '../src/adapters/queue/queues.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createBatch, markBatchPaid } from '../src/usecases/payments/batches.ts';
import { createTestDatabase } from '../test/support/db.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '30' },
    'kill-at': { type: 'string', default: '0.4' },
    inject: { type: 'string', default: '3' },
    'retry-after': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    restart: { type: 'boolean', default: false },
    rolling: { type: 'boolean', default: false },
  },
});
const N = Number(args.count);
const RATE = Number(args.rate);
const KILL_AT = Number(args['kill-at']);
const INJECT = Number(args.inject);
const RETRY_AFTER = Number(args['retry-after']);
const CONCURRENCY = Number(args.concurrency);
const WORKERS = Number(args.workers);
const EMU_LIMIT = 30;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHAT_BASE = 7_000_000_000;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const emu = await startEmulator({
    port: 0,
    limits: { perChatPerSecond: 1, perChatBurst: 1, globalPerSecond: EMU_LIMIT },
  });
  const tdb = await createTestDatabase();
  const dataKey = randomBytes(32).toString('base64');
  const prefix = `bench-notices-${randomBytes(4).toString('hex')}`;
  const db = createDb(tdb.url);
  const cipher = new FieldCipher([{ version: 1, key: Buffer.from(dataKey, 'base64') }]);
  const queues = new Queues(REDIS_URL, prefix);
  const token = `${100000 + Math.floor(Math.random() * 900000)}:BENCH${randomBytes(12).toString('hex')}`;
  const env = {
    ...process.env,
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: tdb.url,
    REDIS_URL,
    DATA_KEY: dataKey,
    SMS_PROVIDER: 'log',
    QUEUE_PREFIX: prefix,
    NOTIFY_RATE_PER_SEC: String(RATE),
    WORKER_CONCURRENCY: String(CONCURRENCY),
    // The outbound path's shared pace, matched to the emulator's limits in this benchmark.
    SEND_RATE_PER_SEC: String(EMU_LIMIT),
    SEND_CHAT_RATE_PER_SEC: '1',
    SEND_CHAT_BURST: '1',
    LOG_LEVEL: 'warn',
    PORT: '0',
    BOOTSTRAP_ADMIN_IDS: '',
  };
  const children: ChildProcess[] = [];
  const startWorker = () => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), ['src/main.ts', 'worker'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  };
  const killGroup = (c: ChildProcess, sig: NodeJS.Signals) => {
    try {
      if (c.pid) process.kill(-c.pid, sig);
    } catch {
      // already gone
    }
  };

  try {
    // ---- seed: N recipients with a Telegram chat, N approved transfer nominations
    const seedStart = Date.now();
    const federation = await db.federation.create({ data: { name: '基准测试县总工会' } });
    const union = await db.union.create({ data: { name: '基准测试工会', federationId: federation.id } });
    const staff = await db.person.create({ data: { displayName: 'finance', telegramId: 6_999_999_999n } });
    const campaign = await db.campaign.create({
      data: {
        code: 'bench-2026',
        federationId: federation.id,
        titleZh: '2026年春节送温暖活动（基准测试）',
        titleEn: 'Bench',
        organiser: '基准测试县总工会',
        status: 'closed',
        budgetTotalFen: BigInt(N) * 100_000n,
        nominationOpensAt: new Date(Date.now() - 30 * 86_400_000),
        nominationClosesAt: new Date(Date.now() - 10 * 86_400_000),
        reviewDeadline: new Date(Date.now() - 5 * 86_400_000),
        targetPaymentDate: new Date('2026-02-10'),
        categories: {
          create: [
            {
              code: 'needy',
              nameZh: '困难职工',
              nameEn: 'Needy',
              kind: 'needy_worker',
              standardAmountFen: 100_000,
              benefitForms: ['transfer'],
              requiredFields: [],
            },
          ],
        },
      },
      include: { categories: true },
    });
    const card = cipher.encrypt('6228480012345678901');
    for (let i = 0; i < N; i += 1000) {
      const ids = Array.from({ length: Math.min(1000, N - i) }, (_, k) => i + k);
      await db.person.createMany({
        data: ids.map((k) => ({ telegramId: BigInt(CHAT_BASE + k), displayName: `r${k}` })),
      });
      const persons = await db.person.findMany({
        where: { telegramId: { gte: BigInt(CHAT_BASE + i), lt: BigInt(CHAT_BASE + i + ids.length) } },
        select: { id: true, telegramId: true },
      });
      await db.nomination.createMany({
        data: persons.map((p) => ({
          campaignId: campaign.id,
          categoryId: campaign.categories[0]!.id,
          unionId: union.id,
          submittedById: staff.id,
          recipientId: p.id,
          status: 'approved' as const,
          fullName: `收款人${p.telegramId}`,
          idNumberHash: `bench-${p.telegramId}`,
          benefitForm: 'transfer' as const,
          bankName: '中国农业银行',
          bankCardEnc: card,
          bankCardLast4: '8901',
          amountFen: 100_000,
        })),
      });
      for (const k of ids) emu.registerUser(CHAT_BASE + k, { firstName: `r${k}` });
    }
    const batch = await createBatch(
      { db, cipher, queues, now: () => new Date() },
      { campaignCode: campaign.code, actorId: staff.id },
    );
    const seedMs = Date.now() - seedStart;
    console.log(`seeded ${N} nominations in batch ${batch.code} (${seedMs} ms)`);

    // ---- workers up (wait until they all listen on the notifications queue)
    for (let w = 0; w < WORKERS; w++) startWorker();
    for (let i = 0; i < 600 && (await queues.get('notifications').getWorkers()).length < WORKERS; i++)
      await sleep(100);
    emu.resetStats();

    // ---- batch paid
    const t0 = Date.now();
    const paid = await markBatchPaid(
      { db, cipher, queues, now: () => new Date() },
      { batchId: batch.batchId, actorId: staff.id, letters: false },
    );
    const enqueueMs = Date.now() - t0;
    console.log(`batch paid: ${paid.noticesQueued} notices queued in ${enqueueMs} ms`);

    // ---- watch: inject 429s along the way, SIGKILL the worker once at KILL_AT, restart at once
    const injectAt = Array.from({ length: INJECT }, (_, k) => Math.floor(((k + 1) * N) / (INJECT + 1)));
    let injected = 0;
    let killedAt: number | undefined;
    let killedAtCount = 0;
    let restartedAt: number | undefined;
    let lastProgress = Date.now();
    let lastCount = 0;
    for (;;) {
      const sent = emu.outbound().length;
      if (injected < injectAt.length && sent >= injectAt[injected]!) {
        emu.inject429(1, RETRY_AFTER);
        injected++;
      }
      if (killedAt === undefined && sent >= N * KILL_AT && args.rolling) {
        // Rolling restart: the new worker first, then SIGTERM to the old one once the new one listens.
        const listening = (await queues.get('notifications').getWorkers()).length;
        startWorker();
        restartedAt = Date.now();
        while ((await queues.get('notifications').getWorkers()).length <= listening) await sleep(100);
        killedAtCount = emu.outbound().length;
        killGroup(children[0]!, 'SIGTERM');
        killedAt = Date.now();
        console.log(
          `rolling restart: new worker up after ${killedAt - restartedAt} ms, SIGTERM to worker 1 at ${killedAtCount} delivered`,
        );
        const exitCode = await new Promise<number | null>((r) =>
          children[0]!.exitCode !== null ? r(children[0]!.exitCode) : children[0]!.once('exit', (c) => r(c)),
        );
        console.log(`worker 1 exited with ${exitCode} after ${Date.now() - killedAt} ms`);
      }
      if (killedAt === undefined && sent >= N * KILL_AT) {
        killGroup(children[0]!, 'SIGKILL');
        killedAt = Date.now();
        killedAtCount = sent;
        console.log(`SIGKILL worker 1 of ${WORKERS} at ${sent} delivered`);
        if (args.restart) {
          startWorker();
          restartedAt = Date.now();
        }
      }
      if (sent !== lastCount) {
        lastCount = sent;
        lastProgress = Date.now();
      }
      const states = await db.notice.groupBy({ by: ['status'], _count: true });
      const by = Object.fromEntries(states.map((s) => [s.status, s._count])) as Record<string, number>;
      const terminal = (by['sent'] ?? 0) + (by['unreachable'] ?? 0) + (by['failed'] ?? 0);
      const sending = by['sending'] ?? 0;
      if (terminal + sending >= N && Date.now() - lastProgress > 3000) break;
      if (Date.now() - lastProgress > 90_000) {
        console.log('no progress for 90 s; stopping', by);
        break;
      }
      await sleep(100);
    }

    // ---- results
    const out = emu.outbound().filter((o) => o.method === 'sendMessage' && o.chatId >= CHAT_BASE);
    const perChat = new Map<number, number[]>();
    for (const o of out) {
      const list = perChat.get(o.chatId) ?? [];
      list.push(o.at);
      perChat.set(o.chatId, list);
    }
    const duplicates = [...perChat.values()].reduce((a, l) => a + Math.max(0, l.length - 1), 0);
    const rows = await db.notice.findMany({
      select: { id: true, status: true, attempts: true, personId: true },
      orderBy: { id: 'asc' },
    });
    const persons = new Map(
      (await db.person.findMany({ select: { id: true, telegramId: true } })).map((p) => [
        p.id,
        Number(p.telegramId),
      ]),
    );
    const delivered = (r: (typeof rows)[number]) => perChat.has(persons.get(r.personId!)!);
    const stuck = rows.filter((r) => r.status === 'sending');
    const stuckDelivered = stuck.filter(delivered).length;
    const losses = rows.filter(
      (r) => r.status !== 'sending' && !(r.status === 'sent' && delivered(r)),
    ).length;
    const sentButNoRow = rows.filter(
      (r) => r.status !== 'sent' && r.status !== 'sending' && delivered(r),
    ).length;
    const firstAt = Math.min(...out.map((o) => o.at));
    const lastAt = Math.max(...out.map((o) => o.at));
    const wallS = (lastAt - t0) / 1000;
    const activeS = (lastAt - firstAt) / 1000;
    const latFirst1000 = rows
      .slice(0, 1000)
      .map((r) => perChat.get(persons.get(r.personId!)!)?.[0])
      .filter((x): x is number => x !== undefined)
      .map((at) => at - t0)
      .sort((a, b) => a - b);
    const rateLimited = await db.noticeAttempt.count({ where: { outcome: 'rate_limited' } });
    const stats = emu.stats();
    const result = {
      date: new Date().toISOString(),
      setup: {
        notices: N,
        emulatorLimits: { globalPerSecond: EMU_LIMIT, perChatPerSecond: 1 },
        workerGlobalRatePerSec: RATE,
        workerConcurrency: CONCURRENCY,
        workers: WORKERS,
        injected429: { count: injected, retryAfterSec: RETRY_AFTER },
        ...(args.rolling
          ? {
              rolling: {
                sigtermAtDelivered: killedAtCount,
                newWorkerUpMs: (killedAt ?? 0) - (restartedAt ?? 0),
              },
            }
          : {
              sigkill: {
                atDelivered: killedAtCount,
                restarted: args.restart,
                restartDelayMs: restartedAt ? restartedAt - (killedAt ?? 0) : null,
              },
            }),
        seedMs,
        enqueueMs,
        note:
          'Delivered rate = messages accepted by the emulator / (seconds from "batch paid" to the last delivery x 30). ' +
          'Rows stuck in sending were claimed by the killed worker; they are never resent (at most once) and the ' +
          'sweeper turns them into failed-uncertain + a staff follow-up after 5 minutes.',
      },
      delivered: out.length,
      deliveredRateOfLimit: Number((out.length / (wallS * EMU_LIMIT)).toFixed(4)),
      deliveredRateOfLimitFirstToLast: Number((out.length / (activeS * EMU_LIMIT)).toFixed(4)),
      wallSeconds: Number(wallS.toFixed(1)),
      duplicates,
      losses,
      stuckInSending: {
        total: stuck.length,
        deliveredBeforeKill: stuckDelivered,
        notDelivered: stuck.length - stuckDelivered,
      },
      sentButRowNotSent: sentButNoRow,
      rateLimitedAttempts: rateLimited,
      emulator429s: stats.tooManyRequests,
      first1000: {
        n: latFirst1000.length,
        p50Ms: pct(latFirst1000, 50),
        p99Ms: pct(latFirst1000, 99),
        maxMs: latFirst1000.at(-1) ?? null,
      },
      deliveredPer10s: (() => {
        const buckets: number[] = [];
        for (const o of out) {
          const k = Math.floor((o.at - t0) / 10_000);
          buckets[k] = (buckets[k] ?? 0) + 1;
        }
        return Array.from(buckets, (x) => x ?? 0);
      })(),
      killSecondsAfterPaid: killedAt ? Number(((killedAt - t0) / 1000).toFixed(1)) : null,
      statuses: Object.fromEntries(
        ['queued', 'sending', 'sent', 'failed', 'unreachable'].map((s) => [
          s,
          rows.filter((r) => r.status === s).length,
        ]),
      ),
    };
    console.log(JSON.stringify(result, null, 2));
    const file = join(root, `bench/results/${args.rolling ? 'notices-rolling' : 'notices'}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const c of children) killGroup(c, 'SIGTERM');
    await sleep(1500);
    for (const c of children) killGroup(c, 'SIGKILL');
    await queues
      .get('notifications')
      .obliterate({ force: true })
      .catch(() => {});
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
