// Benchmark: a contact uploads a 10,000-row nomination list in the chat and submits it, against the bot
// and the worker as the image runs them (`node --enable-source-maps dist/main.js bot` and `… worker`,
// built first; the worker runs the submit, a staff job) on the emulator (rate
// limits off: the figures measure this system). Timed from the document sent to the summary message
// ("检查完毕…", after the checked file), and from the submit press to the edit "已提交…"; the bot
// process's RSS (and its upload child's) sampled every 10 ms from /proc while the file is checked,
// against the same process idle just before (after a 5-row warm-up upload, as in a bot that has served
// uploads). Baseline in the same run: a no-op telegraf bot on the same emulator that receives the same
// document, downloads it and replies (the Bot API's share of the time). Each run: a fresh database, a
// fresh bot process. `--tsx` adds runs of `node --import tsx src/main.ts bot|worker` (the sandbox's way).
//
//   npm run bench:import-chat -- [--runs 3] [--rows 10000] [--tsx]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Telegraf } from 'telegraf';
import { columnsFor } from '../src/domain/nomination/columns.ts';
import { EmulatorClient } from '../src/emulator/client.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import { REDIS_URL } from '../test/support/harness.ts';
import { generateXlsx, seedImportCampaign, sheetCategory } from './import-fixtures.ts';
import { processCpuMs, sleep } from './support.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rows: { type: 'string', default: '10000' },
    tsx: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const ROWS = Number(args.rows);
const TARGET_ROWS_PER_S = 10_000;
const TARGET_PEAK_MB = 200;
const TARGET_SUBMIT_MS = 2_000;
const CONTACT = 5_100_001;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const LIMITS_OFF = { perChatPerSecond: 0, perChatBurst: 1, globalPerSecond: 0 };

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // ended
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (list) out.push(...list.split(' ').map(Number));
    }
  } catch {
    // ended
  }
  return out;
}

/** Samples the RSS of `pid` and of its children every 10 ms until stopped; returns the peaks (MB). */
function sampleRss(pid: number) {
  let peak = rssMb(pid);
  let childPeak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
    for (const c of childPids(pid)) childPeak = Math.max(childPeak, rssMb(c));
  }, 10);
  return () => {
    clearInterval(timer);
    return { peakMb: Math.max(peak, rssMb(pid)), childPeakMb: childPeak };
  };
}

