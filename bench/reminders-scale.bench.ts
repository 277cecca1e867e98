// Benchmark: reminders at province scale (issue 17). One campaign each of 20,000 / 100,000 / 200,000
// nominations (seeded with set-based SQL), measuring
//   - the full sync (`syncReminders`, recovery / worker start): time and peak RSS of its process;
//   - one submit's reminder work (`onNominationChanged` after a draft is submitted): median / p95;
//   - one paid batch's reminder work (`onBatchChanged`, the batch holds 60 % of the campaign).
// Baseline in the same run: the code before issue 17 (src/usecases/reminders.ts at BASELINE_COMMIT, taken
// with `git show` into .tmp/), whose hooks re-ran the full sync. It loads every nomination with nested
// relations and fails above ~32,000 nominations per campaign (PostgreSQL's bind-parameter limit): that
// failure is recorded as its result.
//
//   npm run bench:reminders-scale [-- --sizes 20000,100000,200000]
//
// Each measurement runs in a child process of its own, so its peak RSS (getrusage maxrss) is its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queues } from '../src/adapters/queue/queues.ts';
import type { Db } from '../src/adapters/db/client.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import * as fx from '../test/support/reminder-fixtures.ts';
import { seedScale } from '../test/support/scale-seed.ts';
import { REDIS_URL, summarize, writeResult } from './support.ts';

/** The last commit before issue 17's reminder changes. */
const BASELINE_COMMIT = 'dce5b6a';
const NOW = fx.sh('2026-03-02 10:00');
const SUBMITS = 15;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Hooks {
  syncReminders: (db: Db, q: Queues, o: { campaignId: number; now: Date }) => Promise<{ desired: number }>;
  onNominationChanged: (db: Db, q: Queues, id: number, now: Date) => Promise<unknown>;
  onBatchChanged?: (db: Db, q: Queues, batchId: number, now: Date) => Promise<unknown>;
}

function baselineModulePath(): string {
  const dir = join(root, '.tmp', 'bench-baseline');
  mkdirSync(dir, { recursive: true });
  const src = execFileSync('git', ['show', `${BASELINE_COMMIT}:src/usecases/reminders.ts`], { cwd: root })
    .toString()
    .replaceAll("from '../", "from '../../src/");
  const file = join(dir, 'reminders.ts');
  writeFileSync(file, src);
  return file;
}

// ----------------------------------------------------------------------------------------------- child
interface ChildArgs {
  variant: 'new' | 'baseline';
  dbUrl: string;
  prefix: string;
  campaignId: number;
  batchId: number;
  drafts: number[];
}

async function child(args: ChildArgs) {
  const mod = (await import(
    pathToFileURL(args.variant === 'new' ? join(root, 'src/usecases/reminders.ts') : baselineModulePath())
      .href
  )) as Hooks;
  const db = createPrisma(args.dbUrl) as unknown as Db;
  const queues = new Queues(REDIS_URL, args.prefix);
  const out: Record<string, unknown> = { variant: args.variant };
  // Both variants start from no reminder rows (each has its own, empty, queue prefix).
  await db.reminder.deleteMany({ where: { campaignId: args.campaignId } });
  const rssBefore = process.memoryUsage().rss;
  try {
    const t0 = performance.now();
    const r = await mod.syncReminders(db, queues, { campaignId: args.campaignId, now: NOW });
    out['fullSync'] = { ok: true, ms: Math.round(performance.now() - t0), desired: r.desired };
  } catch (err) {
    out['fullSync'] = {
      ok: false,
      error: String((err as Error).message)
        .split('\n')
        .at(-1)
        ?.slice(0, 200),
    };
  }
  out['fullSyncPeakRssMb'] = Math.round(process.resourceUsage().maxRSS / 1024);
  out['rssBeforeMb'] = Math.round(rssBefore / 1_048_576);
  const times: number[] = [];
  let submitError: string | null = null;
  for (const id of args.drafts) {
    await db.nomination.update({ where: { id }, data: { status: 'submitted' } });
    const t = performance.now();
    try {
      await mod.onNominationChanged(db, queues, id, NOW);
      times.push(performance.now() - t);
    } catch (err) {
      submitError =
        String((err as Error).message)
          .split('\n')
          .at(-1)
          ?.slice(0, 200) ?? 'error';
      break;
    }
  }
  // Leave the campaign as it was for the other variant.
  await db.nomination.updateMany({ where: { id: { in: args.drafts } }, data: { status: 'draft' } });
  out['submit'] = submitError ? { ok: false, error: submitError } : { ok: true, ...summarize(times) };
  if (mod.onBatchChanged) {
    const t = performance.now();
    await mod.onBatchChanged(db, queues, args.batchId, NOW);
    out['batchPaid'] = { ok: true, ms: Math.round(performance.now() - t) };
  } else {
    out['batchPaid'] = { ok: false, note: 'the baseline re-ran the full sync after a batch (see fullSync)' };
  }
  out['peakRssMb'] = Math.round(process.resourceUsage().maxRSS / 1024);
  await queues.get('reminders').obliterate({ force: true });
  await queues.close();
  await db.$disconnect();
  process.stdout.write(`\nRESULT ${JSON.stringify(out)}\n`);
}

