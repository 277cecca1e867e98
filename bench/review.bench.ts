// Benchmark: review decisions through the real path — a reviewer's button press goes over HTTP to the
// emulator, the bot (polling) records the decision (guarded update + ReviewDecision + audit row in one
// transaction), queues the contact's notice and edits the card; the worker sends the notice. 5 reviewers
// work 2,000 submitted nominations concurrently (/review → Approve → Next → …).
// Baseline in the same run: a trivial Telegraf bot on the same emulator that answers the callback query
// and edits the message (no database, no queue), pressed the same way by 5 users.
//
//   npm run bench:review        (needs the local PostgreSQL and Redis, like the integration tests)
//
// Emulator rate limits are DISABLED (perChatPerSecond 0, globalPerSecond 0): the figures measure this
// system, not Telegram's caps. The notices still go through the app's own per-chat pacing (1/s per chat),
// so the 2,000 nominations belong to 400 contacts (5 each).
import { noopReviewBot } from './noop-bot.ts';
import { processCpuMs, sleep, startBenchApp, startBenchProcesses, summarize } from './support.ts';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmulatorClient, type UserHandle } from '../src/emulator/client.ts';
import type { startEmulator } from '../src/emulator/index.ts';
import { makeId } from '../test/support/fixtures.ts';

const NOMINATIONS = Number(process.env['NOMINATIONS'] ?? 2_000);
const REVIEWERS = Number(process.env['REVIEWERS'] ?? 5); // REVIEWERS=1: one press at a time (no queueing)
// BOT_PROCESS=1: our bot and the no-op bot each in a process of their own, as deployed, instead of in
// this process beside the emulator and the pressing users (whose CPU then no longer delays the bot's
// presses, as Telegram's servers do not). Statement counts need the bot here: null in that mode.
const BOT_PROCESS = process.env['BOT_PROCESS'] === '1';

