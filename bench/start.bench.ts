// Benchmark: start time and idle memory of the bot and the worker, production build (node dist/main.js,
// npm run build) against the TypeScript sources through tsx (node --import tsx src/main.ts, how they
// ran before the build existed) as the same-run baseline.
//
//   npm run bench:start -- [--runs 5] [--idle-ms 5000]
//
// Each run spawns one process (bot or worker) with a real token against the in-process emulator, a
// fresh test database and Redis (own queue prefix); "ready" is the `warmth-bot started` log line (HTTP
// server listening, bot identified with getMe, workers created). Idle RSS is read from /proc after
// `--idle-ms` of idling (after the worker's start-up sync). Runs alternate built/tsx; one warm-up run
// of each is discarded (tsx's transform cache, the OS file cache). Results: bench/results/start.json.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { buildDist } from '../scripts/build.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createTestDatabase } from '../test/support/db.ts';
import { REDIS_URL, sleep, summarize, writeResult } from './support.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'idle-ms': { type: 'string', default: '5000' },
  },
});
const RUNS = Number(args.runs);
const IDLE_MS = Number(args['idle-ms']);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

type Variant = 'built' | 'tsx';
type Role = 'bot' | 'worker';
const COMMAND: Record<Variant, string[]> = {
  built: ['--enable-source-maps', 'dist/main.js'],
  tsx: ['--import', 'tsx', 'src/main.ts'],
};

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

async function once(variant: Variant, role: Role, env: Record<string, string>) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...COMMAND[variant], role], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let readyMs: number | undefined;
  const onData = (d: Buffer) => {
    out += String(d);
    if (readyMs === undefined && out.includes('warmth-bot started'))
      readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 1200 && readyMs === undefined && child.exitCode === null; i++) await sleep(50);
  if (readyMs === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${variant} ${role} did not start:\n${out}`);
  }
  await sleep(IDLE_MS);
  const idleRssMb = rssMb(child.pid!);
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${variant} ${role} exited with ${code}:\n${out}`);
  return { ms: Math.round(readyMs * 10) / 10, idleRssMb };
}

async function main() {
  const t0 = Date.now();
  await buildDist({ logLevel: 'warning' });
  const buildMs = Date.now() - t0;
  const emu = await startEmulator({ port: 0 });
  const tdb = await createTestDatabase();
  const prefix = `bench-start-${randomBytes(4).toString('hex')}`;
  const env = {
    TELEGRAM_BOT_TOKEN: `${100000 + Math.floor(Math.random() * 900000)}:START${randomBytes(10).toString('hex')}`,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: tdb.url,
    REDIS_URL,
    DATA_KEY: randomBytes(32).toString('base64'),
    SMS_PROVIDER: 'log',
    QUEUE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  const samples: Record<Role, Record<Variant, { ms: number; idleRssMb: number }[]>> = {
    bot: { built: [], tsx: [] },
    worker: { built: [], tsx: [] },
  };
  try {
    for (const role of ['bot', 'worker'] as const) {
      for (let run = 0; run <= RUNS; run++) {
        for (const variant of run % 2 === 0 ? (['built', 'tsx'] as const) : (['tsx', 'built'] as const)) {
          const r = await once(variant, role, env);
          console.log(
            `${role} ${variant} run ${run}${run === 0 ? ' (warm-up)' : ''}: ready ${r.ms} ms, idle RSS ${r.idleRssMb} MB`,
          );
          if (run > 0) samples[role][variant].push(r);
        }
      }
    }
  } finally {
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    await tdb.drop();
    await emu.close();
  }
  const median = (xs: number[]) => summarize(xs).medianMs;
  const figures = (s: { ms: number; idleRssMb: number }[]) => ({
    ...summarize(s.map((x) => x.ms)),
    idleRssMb: median(s.map((x) => x.idleRssMb)),
    peakRssMb: Math.max(...s.map((x) => x.idleRssMb)),
  });
  const byRole = (role: Role) => {
    const built = figures(samples[role].built);
    const baseline = figures(samples[role].tsx);
    return {
      ...built,
      baseline,
      startRatio: Number((built.medianMs / baseline.medianMs).toFixed(3)),
      idleRssRatio: Number((built.idleRssMb / baseline.idleRssMb).toFixed(3)),
    };
  };
  const result = {
    date: new Date().toISOString(),
    setup: {
      runs: RUNS,
      idleMs: IDLE_MS,
      buildMs,
      node: process.version,
      measured: 'ms = spawn to the "warmth-bot started" log line; idleRssMb = VmRSS after idling',
      baseline: 'node --import tsx src/main.ts <role> (the sources through tsx)',
    },
    bot: byRole('bot'),
    worker: byRole('worker'),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${writeResult('start', result)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
