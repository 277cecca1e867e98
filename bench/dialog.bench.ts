// Benchmark: N simulated people (default 200) each doing a complete nomination dialog at the same time,
// against the emulator enforcing Telegram's limits (1 message/s per chat with a burst of 3, 30/s for
// the bot). Reports replies lost (must be 0), refusals, and p50/p95 of the time from a person's update
// to the bot's reply. Baseline in the same run, same limits: a bare telegraf bot answering every update
// with one message (no pacing, no retry), and the same bare bot with a minimal wait-retry_after-and-retry.
//
//   npm run bench:dialog -- [--people 200] [--step-timeout-ms 120000]
//   npm run bench:dialog-answers     (= --people 100 --limits off --out dialog-answers, issue 13: the
//                                     bot's own time per answer, Telegram's caps taken out)
//
// Writes bench/results/dialog.json (or <out>.json).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Telegraf } from 'telegraf';
import { classifyTelegramError } from '../src/adapters/telegram/errors.ts';
import { DEFAULT_LIMITS } from '../src/emulator/rate-limit.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { conversation, type Person } from '../test/support/conversation.ts';
import { makeId, seedCampaign, seedContact } from '../test/support/fixtures.ts';
import { APOLOGY, completeNomination, nameFor, REFUSAL } from '../test/support/nomination-driver.ts';
import { sleep, startBenchApp, summarize, writeResult } from './support.ts';

const { values: args } = parseArgs({
  options: {
    people: { type: 'string', default: '200' },
    'step-timeout-ms': { type: 'string', default: '120000' },
    /** off: emulator limits off and the app unpaced (measures the bot, not Telegram's caps). */
    limits: { type: 'string', default: 'on' },
    out: { type: 'string', default: 'dialog' },
  },
});
const N = Number(args.people);
const STEP_TIMEOUT = Number(args['step-timeout-ms']);
const LIMITS_ON = args.limits !== 'off';
const LIMITS = LIMITS_ON
  ? { ...DEFAULT_LIMITS }
  : { perChatPerSecond: 0, perChatBurst: 1, globalPerSecond: 0 };
const token = (tag: string) =>
  `${700000 + Math.floor(Math.random() * 99999)}:${tag}${randomBytes(12).toString('hex')}`;

async function ourBot() {
  const { emu, tdb, app } = await startBenchApp({ limits: LIMITS, role: 'bot' });
  try {
    await seedCampaign(app.db, {
      budgetYuan: 10_000_000,
      categories: [
        { code: 'gig', kind: 'gig_worker', nameZh: '新就业形态劳动者', amountYuan: 200, forms: ['in_kind'] },
      ],
    });
    const conv = conversation(emu, { timeoutMs: STEP_TIMEOUT });
    const people: Person[] = [];
    for (let i = 0; i < N; i++) {
      await seedContact(app.db, 600_000 + i, `基准工会${i}`, `联系人${i}`);
      people.push(conv.user(600_000 + i, { firstName: `联系人${i}`, languageCode: 'zh-hans' }));
    }
    emu.resetStats();
    const started = Date.now();
    const steps: number[] = [];
    const byStage = new Map<string, number[]>();
    let lost = 0;
    await Promise.all(
      people.map(async (u, i) => {
        try {
          const t = await completeNomination(
            u,
            {
              category: /新就业形态劳动者/,
              name: nameFor(i),
              idNumber: makeId('19900101', (i % 999) + 1, i < 999 ? '110105' : '110106'),
              phone: `139${String(i).padStart(8, '0')}`,
              employer: '某外卖平台富民站',
              description: '春节期间坚持配送。',
            },
            { timeoutMs: STEP_TIMEOUT },
          );
          steps.push(...t.map((s) => s.ms));
          for (const s of t) byStage.set(s.stage, [...(byStage.get(s.stage) ?? []), s.ms]);
        } catch (err) {
          lost++;
          console.error(`person ${i}: ${String(err).slice(0, 300)}`);
        }
      }),
    );
    const wallMs = Date.now() - started;
    let refusals = 0;
    for (const u of people)
      refusals += (await u.messages()).filter(
        (m) => REFUSAL.test(m.text ?? '') || APOLOGY.test(m.text ?? ''),
      ).length;
    const submitted = await app.db.nomination.count({ where: { status: 'submitted' } });
    const stats = emu.stats();
    return {
      people: N,
      completed: N - lost,
      submitted,
      repliesLost: lost,
      refusalsOrApologies: refusals,
      perStep: summarize(steps),
      perStage: Object.fromEntries([...byStage].map(([k, v]) => [k, summarize(v)])),
      wallSeconds: Number((wallMs / 1000).toFixed(1)),
      botMessagesAccepted: stats.totalSent,
      emulator429s: stats.tooManyRequests,
      /** Bot API calls by method (getUpdates: how often the bot asked for updates). */
      callsPerMethod: stats.callsPerMethod,
      sendsPerSecond: Number((stats.totalSent / (wallMs / 1000)).toFixed(1)),
      outbound429Metric: app.metrics.get('warmth_outbound_429_total', { profile: 'interactive' }),
      gaveUp: app.metrics.get('warmth_outbound_gave_up_total', {
        profile: 'interactive',
        reason: 'rate_limited',
      }),
    };
  } finally {
    await app.stop();
    await emu.close();
    await tdb.drop();
  }
}

