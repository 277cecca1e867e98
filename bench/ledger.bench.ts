// Benchmark: the ledger export (/export, full values) as a streamed .xlsx at 10,000, 100,000 and (with
// LEDGER_1M=1) 1,000,000 nominations, as the staff job runs it: the look-ups and the audit row in the
// measured process (Prisma, as in the worker), the rows read, decrypted and written in the export's child
// process (adapters/files/export-child.ts). Measured: the child's peak RSS (the process that does the
// export: `peakRssMb`) and what the export added to the parent (`parentAddsMb`). Same-run baseline: the
// bare read (the same server-side cursor and decryption, nothing written, in the measured process). For
// comparison, the .xlsx written in the measured process itself (`inProcess`: how exports ran before the
// child) and the same rows as plain CSV.
//
//   npm run bench:ledger                          10k and 100k (needs the local PostgreSQL)
//   LEDGER_1M=1 npm run bench:ledger              adds 1M (seeding 1M rows takes a few minutes)
//   LEDGER_SIZES=2000,20000 npm run bench:ledger  any sizes (quick runs while developing)
//
// One database, one campaign, grown size by size with set-based SQL (INSERT … SELECT generate_series;
// 1,000 distinct encrypted identities cycled: decryption costs the same whatever the value). Every
// measurement runs in a child process of its own, so its peak RSS (getrusage maxrss) belongs to that
// one export of that one size. Each child loads what the bench loads (Prisma, the app's modules via
// bench/support.ts), warms Prisma up with one query as a running worker has, then exports.
// Two ways of running the same code, both reported:
//   tsx   node --import tsx: how the benches, tests and `npm run worker` run (TypeScript loader in the
//         process and in the decryption worker's thread);
//   dist  plain node on a bundle built with the production build's options (scripts/build.ts), the
//         decryption worker from dist/ (built first, as `npm run build` does): how the image runs
//         `node dist/main.js worker`.
// `exportAddsMb` = peak RSS − RSS before the export: what the export itself costs the process (for the
// child-run .xlsx: the parent's growth, `parentAddsMb`).
// Targets (issue 13): 100,000 rows ≤ 5 s and ≤ 200 MB peak; memory flat from 10k to 1M; time linear.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import { writeLedgerXlsx } from '../src/adapters/files/ledger-xlsx.ts';
import { exportDir } from '../src/adapters/files/export-parts.ts';
import { runExportChild } from '../src/adapters/files/export-process.ts';
import { exportLedger, exportLedgerVia, type LedgerRow, ledgerPages } from '../src/usecases/report/ledger.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import { makeCard, makeId } from '../test/support/fixtures.ts';
import { REDIS_URL, writeResult } from './support.ts';

const SIZES = (
  process.env['LEDGER_SIZES'] ?? (process.env['LEDGER_1M'] === '1' ? '10000,100000,1000000' : '10000,100000')
)
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const TARGET_MS_100K = 5_000;
const TARGET_MB = 200;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

type Phase = 'xlsx' | 'inproc' | 'csv' | 'read';
type Mode = 'tsx' | 'dist';
interface PhaseResult {
  phase: Phase;
  mode: Mode;
  rows: number;
  ms: number;
  rowsPerSecond: number;
  peakRssMb: number;
  /** RSS of the process before the export (Node, tsx, Prisma): not the export's. */
  rssBeforeMb: number;
  /** Peak RSS minus RSS before: what the export added to the process. */
  exportAddsMb: number;
  /** xlsx (run in the export's child): the child's peak RSS; the fields above are the parent's. */
  childPeakRssMb?: number;
  fileMb: number;
}

