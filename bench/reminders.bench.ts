// Benchmark: 10,000 reminders across 2,000 recipients, scheduled by syncReminders and fired by the real
// worker through the in-process Bot API emulator; against a baseline of 10,000 no-op delayed BullMQ jobs
// with the same due times on the same Redis, in the same run.
//
//   npm run bench:reminders            (needs the local PostgreSQL and Redis, like the integration tests)
//
// Emulator rate limits are DISABLED here (perChatPerSecond 0, globalPerSecond 0): the firing delay measures
// this system (queue + claim + relevance queries + HTTP send), not Telegram's ~30 msg/s cap. With Telegram's
// cap the 10,000 messages take at least 10,000 / 30 ≈ 333 s to leave whatever the design.
import { REDIS_URL, sleep, startBenchApp, summarize } from './support.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { workerConnection } from '../src/adapters/queue/queues.ts';
import { syncReminders } from '../src/usecases/reminders.ts';

const RECIPIENTS = 2_000;
const CAMPAIGNS = 5; // 5 reminders per recipient → 10,000
const UNIONS = 400;
const CONCURRENCY = Number(process.env['WORKER_CONCURRENCY'] ?? 10);
const LEAD_MS = 20_000; // due times start this long after scheduling begins
const STEP_MS = 2_000; // campaign i is due at start + i × STEP (bursts of 2,000)
const TOTAL = RECIPIENTS * CAMPAIGNS;
const stats = summarize;

async function baseline(prefix: string) {
  const name = 'bench-baseline';
  const queue = new Queue(name, { connection: workerConnection(REDIS_URL), prefix });
  const delays: number[] = [];
  const worker = new Worker(
    name,
    async (job) => {
      delays.push(Date.now() - (job.data as { due: number }).due);
    },
    { connection: workerConnection(REDIS_URL), prefix, concurrency: CONCURRENCY },
  );
  const start = Date.now();
  const base = start + LEAD_MS;
  const jobs = Array.from({ length: TOTAL }, (_, i) => {
    const due = base + Math.floor(i / RECIPIENTS) * STEP_MS;
    return {
      name: 'noop',
      data: { due },
      opts: { jobId: `noop-${i}`, delay: due - Date.now(), removeOnComplete: true },
    };
  });
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  const scheduleMs = Date.now() - start;
  while (delays.length < TOTAL && Date.now() < base + 300_000) await sleep(200);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    scheduled: TOTAL,
    scheduleMs,
    perSecond: Math.round(TOTAL / (scheduleMs / 1000)),
    delay: stats(delays),
  };
}