/** A bare telegraf bot: one reply per update. `retry`: wait retry_after and try again on 429. */
async function bareBot(stepsPerPerson: number, retry: boolean) {
  const emu = await startEmulator({ port: 0, limits: LIMITS });
  const bot = new Telegraf(token('BARE'), { telegram: { apiRoot: emu.apiRoot, webhookReply: false } });
  let failed = 0;
  bot.on('message', async (ctx) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await ctx.reply('好的');
        return;
      } catch (err) {
        const f = classifyTelegramError(err);
        if (!retry || f.kind !== 'rate_limited' || attempt >= 10) {
          failed++;
          return;
        }
        await sleep(f.retryAfterMs);
      }
    }
  });
  void bot.launch({ dropPendingUpdates: true });
  await sleep(500);
  try {
    const conv = conversation(emu, { timeoutMs: 15_000 });
    const people = Array.from({ length: N }, (_, i) =>
      conv.user(500_000 + i, { firstName: `p${i}`, languageCode: 'zh-hans' }),
    );
    emu.resetStats();
    const started = Date.now();
    const steps: number[] = [];
    let lost = 0;
    await Promise.all(
      people.map(async (u, i) => {
        for (let s = 0; s < stepsPerPerson; s++) {
          const t0 = Date.now();
          await u.send(`第${s}步 ${i}`);
          try {
            const m = await u.expectReply(undefined, { timeoutMs: 15_000 });
            steps.push(m.sentAt - t0);
          } catch {
            lost++;
          }
        }
      }),
    );
    const wallMs = Date.now() - started;
    const stats = emu.stats();
    return {
      people: N,
      updates: N * stepsPerPerson,
      repliesLost: lost,
      sendFailures: failed,
      perStep: summarize(steps),
      wallSeconds: Number((wallMs / 1000).toFixed(1)),
      emulator429s: stats.tooManyRequests,
    };
  } finally {
    bot.stop('bench done');
    await emu.close();
  }
}

async function main() {
  console.log(`dialog bench: ${N} people, limits ${JSON.stringify(LIMITS)}`);
  const ours = await ourBot();
  console.log('warmth-bot:', JSON.stringify(ours));
  const stepsPerPerson = Math.max(1, Math.round((ours.perStep.n || N * 9) / Math.max(1, ours.completed)));
  const bare = await bareBot(stepsPerPerson, false);
  console.log('bare telegraf:', JSON.stringify(bare));
  // Without limits there is no 429 to retry: the retrying bare bot would be the same bot.
  const bareRetry = LIMITS_ON ? await bareBot(stepsPerPerson, true) : undefined;
  if (bareRetry) console.log('bare telegraf + retry:', JSON.stringify(bareRetry));
  const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
  const result = {
    date: new Date().toISOString(),
    setup: {
      people: N,
      emulatorLimits: LIMITS,
      stepsPerPersonForBaselines: stepsPerPerson,
      machine: '2 shared cores (noisy: other suites may run); one run',
      note:
        'per-step time = from the person sending an update (or pressing) to the emulator accepting the matching reply. ' +
        'The bare bot without retry loses every reply the emulator refuses with 429; its latency counts delivered replies only.',
    },
    warmthBot: ours,
    bareTelegraf: bare,
    p95RatioToBare: ratio(ours.perStep.p95Ms, bare.perStep.p95Ms),
    ...(bareRetry
      ? {
          bareTelegrafWithRetry: bareRetry,
          p95RatioToBareWithRetry: ratio(ours.perStep.p95Ms, bareRetry.perStep.p95Ms),
          p50RatioToBareWithRetry: ratio(ours.perStep.medianMs, bareRetry.perStep.medianMs),
        }
      : {
          // Issue 13's figure: per answer, the bot against a no-op bot in the same run.
          medianMs: ours.perStep.medianMs,
          p95Ms: ours.perStep.p95Ms,
          baseline: {
            what: 'no-op telegraf bot, one reply per update',
            medianMs: bare.perStep.medianMs,
            p95Ms: bare.perStep.p95Ms,
          },
          medianRatio: ratio(ours.perStep.medianMs, bare.perStep.medianMs),
          p95Ratio: ratio(ours.perStep.p95Ms, bare.perStep.p95Ms),
          target: { medianRatio: 2, p95Ratio: 2 },
          pass:
            ours.repliesLost === 0 &&
            ours.perStep.medianMs <= 2 * bare.perStep.medianMs &&
            ours.perStep.p95Ms <= 2 * bare.perStep.p95Ms,
        }),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${writeResult(args.out ?? 'dialog', result)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