/** The no-op bot in a process of its own (bench/noop-bot.ts); resolves once it polls. */
async function noopProcess(token: string, apiRoot: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'noop-bot.ts'), 'review'],
    {
      env: { ...process.env, NOOP_TOKEN: token, NOOP_API_ROOT: apiRoot },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('noop ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`no-op bot exited ${code}`)));
  });
  return {
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
const CONTACTS = 400;
const BASELINE_PRESSES = 2_000;
const stats = summarize;

/** Presses a button of `messageId` and waits for the bot's edit of a message; returns latency (ms). */
async function pressAndWait(u: UserHandle, messageId: number, data: string) {
  const t0 = performance.now();
  await u.pressButton({ messageId, data });
  // The card is edited thousands of times: only its latest edit comes back with each wait.
  const m = await u.waitForChange({
    since: u.lastActionSeq,
    editsOnly: true,
    latestEditOnly: true,
    timeoutMs: 60_000,
  });
  return { ms: performance.now() - t0, message: m };
}

/** User + system CPU of this process (bot, emulator and the pressing users share it), in ms. */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/**
 * Prints a phase's bounds on the clock of a `node --cpu-prof` profile (µs, monotonic) to stderr, for
 * reading that window of the profile: call at the start, call the result at the end.
 */
function profileMark(phase: string) {
  const us = () => Number(process.hrtime.bigint() / 1000n);
  const from = us();
  return () => console.error(`profile window ${phase}: ${from} ${us()}`);
}

const buttonData = (m: { buttons: { text: string; callbackData?: string }[] }, text: string) =>
  m.buttons.find((b) => b.text === text)?.callbackData;

async function baseline(emu: Awaited<ReturnType<typeof startEmulator>>) {
  const token = `${800000 + Math.floor(Math.random() * 99999)}:NOOP${randomBytes(12).toString('hex')}`;
  const separate = BOT_PROCESS ? await noopProcess(token, emu.apiRoot) : undefined;
  const bot = separate ? undefined : noopReviewBot(token, emu.apiRoot);
  if (bot) {
    void bot.launch({ dropPendingUpdates: true });
    await sleep(300);
  }
  const client = new EmulatorClient(emu.url, { bot: Number(token.split(':')[0]) });
  const latencies: number[] = [];
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const noopCpu0 = separate ? processCpuMs(separate.pid) : 0;
  const win = profileMark('baseline');
  await Promise.all(
    Array.from({ length: REVIEWERS }, async (_, i) => {
      const u = client.user(6_000_000 + i, { firstName: `noop${i}` });
      await u.sendText('/start');
      let card = await u.waitForMessage({ match: /card/ });
      for (let k = 0; k < BASELINE_PRESSES / REVIEWERS; k++) {
        const r = await pressAndWait(u, card.messageId, buttonData(card, 'go')!);
        latencies.push(r.ms);
        card = r.message;
      }
    }),
  );
  const wallMs = performance.now() - start;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  const noopCpu = separate ? processCpuMs(separate.pid) - noopCpu0 : undefined;
  win();
  bot?.stop('bench done');
  await separate?.stop();
  return {
    presses: latencies.length,
    wallMs: Math.round(wallMs),
    pressesPerSecond: Math.round((latencies.length / wallMs) * 1000),
    latency: stats(latencies),
    cpuMsPerPress: Math.round((cpu / latencies.length) * 100) / 100,
    // BOT_PROCESS=1: the no-op bot's own process, per press.
    botCpuMsPerPress: noopCpu === undefined ? null : Math.round((noopCpu / latencies.length) * 100) / 100,
  };
}

async function main() {
  // The bot here, the worker (which sends the contacts' notices) in a process of its own, as deployed
  // (docker-compose: bot and worker services).
  // Statements per press, by kind: the approve press is the update that inserted the decision.
  const statements = { approve: [] as number[], next: [] as number[] };
  let counting = false;
  const { emu, tdb, app, token, botPid } = BOT_PROCESS
    ? await startBenchProcesses()
    : await startBenchApp({
        role: 'bot+worker process',
        onUpdateQueries: (u) => {
          if (!counting || u.updateType !== 'callback_query') return;
          const approve = u.statements.some((q) => /INSERT INTO review_decision/.test(q));
          (approve ? statements.approve : statements.next).push(u.statements.length);
        },
      });
  const db = app.db;
  try {
    // ---- seed: one campaign, 400 contacts (one union each), 2,000 submitted nominations, 5 reviewers
    const fed = await db.federation.create({ data: { name: '富民县总工会' } });
    const now = Date.now();
    const c = await db.campaign.create({
      data: {
        code: 'bench-review',
        federationId: fed.id,
        titleZh: '2026年春节送温暖活动',
        titleEn: 'Spring Festival 2026 Send Warmth',
        organiser: '富民县总工会',
        status: 'open',
        budgetTotalFen: 100_000_000n,
        nominationOpensAt: new Date(now - 86_400_000),
        nominationClosesAt: new Date(now + 86_400_000),
        reviewDeadline: new Date(now + 5 * 86_400_000),
        targetPaymentDate: new Date(new Date(now + 10 * 86_400_000).toISOString().slice(0, 10)),
        settings: { reviewSlaHours: 48, fourEyes: { aboveAmountFen: null, flagged: true } },
        categories: {
          create: [
            {
              code: 'frontline',
              nameZh: '一线职工',
              nameEn: 'Frontline workers',
              kind: 'frontline_worker',
              standardAmountFen: 15_000,
              benefitForms: ['in_kind'],
              requiredFields: ['name', 'id_number', 'phone', 'employer'],
            },
          ],
        },
      },
      include: { categories: true },
    });
    const categoryId = c.categories[0]!.id;
    const contacts: { personId: number; unionId: number }[] = [];
    for (let i = 0; i < CONTACTS; i++) {
      const u = await db.union.create({ data: { federationId: fed.id, name: `基层工会${i}` } });
      const p = await db.person.create({
        data: { telegramId: BigInt(5_000_000 + i), displayName: `联系人${i}` },
      });
      await db.roleGrant.create({
        data: { personId: p.id, role: 'contact', scope: `union:${u.id}`, unionId: u.id },
      });
      contacts.push({ personId: p.id, unionId: u.id });
    }
    const rows = Array.from({ length: NOMINATIONS }, (_, i) => {
      const id = makeId('19800101', (i % 900) + 1, String(110101 + Math.floor(i / 900)));
      const phone = `139${String(10_000_000 + i).slice(-8)}`;
      const who = contacts[i % CONTACTS]!;
      const hash = app.cipher.hash('id', id);
      return {
        campaignId: c.id,
        categoryId,
        unionId: who.unionId,
        submittedById: who.personId,
        status: 'submitted' as const,
        revision: 1,
        version: 1,
        fullName: `职工${i}`,
        idNumberEnc: app.cipher.encrypt(id),
        idNumberHash: hash,
        dedupKey: `${c.id}:${hash}`,
        phoneEnc: app.cipher.encrypt(phone),
        phoneHash: app.cipher.hash('phone', phone),
        employer: '县环卫所',
        benefitForm: 'in_kind' as const,
        amountFen: 15_000,
        submittedAt: new Date(now - 3_600_000 + i),
        draftAnswered: ['category', 'name', 'id_number', 'phone', 'employer'],
      };
    });
    for (let i = 0; i < rows.length; i += 500)
      await db.nomination.createMany({ data: rows.slice(i, i + 500) });
    const ids = await db.nomination.findMany({
      select: { id: true, submittedById: true, idNumberEnc: true, phoneEnc: true, fullName: true },
    });
    await db.nominationRevision.createMany({
      data: ids.map((n) => ({
        nominationId: n.id,
        revision: 1,
        createdById: n.submittedById,
        snapshot: {
          categoryId,
          fullName: n.fullName,
          idNumberEnc: n.idNumberEnc,
          phoneEnc: n.phoneEnc,
          amountFen: 15_000,
        },
      })),
    });
    for (let i = 0; i < REVIEWERS; i++) {
      const p = await db.person.create({
        data: { telegramId: BigInt(4_000_000 + i), displayName: `审核员${i}` },
      });
      await db.roleGrant.create({ data: { personId: p.id, role: 'reviewer', scope: '' } });
    }

    // ---- review: 5 reviewers, /review → Approve → Next → … until nothing is waiting
    const client = new EmulatorClient(emu.url, { bot: Number(token.split(':')[0]) });
    // Contacts have opened the bot before (a bot cannot message someone who never pressed Start).
    for (let i = 0; i < CONTACTS; i++)
      await client.user(5_000_000 + i, { firstName: `联系人${i}` }).register();
    const approveMs: number[] = [];
    const nextMs: number[] = [];
    let conflicts = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const botCpu0 = botPid ? processCpuMs(botPid) : 0;
    const win = profileMark('review');
    counting = true;
    await Promise.all(
      Array.from({ length: REVIEWERS }, async (_, i) => {
        const u = client.user(4_000_000 + i, { firstName: `审核员${i}`, languageCode: 'zh-hans' });
        await u.sendText('/review');
        let card = await u.waitForMessage({ match: /申报 #\d+|没有待您审核/, timeoutMs: 60_000 });
        for (;;) {
          const ok = buttonData(card, '✅ 通过');
          if (!ok) break; // "nothing waiting"
          const a = await pressAndWait(u, card.messageId, ok);
          approveMs.push(a.ms);
          if (!/已审核通过/.test(a.message.text ?? '')) conflicts++;
          const next = await pressAndWait(u, card.messageId, buttonData(a.message, '审核下一条 ▶')!);
          nextMs.push(next.ms);
          card = next.message;
        }
      }),
    );
    const decidedMs = performance.now() - start;
    const reviewCpuMs = cpuMs(process.cpuUsage(cpu0));
    const botCpuMs = botPid ? processCpuMs(botPid) - botCpu0 : undefined;
    win();
    counting = false;
    const mean = (xs: number[]) =>
      Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 100) / 100;
    const decided = await db.reviewDecision.count();
    // ---- contacts notified (notices through the worker, paced 1/s per contact chat)
    for (;;) {
      const sent = await db.notice.count({ where: { kind: 'decision', status: 'sent' } });
      if (sent >= decided || performance.now() - start > 600_000) break;
      await sleep(200);
    }
    const notifiedMs = performance.now() - start;
    const notices = await db.notice.count({ where: { kind: 'decision', status: 'sent' } });
    const base = await baseline(emu);

    const result = {
      when: new Date().toISOString(),
      machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
      setup: {
        nominations: NOMINATIONS,
        reviewers: REVIEWERS,
        contacts: CONTACTS,
        emulatorRateLimits: 'off (perChatPerSecond 0, globalPerSecond 0)',
        botProcess: BOT_PROCESS
          ? 'our bot and the no-op bot each in a process of their own (BOT_PROCESS=1)'
          : 'our bot and the no-op bot in the bench process, beside the emulator and the pressing users',
        appNoticePacing: '1 message/s per chat (SendSlots, the outbound path)',
        path: 'press over HTTP → emulator → bot (polling) → guarded update + decision + audit → card edited (notice queued alongside); the worker, a process of its own as deployed, sends the notice',
      },
      review: {
        decisions: decided,
        staleOrTakenPresses: conflicts,
        wallMs: Math.round(decidedMs),
        decisionsPerSecond: Math.round((decided / decidedMs) * 1000 * 10) / 10,
        approvePressLatency: stats(approveMs),
        nextPressLatency: stats(nextMs),
        // This process's CPU per decision (an approve press and a Next press, with the emulator's and
        // the pressing users' share; the worker runs in a process of its own); against twice
        // baselineNoopBot.cpuMsPerPress it leaves the bot's own cost of the two presses.
        // SQL statements per press (mean; the query budget of test/e2e/query-budget.test.ts).
        statementsPerApprovePress: BOT_PROCESS ? null : mean(statements.approve),
        statementsPerNextPress: BOT_PROCESS ? null : mean(statements.next),
        // BOT_PROCESS=1: the bot's own process per decision (an approve and a Next press), against
        // twice baselineNoopBot.botCpuMsPerPress.
        botCpuMsPerDecision:
          botCpuMs === undefined ? null : Math.round((botCpuMs / Math.max(1, approveMs.length)) * 100) / 100,
        cpuMsPerDecision: Math.round((reviewCpuMs / Math.max(1, approveMs.length)) * 100) / 100,
        allNotifiedMs: Math.round(notifiedMs),
        noticesSent: notices,
      },
      baselineNoopBot: base,
      // Issue 13's figure, stable field names: the approve press (press → decision recorded → card
      // edited) against the no-op bot's press in the same run.
      medianMs: stats(approveMs).medianMs,
      p95Ms: stats(approveMs).p95Ms,
      baseline: {
        what: 'no-op telegraf bot: answer the callback, edit the message',
        medianMs: base.latency.medianMs,
        p95Ms: base.latency.p95Ms,
      },
      medianRatio: Math.round((stats(approveMs).medianMs / base.latency.medianMs) * 100) / 100,
      p95Ratio: Math.round((stats(approveMs).p95Ms / base.latency.p95Ms) * 100) / 100,
      target: { medianRatio: 2, p95Ratio: 2, p95Ms: 50 },
      pass:
        stats(approveMs).medianMs <= 2 * base.latency.medianMs &&
        stats(approveMs).p95Ms <= 2 * base.latency.p95Ms &&
        stats(approveMs).p95Ms <= 50,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'review.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await app.stop();
    await emu.close();
    await tdb.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