function runChild(args: ChildArgs): Record<string, unknown> {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(args)],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return { variant: args.variant, crashed: true, stderr: r.stderr.slice(-500) };
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

// ----------------------------------------------------------------------------------------------- main
async function main() {
  const sizesArg = process.argv.indexOf('--sizes');
  const sizes =
    sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [20_000, 100_000, 200_000];
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url);
  const runs: Record<string, unknown>[] = [];
  try {
    const fed = await fx.federation(db);
    const unions: number[] = [];
    for (let i = 0; i < 500; i++) unions.push(await fx.union(db, fed, `基准工会${i}`));
    const contacts: number[] = [];
    for (let i = 0; i < 200; i++)
      contacts.push(await fx.person(db, 50_000 + i, 'contact', { unionId: unions[i]! }));
    await fx.person(db, 60_001, 'reviewer');
    await fx.person(db, 60_002, 'admin');
    await fx.person(db, 60_003, 'finance');
    for (const n of sizes) {
      const c = await fx.campaign(db, fed, {
        opens: fx.sh('2026-02-24 09:00'),
        closes: fx.sh('2026-03-10 17:00'),
        review: fx.sh('2026-03-20 17:00'),
        payment: '2026-03-31',
      });
      const t0 = performance.now();
      const pct = (p: number) => Math.round(n * p);
      const seed = await seedScale(db, {
        campaignId: c,
        unionIds: unions,
        submittedById: contacts[0]!,
        mix: {
          paid: pct(0.6),
          handedOver: pct(0.05),
          approved: pct(0.1),
          submitted: pct(0.15),
          returned: pct(0.05),
          draft: n - pct(0.6) - pct(0.05) - pct(0.1) - pct(0.15) - pct(0.05),
        },
        lastPaidAt: fx.sh('2026-03-02 09:00'),
        paidDays: 5,
      });
      const seedMs = Math.round(performance.now() - t0);
      const drafts = Array.from({ length: SUBMITS }, (_, i) => seed.blocks.draft.first + i * 7);
      console.log(`\n${n} nominations seeded in ${seedMs} ms`);
      for (const variant of ['new', 'baseline'] as const) {
        const r = runChild({
          variant,
          dbUrl: tdb.url,
          prefix: `bench-remscale-${randomBytes(3).toString('hex')}`,
          campaignId: c,
          batchId: seed.batchId,
          // The old code re-ran the full campaign per submit: 3 submits are enough to time it.
          drafts: variant === 'new' ? drafts : drafts.slice(0, 3),
        });
        runs.push({ nominations: n, seedMs, ...r });
        console.log(JSON.stringify({ nominations: n, ...r }));
      }
    }
  } finally {
    await db.$disconnect();
    await tdb.drop();
  }
  const file = writeResult('reminders-scale', {
    date: new Date().toISOString(),
    setup: {
      machine: '2 shared cores; other developers may run tests or benchmarks at the same time (noise)',
      campaign:
        'one campaign per size: 60 % paid (one batch, delivered over 5 days), 5 % handed over, 10 % approved, 15 % submitted, 5 % returned, 5 % drafts; 500 unions, 200 contacts, 1 reviewer, 1 admin, 1 finance',
      submit: `${SUBMITS} drafts submitted one by one, each followed by onNominationChanged (baseline: 3)`,
      baseline: `src/usecases/reminders.ts at ${BASELINE_COMMIT} (full sync per change)`,
      peakRss:
        'getrusage maxrss of the child process that ran the measurement (includes the Node/Prisma base)',
    },
    runs,
  });
  console.log(`\nwritten ${file}`);
}

const childAt = process.argv.indexOf('--child');
if (childAt > 0) {
  child(JSON.parse(process.argv[childAt + 1]!) as ChildArgs).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