async function startProcess(
  mode: 'built' | 'tsx',
  role: 'bot' | 'worker',
  env: Record<string, string>,
): Promise<ChildProcess> {
  const entry =
    mode === 'built'
      ? ['--enable-source-maps', join(root, 'dist', 'main.js')]
      : ['--import', 'tsx', join(root, 'src', 'main.ts')];
  const child = spawn(process.execPath, [...entry, role], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start:\n${out.slice(-2000)}`)), 120_000);
    const seen = (d: Buffer) => {
      out += String(d);
      if (out.includes('warmth-bot started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`${role} exited (${code}):\n${out.slice(-2000)}`)));
  });
  return child;
}

interface RunResult {
  mode: 'built' | 'tsx';
  ms: number;
  submitMs: number;
  rssBeforeMb: number;
  peakRssMb: number;
  childPeakRssMb: number;
  cpuMs: number;
  baselineMs: number;
}

async function oneRun(mode: 'built' | 'tsx', file: Buffer, warmFile: Buffer): Promise<RunResult> {
  const emu = await startEmulator({ port: 0, limits: LIMITS_OFF });
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url);
  const processes: ChildProcess[] = [];
  try {
    await seedImportCampaign(db as never, { now: new Date(), telegramId: BigInt(CONTACT) });
    const token = `${710000 + Math.floor(Math.random() * 99999)}:IMPORT${randomBytes(12).toString('hex')}`;
    const env = {
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: tdb.url,
      REDIS_URL,
      QUEUE_PREFIX: `bench-import-chat-${randomBytes(4).toString('hex')}`,
      DATA_KEY: randomBytes(32).toString('base64'),
      SMS_PROVIDER: 'log',
      LOG_LEVEL: 'info', // the start line ("warmth-bot started") is at info
      PORT: '0',
      SEND_RATE_PER_SEC: '0',
      SEND_CHAT_RATE_PER_SEC: '0',
    };
    // As deployed: the bot, and the worker that runs the submit (a staff job).
    const bot = await startProcess(mode, 'bot', env);
    processes.push(bot);
    processes.push(await startProcess(mode, 'worker', env));
    const pid = bot.pid!;
    const client = new EmulatorClient(emu.url, { bot: Number(token.split(':')[0]) });
    const u = client.user(CONTACT, { firstName: '联系人' });
    // Warm-up: a greeting and a 5-row upload, cancelled (the spare upload child boots after it).
    await u.sendText('/start');
    await u.waitForMessage({ timeoutMs: 60_000 });
    await u.sendDocument({ fileName: '试填.xlsx', bytes: warmFile });
    await u.waitForMessage({ match: /检查完毕/, timeoutMs: 60_000 });
    await u.pressButton('取消');
    await sleep(6_000);

    const rssBeforeMb = rssMb(pid);
    const cpu0 = processCpuMs(pid);
    const stop = sampleRss(pid);
    const t0 = performance.now();
    await u.sendDocument({ fileName: '申报名单.xlsx', bytes: file });
    const summary = await u.waitForMessage({ match: /检查完毕/, timeoutMs: 300_000 });
    const ms = performance.now() - t0;
    const { peakMb, childPeakMb } = stop();
    const used = processCpuMs(pid) - cpu0;
    if (!new RegExp(`共 ${ROWS} 行，其中 ${ROWS} 行有效`).test(summary.text ?? ''))
      throw new Error(`unexpected summary: ${summary.text?.slice(0, 300)}`);

    const t1 = performance.now();
    const pressed = await u.pressButton(new RegExp(`提交 ${ROWS} 条`));
    await u.waitForChange({ since: pressed.chatSeq, match: /已提交/, timeoutMs: 300_000 });
    const submitMs = performance.now() - t1;
    const submitted = await db.nomination.count({ where: { status: 'submitted', source: 'upload' } });
    if (submitted !== ROWS) throw new Error(`submitted ${submitted}`);

    const baselineMs = await noopBaseline(emu, file);
    return {
      mode,
      ms,
      submitMs,
      rssBeforeMb,
      peakRssMb: peakMb,
      childPeakRssMb: childPeakMb,
      cpuMs: used,
      baselineMs,
    };
  } finally {
    await Promise.all(
      processes
        .filter((p) => p.exitCode === null)
        .map((p) => {
          const exited = new Promise((r) => p.once('exit', r));
          p.kill('SIGTERM');
          return exited;
        }),
    );
    await db.$disconnect();
    await tdb.drop();
    await emu.close();
  }
}

/** A no-op telegraf bot: downloads the document it is sent and replies; time from sending to the reply. */
async function noopBaseline(emu: Awaited<ReturnType<typeof startEmulator>>, file: Buffer): Promise<number> {
  const token = `${820000 + Math.floor(Math.random() * 99999)}:NOOP${randomBytes(12).toString('hex')}`;
  const bot = new Telegraf(token, { telegram: { apiRoot: emu.apiRoot, webhookReply: false } });
  bot.on('document', async (ctx) => {
    const link = await ctx.telegram.getFileLink(ctx.message.document.file_id);
    const bytes = Buffer.from(await (await fetch(link)).arrayBuffer());
    await ctx.reply(`received ${bytes.length} bytes`);
  });
  void bot.launch({ dropPendingUpdates: true });
  await sleep(500);
  try {
    const u = new EmulatorClient(emu.url, { bot: Number(token.split(':')[0]) }).user(CONTACT + 1, {
      firstName: 'noop',
    });
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await u.sendDocument({ fileName: '申报名单.xlsx', bytes: file });
      await u.waitForMessage({ match: /received/, timeoutMs: 60_000 });
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    bot.stop('bench done');
  }
}

async function main() {
  const { buildDist } = await import('../scripts/build.ts');
  await buildDist({ logLevel: 'warning' });
  const cat = sheetCategory();
  const file = await generateXlsx(columnsFor(cat), ROWS);
  const warmFile = await generateXlsx(columnsFor(cat), 5);
  console.log(`generated ${ROWS} rows: ${round(file.length / 1024 / 1024, 2)} MB`);
  const modes: ('built' | 'tsx')[] = args.tsx ? ['built', 'tsx'] : ['built'];
  const runs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++)
    for (const mode of modes) {
      const res = await oneRun(mode, file, warmFile);
      runs.push(res);
      console.log(
        `run ${r + 1} (${mode}): checked in ${Math.round(res.ms)} ms, submitted in ${Math.round(res.submitMs)} ms; bot ${round(res.rssBeforeMb)} → ${round(res.peakRssMb)} MB (upload child ${round(res.childPeakRssMb)} MB), CPU ${res.cpuMs} ms; no-op bot ${Math.round(res.baselineMs)} ms`,
      );
    }
  const of = (mode: 'built' | 'tsx') => runs.filter((r) => r.mode === mode);
  const summary = (list: RunResult[]) => {
    const ms = median(list.map((r) => r.ms));
    return {
      runs: list.length,
      rows: ROWS,
      ms: Math.round(ms),
      rowsPerSecond: Math.round(ROWS / (ms / 1000)),
      peakRssMb: round(Math.max(...list.map((r) => r.peakRssMb))),
      rssBeforeMb: round(Math.max(...list.map((r) => r.rssBeforeMb))),
      uploadChild: { peakRssMb: round(Math.max(...list.map((r) => r.childPeakRssMb))) },
      cpuMs: Math.round(median(list.map((r) => r.cpuMs))),
      submit: { rows: ROWS, ms: Math.round(median(list.map((r) => r.submitMs))) },
      baseline: {
        what: 'a no-op telegraf bot on the same emulator: receives the same document, downloads it, replies',
        ms: Math.round(median(list.map((r) => r.baselineMs))),
      },
      perRun: list.map((r) => ({
        ms: Math.round(r.ms),
        submitMs: Math.round(r.submitMs),
        rssBeforeMb: round(r.rssBeforeMb),
        peakRssMb: round(r.peakRssMb),
        childPeakRssMb: round(r.childPeakRssMb),
        cpuMs: r.cpuMs,
        baselineMs: Math.round(r.baselineMs),
      })),
    };
  };
  const built = summary(of('built'));
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    what: 'a contact uploads the list in the chat (document sent → summary message) and submits it (press → "已提交" edit), against `node dist/main.js bot`; the bot process sampled every 10 ms',
    fileMb: round(file.length / 1024 / 1024, 2),
    ...built,
    ...(args.tsx ? { tsx: summary(of('tsx')) } : {}),
    targets: { rowsPerSecond: TARGET_ROWS_PER_S, peakRssMb: TARGET_PEAK_MB, submitMs: TARGET_SUBMIT_MS },
    pass:
      built.rowsPerSecond >= TARGET_ROWS_PER_S &&
      built.peakRssMb <= TARGET_PEAK_MB &&
      built.submit.ms <= TARGET_SUBMIT_MS,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = join(here, 'results', 'import-chat.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${out}`);
  process.exit(result.pass ? 0 : 1);
}

await main();
