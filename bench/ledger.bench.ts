// Benchmark: the ledger export (/export, full values) of 100,000 nominations as a streamed .xlsx, against
// writing the same rows (same paged reads and decryption) as plain CSV through a stream, in the same run.
//
//   npm run bench:ledger            (needs the local PostgreSQL, like the integration tests)
//
// Each export runs in a child process of its own so its peak memory (RSS high-water mark,
// `process.resourceUsage().maxRSS`) is not inflated by the seeding. Seeding uses createMany in chunks into
// a fresh database from createTestDatabase(). Targets: under 30 s and under 400 MB peak.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import { writeLedgerXlsx } from '../src/adapters/files/ledger-xlsx.ts';
import { exportLedger, type LedgerRow } from '../src/usecases/report/ledger.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import { makeCard, makeId } from '../test/support/fixtures.ts';

const ROWS = Number(process.env['LEDGER_ROWS'] ?? 100_000);
const CHUNK = 5_000;
const TARGET_MS = 30_000;
const TARGET_MB = 400;
const here = dirname(fileURLToPath(import.meta.url));

interface PhaseResult {
  phase: 'xlsx' | 'csv';
  rows: number;
  ms: number;
  peakRssMb: number;
  rssBeforeMb: number;
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

/** Child process: one export, then print its result as JSON on the last line. */
async function runPhase(
  phase: 'xlsx' | 'csv',
  url: string,
  key: string,
  campaignId: number,
  actorId: number,
) {
  const db = createPrisma(url);
  const cipher = new FieldCipher([{ version: 1, key: Buffer.from(key, 'base64') }]);
  const path = join(tmpdir(), `ledger-bench-${process.pid}.${phase}`);
  const out = createWriteStream(path);
  // RSS before the export: the process itself (Node, tsx, Prisma's query compiler) is not the export.
  const rssBeforeMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const started = performance.now();
  const rows = await exportLedger(db, cipher, {
    campaignId,
    access: 'full',
    actorId,
    ...(process.env['LEDGER_PAGE_SIZE'] ? { pageSize: Number(process.env['LEDGER_PAGE_SIZE']) } : {}),
    sink: async (pages: AsyncIterable<LedgerRow[]>) => {
      if (phase === 'xlsx') return writeLedgerXlsx(out, pages, { locale: 'zh-CN', title: 'bench' });
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
  const ms = performance.now() - started;
  const result: PhaseResult = {
    phase,
    rows,
    ms: Math.round(ms),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeMb,
    fileMb: Math.round((statSync(path).size / 1024 / 1024) * 10) / 10,
  };
  await rm(path, { force: true });
  await db.$disconnect();
  console.log(JSON.stringify(result));
}

async function main() {
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url);
  const key = randomBytes(32);
  const cipher = new FieldCipher([{ version: 1, key }]);
  try {
    const seedStart = performance.now();
    const fed = await db.federation.create({ data: { name: '基准测试县总工会' } });
    const unions = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.union.create({ data: { federationId: fed.id, name: `基层工会${i + 1}` } }),
      ),
    );
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
    const batch = await db.paymentBatch.create({
      data: { campaignId: campaign.id, code: 'bench-batch', status: 'paid', createdById: person.id },
    });
    const card = makeCard();
    for (let start = 0; start < ROWS; start += CHUNK) {
      const n = Math.min(CHUNK, ROWS - start);
      const data = Array.from({ length: n }, (_, j) => {
        const i = start + j;
        const id = makeId(`19${50 + (i % 50)}0${1 + (i % 9)}1${i % 10}`, i % 999);
        return {
          campaignId: campaign.id,
          categoryId: cat.id,
          unionId: unions[i % unions.length]!.id,
          submittedById: person.id,
          status: (i % 10 < 6 ? 'paid' : i % 10 < 8 ? 'approved' : 'submitted') as
            | 'paid'
            | 'approved'
            | 'submitted',
          fullName: `职工${i}`,
          idNumberEnc: cipher.encrypt(id),
          idNumberHash: cipher.hash('id', id),
          phoneEnc: cipher.encrypt(`138${String(i).padStart(8, '0')}`),
          bankCardEnc: cipher.encrypt(card),
          bankCardLast4: card.slice(-4),
          bankName: '中国农业银行',
          sex: (i % 2 ? 'male' : 'female') as 'male' | 'female',
          birthDate: new Date('1970-05-01T00:00:00Z'),
          employer: `县第${i % 300}单位`,
          workStatus: 'employed',
          hardshipTier: 'relative',
          mainCause: 'serious_illness',
          secondaryCauses: ['child_education'],
          benefitForm: 'transfer' as const,
          amountFen: 80_000,
          submittedAt: new Date('2026-01-10T02:00:00Z'),
          decidedAt: i % 10 < 8 ? new Date('2026-01-11T02:00:00Z') : null,
        };
      });
      const created = await db.nomination.createManyAndReturn({ data, select: { id: true, status: true } });
      await db.payment.createMany({
        data: created
          .filter((c) => c.status === 'paid')
          .map((c) => ({
            batchId: batch.id,
            nominationId: c.id,
            amountFen: 80_000,
            status: 'paid' as const,
            paidAt: new Date('2026-02-10T07:00:00Z'),
          })),
      });
    }
    const seedMs = Math.round(performance.now() - seedStart);
    console.log(`seeded ${ROWS} nominations in ${(seedMs / 1000).toFixed(1)} s`);

    const phase = (p: 'xlsx' | 'csv'): PhaseResult => {
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--phase',
          p,
          tdb.url,
          key.toString('base64'),
          String(campaign.id),
          String(person.id),
        ],
        { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      );
      return JSON.parse(out.trim().split('\n').at(-1)!) as PhaseResult;
    };
    const csv = phase('csv');
    const xlsx = phase('xlsx');
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      rows: ROWS,
      seedMs,
      xlsx,
      csv,
      xlsxOverCsvTime: Math.round((xlsx.ms / csv.ms) * 10) / 10,
      targets: { ms: TARGET_MS, peakRssMb: TARGET_MB },
      pass: xlsx.ms < TARGET_MS && xlsx.peakRssMb < TARGET_MB,
      audited: await db.auditLog.count({ where: { action: 'ledger.export_full' } }),
    };
    console.table([xlsx, csv]);
    console.log(JSON.stringify(results, null, 2));
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'ledger.json'), `${JSON.stringify(results, null, 2)}\n`);
    if (!results.pass) process.exitCode = 1;
  } finally {
    await db.$disconnect();
    await tdb.drop();
  }
}

const i = process.argv.indexOf('--phase');
if (i > 0) {
  const [phase, url, key, campaignId, actorId] = process.argv.slice(i + 1);
  await runPhase(phase as 'xlsx' | 'csv', url!, key!, Number(campaignId), Number(actorId));
} else {
  await main();
}