async function main() {
  const { emu, tdb, app, prefix, token } = await startBenchApp({ workerConcurrency: CONCURRENCY });
  const bot = emu.bot(Number(token.split(':')[0]));
  const db = app.db;
  try {
    // ---- data: 400 unions × 5 contacts, each of whom pressed Start
    const fed = await db.federation.create({ data: { name: '基准测试总工会' } });
    await db.union.createMany({
      data: Array.from({ length: UNIONS }, (_, i) => ({ federationId: fed.id, name: `基准工会${i + 1}` })),
    });
    const unions = await db.union.findMany({ orderBy: { id: 'asc' }, select: { id: true } });
    const firstTg = 9_100_000;
    await db.person.createMany({
      data: Array.from({ length: RECIPIENTS }, (_, i) => ({
        telegramId: BigInt(firstTg + i),
        displayName: `联系人${i + 1}`,
        telegramLanguage: 'zh-hans',
      })),
    });
    const people = await db.person.findMany({
      orderBy: { id: 'asc' },
      select: { id: true, telegramId: true },
    });
    await db.roleGrant.createMany({
      data: people.map((p, i) => {
        const unionId = unions[i % UNIONS]!.id;
        return { personId: p.id, role: 'contact' as const, scope: `union:${unionId}`, unionId };
      }),
    });
    for (const p of people)
      bot.registerUser(Number(p.telegramId), { firstName: 'bench', languageCode: 'zh-hans' });

    // ---- baseline first (quiet system)
    const base = await baseline(prefix);
    console.log('baseline (no-op delayed jobs):', JSON.stringify(base));

    // ---- reminders: one '2h before close' per contact per campaign, due in bursts of 2,000
    const start = Date.now();
    const dueOf: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < CAMPAIGNS; i++) {
      const due = start + LEAD_MS + i * STEP_MS;
      dueOf.push(due);
      const c = await db.campaign.create({
        data: {
          code: `bench-${i}`,
          federationId: fed.id,
          titleZh: `基准活动${i}`,
          titleEn: `Bench campaign ${i}`,
          organiser: '基准测试总工会',
          status: 'open',
          budgetTotalFen: 1_000_000n,
          nominationOpensAt: new Date(start - 86_400_000),
          nominationClosesAt: new Date(due + 2 * 3_600_000),
          reviewDeadline: new Date(due + 10 * 86_400_000),
          targetPaymentDate: new Date(due + 20 * 86_400_000),
          // Urgent: the bench may run at night (quiet hours would move everything to 08:00).
          settings: { reminders: { beforeClose: ['2h'], urgent: ['close'] } },
        },
      });
      ids.push(c.id);
    }
    const t0 = performance.now();
    let scheduled = 0;
    for (const id of ids)
      scheduled += (await syncReminders(db, app.queues, { campaignId: id, now: new Date() })).created;
    const scheduleMs = performance.now() - t0;
    console.log(`scheduled ${scheduled} reminders in ${scheduleMs.toFixed(0)} ms`);
    if (Date.now() > start + LEAD_MS) console.warn('WARNING: scheduling took longer than the lead time');

    const deadline = start + LEAD_MS + 300_000;
    let sent = 0;
    while (Date.now() < deadline) {
      sent = await db.reminder.count({ where: { status: 'sent' } });
      if (sent >= TOTAL) break;
      await sleep(500);
    }
    await sleep(1_000); // let the last sends land in the emulator

    // ---- what arrived, from the emulator's transcripts
    const delays: number[] = [];
    let duplicates = 0;
    let missing = 0;
    let messages = 0;
    for (const p of people) {
      const perCampaign = new Map<number, number[]>();
      for (const e of bot.transcript(Number(p.telegramId))) {
        const m = e.from === 'bot' ? /基准活动(\d+)/.exec(e.text ?? '') : null;
        if (!m) continue;
        messages++;
        const i = Number(m[1]);
        perCampaign.set(i, [...(perCampaign.get(i) ?? []), e.at]);
      }
      for (let i = 0; i < CAMPAIGNS; i++) {
        const ats = perCampaign.get(i) ?? [];
        if (ats.length === 0) missing++;
        else delays.push(ats[0]! - dueOf[i]!);
        duplicates += Math.max(0, ats.length - 1);
      }
    }
    const result = {
      date: new Date().toISOString(),
      setup: {
        reminders: TOTAL,
        recipients: RECIPIENTS,
        campaigns: CAMPAIGNS,
        workerConcurrency: CONCURRENCY,
        dueDistribution: `${CAMPAIGNS} bursts of ${RECIPIENTS}, ${STEP_MS} ms apart`,
        emulatorLimits: 'disabled (perChatPerSecond 0, globalPerSecond 0)',
        note:
          'Firing delay = emulator receive time - due time, limits off: throughput of queue + DB claim + ' +
          'relevance queries + HTTP send. With Telegram limits (~30 msg/s) 10,000 messages need >= 333 s.',
      },
      reminders: {
        scheduleMs: Math.round(scheduleMs),
        schedulingPerSecond: Math.round(scheduled / (scheduleMs / 1000)),
        sentRows: sent,
        messages,
        missing,
        duplicates,
        firingDelay: stats(delays),
      },
      baseline: base,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'reminders.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written to ${out}`);
    if (duplicates > 0 || missing > 0) process.exitCode = 1;
  } finally {
    await app.queues
      .get('reminders')
      .obliterate({ force: true })
      .catch(() => {});
    await app.stop();
    await emu.close();
    await tdb.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