const csvCell = (v: unknown) => {
  const s =
    v === null || v === undefined
      ? ''
      : v instanceof Date
        ? v.toISOString()
        : Array.isArray(v)
          ? v.join(';')
          : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

const pageSize = process.env['LEDGER_PAGE_SIZE'] ? { pageSize: Number(process.env['LEDGER_PAGE_SIZE']) } : {};

/** Child process: one export, then its result as JSON on the last line. */
async function runPhase(phase: Phase, url: string, key: string, campaignId: number, actorId: number) {
  const mode: Mode = new URL(import.meta.url).pathname.endsWith('.ts') ? 'tsx' : 'dist';
  const db = createPrisma(url);
  const cipher = new FieldCipher([{ version: 1, key: Buffer.from(key, 'base64') }]);
  const path = join(tmpdir(), `ledger-bench-${process.pid}.${phase}`);
  // Warm up as a running worker is: Prisma's query compiler and a pooled connection exist already.
  await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const rssBeforeMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const started = performance.now();
  let rows = 0;
  let childPeakRssMb: number | undefined;
  let fileBytes = 0;
  if (phase === 'xlsx') {
    // As the staff job runs it (jobs/staff-job.ts exportRun): look-ups and audit here, the rest in the child.
    const partBytes = 45 * 1024 * 1024;
    rows = await exportLedgerVia(db, {
      campaignId,
      access: 'full',
      actorId,
      ...pageSize,
      run: async (read) => {
        const done = await runExportChild(
          {
            kind: 'ledger',
            read,
            keys: cipher.decryptionKeys(),
            sheet: { locale: 'zh-CN', title: 'bench', settleAt: partBytes, masked: false },
            partBytes,
            files: { dir: exportDir(), jobId: `bench-${process.pid}`, pid: process.pid },
            sliceRows: 250,
          },
          () => {},
        );
        childPeakRssMb = done.peakRssMb;
        for (const p of done.paths) fileBytes += statSync(p).size;
        await Promise.all(done.paths.map((p) => rm(p, { force: true })));
        return done.rows;
      },
    });
  } else if (phase === 'read') {
    for await (const page of ledgerPages(db, cipher, { campaignId, access: 'full', ...pageSize }))
      rows += page.length;
  } else {
    const out = createWriteStream(path);
    rows = await exportLedger(db, cipher, {
      campaignId,
      access: 'full',
      actorId,
      ...pageSize,
      sink: async (pages: AsyncIterable<LedgerRow[]>) => {
        if (phase === 'inproc') return writeLedgerXlsx(out, pages, { locale: 'zh-CN', title: 'bench' });
        let header = false;
        for await (const page of pages) {
          let chunk = '';
          for (const r of page) {
            if (!header) {
              chunk += `${Object.keys(r).join(',')}\n`;
              header = true;
            }
            chunk += `${Object.values(r).map(csvCell).join(',')}\n`;
          }
          if (!out.write(chunk)) await once(out, 'drain');
        }
        out.end();
      },
    });
    if (!out.writableFinished) await once(out, 'finish');
    fileBytes = statSync(path).size;
  }
  const ms = performance.now() - started;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const result: PhaseResult = {
    phase,
    mode,
    rows,
    ms: Math.round(ms),
    rowsPerSecond: Math.round(rows / (ms / 1000)),
    peakRssMb,
    rssBeforeMb,
    exportAddsMb: peakRssMb - rssBeforeMb,
    ...(childPeakRssMb !== undefined ? { childPeakRssMb } : {}),
    fileMb: Math.round((fileBytes / 1024 / 1024) * 10) / 10,
  };
  await rm(path, { force: true });
  await db.$disconnect();
  console.log(JSON.stringify(result));
}

/**
 * RSS of the worker process as the image runs it (`node --enable-source-maps dist/main.js worker`),
 * started on the bench's database and idle: the process a /export job runs in (Linux: /proc).
 */
async function deployedWorkerIdleRssMb(url: string, key: Buffer): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist', 'main.js'), 'worker'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: url,
      REDIS_URL,
      QUEUE_PREFIX: `bench-ledger-${process.pid}`,
      TELEGRAM_BOT_TOKEN: `424243:BENCH${randomBytes(10).toString('hex')}`,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      DATA_KEY: key.toString('base64'),
      SMS_PROVIDER: 'log',
      LOG_LEVEL: 'info',
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 60_000);
      const seen = (d: Buffer) => {
        out += String(d);
        if (out.includes('warmth-bot started')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
    });
    await new Promise((r) => setTimeout(r, 5_000)); // start-up work done, idle
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url);
  const key = randomBytes(32);
  const cipher = new FieldCipher([{ version: 1, key }]);
  let ids = '';
  try {
    const fed = await db.federation.create({ data: { name: '基准测试县总工会' } });
    const unions = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.union.create({ data: { federationId: fed.id, name: `基层工会${i + 1}` } }),
      ),
    );
    const unionIds = unions.map((u) => u.id);
    const person = await db.person.create({ data: { displayName: '联系人' } });
    const campaign = await db.campaign.create({
      data: {
        code: 'bench-ledger',
        federationId: fed.id,
        titleZh: '基准测试送温暖活动',
        titleEn: 'Benchmark campaign',
        organiser: '基准测试县总工会',
        budgetTotalFen: 10_000_000_000n,
        nominationOpensAt: new Date('2026-01-02T01:00:00Z'),
        nominationClosesAt: new Date('2026-01-20T10:00:00Z'),
        reviewDeadline: new Date('2026-01-27T10:00:00Z'),
        targetPaymentDate: new Date('2026-02-10T00:00:00Z'),
      },
    });
    const cat = await db.campaignCategory.create({
      data: {
        campaignId: campaign.id,
        code: 'needy_worker',
        nameZh: '困难职工',
        nameEn: 'Needy workers',
        kind: 'needy_worker',
        standardAmountFen: 80_000,
        benefitForms: ['transfer'],
        requiredFields: ['name'],
      },
    });
    ids = `${campaign.id} ${person.id}`;
    const batch = await db.paymentBatch.create({
      data: { campaignId: campaign.id, code: 'bench-batch', status: 'paid', createdById: person.id },
    });
    // 1,000 encrypted identities, cycled over the rows.
    await db.$executeRawUnsafe(
      'CREATE TABLE bench_identity (k int PRIMARY KEY, id_enc text, id_hash text, phone_enc text, card_enc text, last4 text)',
    );
    const card = makeCard();
    for (let k = 0; k < 1000; k += 250) {
      const values = Array.from({ length: 250 }, (_, j) => {
        const i = k + j;
        const id = makeId(`19${50 + (i % 50)}0${1 + (i % 9)}1${i % 10}`, i % 999);
        return [
          i,
          cipher.encrypt(id),
          cipher.hash('id', id),
          cipher.encrypt(`138${String(i).padStart(8, '0')}`),
          cipher.encrypt(card),
          card.slice(-4),
        ];
      });
      await db.$executeRawUnsafe(
        `INSERT INTO bench_identity SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
        ...[0, 1, 2, 3, 4, 5].map((c) => values.map((v) => v[c])),
      );
    }

    // As deployed: dist/ (for the decryption worker's entry) and this file bundled the same way (loaded
    // here only: the measured children do not load esbuild).
    const { BUNDLE_OPTIONS, buildDist } = await import('../scripts/build.ts');
    const { build } = await import('esbuild');
    await buildDist({ logLevel: 'warning' });
    const workerIdleRssMb = await deployedWorkerIdleRssMb(tdb.url, key);
    console.log(`node dist/main.js worker, idle: ${workerIdleRssMb} MB RSS`);
    const bundle = join(root, 'node_modules', '.cache', 'warmth-bench', 'ledger.bench.mjs');
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [fileURLToPath(import.meta.url)],
      outfile: bundle,
      logLevel: 'warning',
    });

    const phase = (p: Phase, mode: Mode): PhaseResult => {
      const entry = mode === 'tsx' ? ['--import', 'tsx', fileURLToPath(import.meta.url)] : [bundle];
      const out = execFileSync(
        process.execPath,
        [...entry, '--phase', p, tdb.url, key.toString('base64'), String(campaign.id), String(person.id)],
        { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      );
      return JSON.parse(out.trim().split('\n').at(-1)!) as PhaseResult;
    };

    let seeded = 0;
    const sizes = [];
    for (const size of SIZES) {
      const seedStart = performance.now();
      // Rows seeded-1 .. size-1: 60 % paid (one paid payment each), 5 % handed over, 15 % approved, 20 % submitted.
      await db.$executeRawUnsafe(
        `INSERT INTO nomination (campaign_id, category_id, union_id, submitted_by_id, status, full_name,
           id_number_hash, id_number_enc, phone_enc, bank_card_enc, bank_card_last4, bank_name, sex, birth_date,
           employer, work_status, hardship_tier, main_cause, secondary_causes, benefit_form, amount_fen,
           submitted_at, decided_at, updated_at, source)
         SELECT $1, $2, ($3::int[])[1 + g % 50], $4,
           (CASE WHEN g % 20 < 12 THEN 'paid' WHEN g % 20 = 12 THEN 'handed_over'
                 WHEN g % 20 < 16 THEN 'approved' ELSE 'submitted' END)::"NominationStatus",
           '职工' || g, e.id_hash, e.id_enc, e.phone_enc, e.card_enc, e.last4, '中国农业银行',
           (CASE WHEN g % 2 = 1 THEN 'male' ELSE 'female' END)::"Sex", DATE '1970-05-01',
           '县第' || (g % 300) || '单位', 'employed', 'relative', 'serious_illness', ARRAY['child_education'],
           'transfer', 80000, TIMESTAMP '2026-01-10 02:00:00',
           CASE WHEN g % 20 < 16 THEN TIMESTAMP '2026-01-11 02:00:00' END, now(), 'upload'
         FROM generate_series($5::int, $6::int) g JOIN bench_identity e ON e.k = g % 1000`,
        campaign.id,
        cat.id,
        unionIds,
        person.id,
        seeded,
        size - 1,
      );
      await db.$executeRawUnsafe(
        `INSERT INTO payment (batch_id, nomination_id, amount_fen, status, paid_at)
         SELECT $1, n.id, 80000, 'paid', TIMESTAMP '2026-02-10 07:00:00' FROM nomination n
         WHERE n.campaign_id = $2 AND n.status = 'paid'
           AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.nomination_id = n.id)`,
        batch.id,
        campaign.id,
      );
      await db.$executeRawUnsafe(
        `INSERT INTO handover (nomination_id, handed_over_on, handed_over_by, recorded_by_id)
         SELECT n.id, DATE '2026-02-10', '工会', $2 FROM nomination n
         WHERE n.campaign_id = $1 AND n.status = 'handed_over'
           AND NOT EXISTS (SELECT 1 FROM handover h WHERE h.nomination_id = n.id)`,
        campaign.id,
        person.id,
      );
      await db.$executeRawUnsafe('ANALYZE nomination');
      await db.$executeRawUnsafe('ANALYZE payment');
      seeded = size;
      const seedMs = Math.round(performance.now() - seedStart);
      console.log(`seeded up to ${size} nominations (+${(seedMs / 1000).toFixed(1)} s); measuring…`);
      const read = phase('read', 'tsx');
      const csv = phase('csv', 'tsx');
      const xlsx = phase('xlsx', 'tsx');
      const inproc = phase('inproc', 'tsx');
      const distRead = phase('read', 'dist');
      const distXlsx = phase('xlsx', 'dist');
      console.table([xlsx, inproc, read, csv, distXlsx, distRead]);
      sizes.push({
        rows: xlsx.rows,
        ms: xlsx.ms,
        // The process that does the export: the child.
        peakRssMb: xlsx.childPeakRssMb!,
        rowsPerSecond: xlsx.rowsPerSecond,
        parentRssBeforeMb: xlsx.rssBeforeMb,
        parentPeakRssMb: xlsx.peakRssMb,
        parentAddsMb: xlsx.exportAddsMb,
        fileMb: xlsx.fileMb,
        inProcess: {
          what: 'the same .xlsx written in the measured process (Prisma loaded), as before the child',
          ms: inproc.ms,
          peakRssMb: inproc.peakRssMb,
          rssBeforeMb: inproc.rssBeforeMb,
          exportAddsMb: inproc.exportAddsMb,
        },
        baseline: {
          what: 'the same cursor read and decryption, nothing written',
          ms: read.ms,
          peakRssMb: read.peakRssMb,
          rowsPerSecond: read.rowsPerSecond,
          exportAddsMb: read.exportAddsMb,
        },
        csv: {
          ms: csv.ms,
          peakRssMb: csv.peakRssMb,
          rowsPerSecond: csv.rowsPerSecond,
          exportAddsMb: csv.exportAddsMb,
          fileMb: csv.fileMb,
        },
        dist: {
          what: 'the same .xlsx export, plain node on the production bundle (no tsx), child from dist/',
          ms: distXlsx.ms,
          peakRssMb: distXlsx.childPeakRssMb!,
          rowsPerSecond: distXlsx.rowsPerSecond,
          parentRssBeforeMb: distXlsx.rssBeforeMb,
          parentPeakRssMb: distXlsx.peakRssMb,
          parentAddsMb: distXlsx.exportAddsMb,
          baseline: {
            what: 'the bare read, plain node on the production bundle',
            ms: distRead.ms,
            peakRssMb: distRead.peakRssMb,
            rowsPerSecond: distRead.rowsPerSecond,
            exportAddsMb: distRead.exportAddsMb,
          },
        },
        seedMs,
      });
    }
    const at100k = sizes.find((s) => s.rows === 100_000);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    const meets = (peaks: number[], ms?: number) =>
      peaks.every((p) => p <= TARGET_MB) && (ms === undefined || ms <= TARGET_MS_100K);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      sizes,
      // The stable fields: the .xlsx under tsx (as this bench has always measured it) at 100,000 rows.
      ...(at100k
        ? {
            ms: at100k.ms,
            peakRssMb: at100k.peakRssMb,
            rows: at100k.rows,
            rowsPerSecond: at100k.rowsPerSecond,
            parentAddsMb: at100k.parentAddsMb,
            baseline: at100k.baseline,
            dist: at100k.dist,
          }
        : {}),
      peakRssSpreadMb: spread(sizes.map((s) => s.peakRssMb)),
      parentAddsSpreadMb: spread(sizes.map((s) => s.parentAddsMb)),
      distPeakRssSpreadMb: spread(sizes.map((s) => s.dist.peakRssMb)),
      distParentAddsSpreadMb: spread(sizes.map((s) => s.dist.parentAddsMb)),
      // The deployed worker process before any export (the export's parent): it grows by parentAddsMb.
      workerIdleRssMb,
      targets: { msAt100k: TARGET_MS_100K, peakRssMb: TARGET_MB },
      pass: meets(
        sizes.map((s) => s.peakRssMb),
        at100k?.ms,
      ),
      passAsDeployed: meets(
        sizes.map((s) => s.dist.peakRssMb),
        at100k?.dist.ms,
      ),
      audited: await db.auditLog.count({ where: { action: 'ledger.export_full' } }),
    };
    console.log(JSON.stringify(results, null, 2));
    writeResult('ledger', results);
    if (!results.passAsDeployed) process.exitCode = 1;
  } finally {
    await db.$disconnect();
    if (process.env['LEDGER_KEEP_DB'] === '1')
      console.log(
        `kept ${tdb.url}; one phase again: node --import tsx bench/ledger.bench.ts --phase xlsx ${tdb.url} ${key.toString('base64')} ${ids}`,
      );
    else await tdb.drop();
  }
}

const i = process.argv.indexOf('--phase');
if (i > 0) {
  const [phase, url, key, campaignId, actorId] = process.argv.slice(i + 1);
  await runPhase(phase as Phase, url!, key!, Number(campaignId), Number(actorId));
} else {
  await main();
}
