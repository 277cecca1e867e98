// Benchmark: a generated 10,000-row nomination list (.xlsx) is parsed, validated and stored as drafts
// through the path a real upload takes (features/upload.ts): parseUpload (the zip check, then parseSheet
// in the upload child process, rows back over IPC in slices of 1,000 as they are parsed) → checkImport's
// steps (validateImport, checking each slice as it arrives → storeImportDrafts; its blocked-entry counts
// are empty for this file, every row valid). The phases overlap (since 2026-12-02): parseMs
// is the start to the parse's end (the first slices' check runs within it), validateMs the rest of the
// check after the parse, storeMs the store; they add up to the pipeline's ms against a fresh PostgreSQL database; the baseline (same run) inserts the
// same rows, pre-built and pre-encrypted, with INSERT … FROM unnest statements of 2,500 rows one after
// the other on one connection: the floor of the store step as it was written before 2026-12-02 (the
// store step itself now writes 1,000-row chunks two at a time, so it can come in under it). Reports rows/s and peak memory (RSS sampled every 10 ms) of the bot's process and,
// separately, of the parsing child; medians over RUNS runs, each run in its own process. The spare
// child is booted before the clock starts, as in a running bot. Also times submitImport for the stored
// batch (one transaction), writing the checked file sent back (buildCheckedFile, not in the pipeline's
// figure), and exceljs' whole-workbook load of the same file (the former reader) for reference.
//
//   npm run bench:import            (ROWS=10000 RUNS=3 by default; KEEP_FILE=1 keeps the generated
//                                    file for profiling a run: node --cpu-prof --import tsx
//                                    bench/nomination-import.bench.ts --child <file>, NO_BASELINE=1)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { type CipherWorker, FieldCipher } from '../src/adapters/crypto/field-cipher.ts';
import type { Db } from '../src/adapters/db/client.ts';
import { buildCheckedFile, MAX_SHEET_ROWS, type SheetRow } from '../src/adapters/files/nomination-sheet.ts';
import { parseUpload } from '../src/adapters/files/safe-upload.ts';
import { columnsFor, requiredColumnsFor } from '../src/domain/nomination/columns.ts';
import { storeImportDrafts as storeDrafts } from '../src/usecases/nominations/store-import-drafts.ts';
import { submitImport as submitImported } from '../src/usecases/nominations/submit-import.ts';
import { LONG_FILE_BYTES, validateImport } from '../src/usecases/nominations/validate-import.ts';
import { RowFeed } from '../src/usecases/nominations/row-feed.ts';
import { toCategoryInfo } from '../src/usecases/nominations/shared.ts';
import { generateXlsx, seedImportCampaign, sheetCategory } from './import-fixtures.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';

const ROWS = Number(process.env['ROWS'] ?? 10_000);
const RUNS = Number(process.env['RUNS'] ?? 3);
// Issue 13's targets for a 10,000-row file.
const TARGET_ROWS_PER_S = 10_000;
const TARGET_PEAK_MB = 200;
const TARGET_SUBMIT_MS = 2_000;
const here = dirname(fileURLToPath(import.meta.url));

const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
const now = new Date('2024-01-10T02:00:00Z');

/** RSS (bytes) of this process's child processes, by pid (Linux /proc; empty elsewhere). */
function childrenRss(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const pids = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      for (const pid of pids ? pids.split(' ').map(Number) : []) {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) out.set(pid, Number(m[1]) * 1024);
      }
    }
  } catch {
    // a child that ended between the two reads
  }
  return out;
}

/** RSS (bytes) of the given processes (those still running). */
function rssOf(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) out.set(pid, Number(m[1]) * 1024);
    } catch {
      // ended
    }
  }
  return out;
}

/**
 * CPU time (ms) of this process's main thread (the bot's event loop) so far, from /proc (10 ms ticks;
 * 0 elsewhere): process.cpuUsage() also counts the cipher worker's and Node's helper threads.
 */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** RSS sampling interval. The sampler runs on the bot's thread: at 5 ms, with the children looked up
 * again on every tick, its /proc reads cost ~0.1 s of that thread's CPU per pipeline (profiled). */
const SAMPLE_MS = 10;

/**
 * Runs `fn`, sampling RSS every SAMPLE_MS; returns its result, elapsed ms, this process's peak RSS (MB)
 * and the peak of the child processes that were running when it started (the booted parser child).
 */
async function measure<T>(fn: () => Promise<T>): Promise<{
  result: T;
  ms: number;
  cpuMs: number;
  threadCpuMs: number;
  peakMb: number;
  childPeakMb: number;
  childBeforeMb: number;
}> {
  let peak = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const threadCpu = mainThreadCpuMs();
  const before = childrenRss();
  let childPeak = Math.max(0, ...before.values());
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    for (const rss of rssOf(before.keys()).values()) childPeak = Math.max(childPeak, rss);
  }, SAMPLE_MS);
  const started = performance.now();
  try {
    const result = await fn();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage.rss());
    const used = process.cpuUsage(cpu);
    return {
      result,
      ms,
      cpuMs: (used.user + used.system) / 1000,
      threadCpuMs: mainThreadCpuMs() - threadCpu,
      peakMb: peak / 1024 / 1024,
      childPeakMb: childPeak / 1024 / 1024,
      childBeforeMb: Math.max(0, ...before.values()) / 1024 / 1024,
    };
  } finally {
    clearInterval(timer);
  }
}

/** With PROFILE_MARKS=1: the phases' starts on stderr, in the CPU profile's clock (monotonic µs). */
const mark = (phase: string) => {
  if (process.env['PROFILE_MARKS']) console.error(`mark ${phase} ${process.hrtime.bigint() / 1000n}`);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

interface RunResult {
  /** CPU time of this (the bot's) process during the pipeline and the submit: less noisy than wall time. */
  pipelineCpuMs: number;
  /** The main thread's part of pipelineCpuMs (without the cipher worker). */
  pipelineThreadCpuMs: number;
  submitCpuMs: number;
  rssBeforeMb: number;
  childBeforeMb: number;
  childPeakMb: number;
  checkedFileMs: number;
  exceljsLoadMs: number;
  pipelineMs: number;
  parseMs: number;
  validateMs: number;
  storeMs: number;
  pipelinePeakMb: number;
  /** The process's RSS high-water mark (getrusage) right after the pipeline: an upper bound of its peak, no sampling gaps. */
  pipelineMaxRssMb: number;
  baselineMs: number;
  baselinePeakMb: number;
  submitMs: number;
  stored: number;
}

async function oneRun(file: Buffer, warmFile: Buffer): Promise<RunResult> {
  // Real code path on a fresh database.
  const tdb = await createTestDatabase();
  const db = createPrisma(tdb.url) as unknown as Db;
  const base = await createTestDatabase();
  const bdb = createPrisma(base.url) as unknown as Db;
  try {
    const { campaign, category, union, person } = await seedImportCampaign(db, { now, telegramId: 1n });
    const cat = toCategoryInfo(category);
    const deps = { db, cipher, now: () => now };
    await db.$queryRaw`SELECT 1`; // connect before timing
    // As features/upload.ts asks for it.
    const required = requiredColumnsFor(cat, cat.benefitForms.find((f) => f !== 'transfer') ?? 'transfer');
    const upload = (bytes: Uint8Array, onRows?: (rows: SheetRow[]) => void) =>
      parseUpload('nomination_sheet', bytes, 'bench.xlsx', {
        sheetOptions: { required, maxRows: MAX_SHEET_ROWS },
        ...(onRows ? { onRows } : {}),
      });
    // A running bot has a booted spare child: the first upload boots one a moment after it ends.
    const warm = await upload(warmFile);
    if (!warm.ok || !warm.value.ok) throw new Error('warm-up parse failed');
    await new Promise((r) => setTimeout(r, 5000)); // the spare boots 3 s after a parse, then loads its modules
    const rssBeforeMb = process.memoryUsage.rss() / 1024 / 1024;
    const phases = { parseMs: 0, validateMs: 0, storeMs: 0 };
    let sheet:
      | { columns: string[]; headerLine: number; rows: { line: number; values: Record<string, string> }[] }
      | undefined;
    const pipeline = await measure(async () => {
      mark('pipeline');
      const t = performance.now();
      // As features/upload.ts and checkImport: the rows are checked slice by slice as the child sends
      // them; one cipher worker for the check and the store, booted when the upload starts (a large file).
      const feed = new RowFeed<SheetRow>();
      let worker: CipherWorker | undefined;
      const bootWorker = () => {
        worker ??= cipher.worker();
        return worker;
      };
      const validating = validateImport(
        deps,
        {
          personId: person.id,
          unionId: union.id,
          campaignId: campaign.id,
          categoryId: category.id,
          rows: feed,
        },
        { bootWorker, longExpected: file.byteLength >= LONG_FILE_BYTES },
      );
      validating.catch(() => {}); // awaited below
      const safe = await upload(file, (rows) => feed.push(rows));
      if (!safe.ok) throw new Error(`upload refused: ${safe.refused}`);
      const parsed = safe.value;
      if (!parsed.ok) throw new Error(`parse failed: ${parsed.error.code}`);
      feed.end(parsed.rows.slice(feed.received));
      sheet = parsed as never;
      phases.parseMs = performance.now() - t;
      mark('validate');
      const v = await validating;
      if (v.valid !== ROWS)
        throw new Error(
          `expected ${ROWS} valid rows, got ${v.valid}: ${JSON.stringify(v.rows.find((r) => !r.ok))}`,
        );
      phases.validateMs = performance.now() - t - phases.parseMs;
      mark('store');
      const s = await storeDrafts(deps, v, worker ? { worker } : {});
      await (worker as CipherWorker | undefined)?.close();
      phases.storeMs = performance.now() - t - phases.parseMs - phases.validateMs;
      mark('end');
      return s;
    });
    const pipelineMaxRssMb = process.resourceUsage().maxRSS / 1024;
    const stored = await db.nomination.count({ where: { status: 'draft', source: 'upload' } });
    if (stored !== ROWS) throw new Error(`stored ${stored} drafts`);
    // What the contact gets back (every row valid here: no problems to write), timed apart.
    const tChecked = performance.now();
    const s = sheet!;
    await buildCheckedFile({
      locale: 'zh-CN',
      columns: s.columns.filter((c) => columnsFor(cat).includes(c as never)) as never,
      headerLine: s.headerLine,
      rows: s.rows.map((r) => ({ line: r.line, values: r.values, problems: '', warnings: '' })),
    });
    const checkedFileMs = performance.now() - tChecked;
    sheet = undefined;
    const submit = await measure(() =>
      submitImported(deps, { personId: person.id, batchId: pipeline.result.batchId }),
    );
    if (submit.result.submitted !== ROWS) throw new Error(`submitted ${submit.result.submitted}`);

    if (process.env['NO_BASELINE'])
      return {
        pipelineMs: pipeline.ms,
        ...phases,
        pipelinePeakMb: pipeline.peakMb,
        pipelineMaxRssMb,
        rssBeforeMb,
        childBeforeMb: pipeline.childBeforeMb,
        childPeakMb: pipeline.childPeakMb,
        checkedFileMs,
        pipelineCpuMs: pipeline.cpuMs,
        pipelineThreadCpuMs: pipeline.threadCpuMs,
        submitCpuMs: submit.cpuMs,
        baselineMs: 0,
        baselinePeakMb: 0,
        submitMs: submit.ms,
        exceljsLoadMs: 0,
        stored,
      };
    // Baseline: the floor of the store step — the same rows, pre-built and pre-encrypted (read back
    // from the drafts), written with the same INSERT ... SELECT FROM unnest statements on a fresh
    // database: no parsing, no validation, no encryption.
    const b = await seedImportCampaign(bdb, { now, telegramId: 1n });
    const drafts = await db.nomination.findMany({ orderBy: { id: 'asc' }, where: { source: 'upload' } });
    await bdb.$queryRaw`SELECT 1`;
    const baseline = await measure(async () => {
      for (let i = 0; i < drafts.length; i += 2500) {
        const part = drafts.slice(i, i + 2500);
        const col = <K extends keyof (typeof part)[number]>(k: K) => part.map((r) => r[k]);
        const list = (k: 'secondaryCauses' | 'flags' | 'draftAnswered') => part.map((r) => r[k].join(','));
        await bdb.$executeRaw`
          INSERT INTO nomination (campaign_id, category_id, union_id, submitted_by_id, status, source,
            full_name, id_number_enc, id_number_hash, sex, phone_enc, phone_hash, employer, work_status,
            model_worker_level, hardship_tier, main_cause, secondary_causes, description, benefit_form,
            bank_name, bank_card_enc, bank_card_last4, flags, draft_step, draft_answered, created_at, updated_at)
          SELECT ${b.campaign.id}::int, ${b.category.id}::int, ${b.union.id}::int, ${b.person.id}::int,
            'draft'::"NominationStatus", 'upload', v.full_name, v.id_enc, v.id_hash, v.sex::"Sex", v.phone_enc,
            v.phone_hash, v.employer, v.work_status, v.model_worker_level, v.hardship_tier, v.main_cause,
            string_to_array(v.secondary, ','), v.description, v.form::"BenefitForm", v.bank_name, v.card_enc,
            v.card_last4, string_to_array(v.flags, ','), 'baseline', string_to_array(v.answered, ','), now(), now()
          FROM unnest(${col('fullName')}::text[], ${col('idNumberEnc')}::text[], ${col('idNumberHash')}::text[],
            ${col('sex')}::text[], ${col('phoneEnc')}::text[], ${col('phoneHash')}::text[], ${col('employer')}::text[],
            ${col('workStatus')}::text[], ${col('modelWorkerLevel')}::text[], ${col('hardshipTier')}::text[],
            ${col('mainCause')}::text[], ${list('secondaryCauses')}::text[], ${col('description')}::text[],
            ${col('benefitForm')}::text[], ${col('bankName')}::text[], ${col('bankCardEnc')}::text[],
            ${col('bankCardLast4')}::text[], ${list('flags')}::text[], ${list('draftAnswered')}::text[])
            AS v(full_name, id_enc, id_hash, sex, phone_enc, phone_hash, employer, work_status,
              model_worker_level, hardship_tier, main_cause, secondary, description, form, bank_name,
              card_enc, card_last4, flags, answered)`;
      }
    });
    // For reference: the former reader, exceljs' whole-workbook load of the same file (parse only).
    const t = performance.now();
    await new ExcelJS.Workbook().xlsx.load(file as unknown as ArrayBuffer);
    const exceljsLoadMs = performance.now() - t;
    return {
      pipelineMs: pipeline.ms,
      ...phases,
      pipelinePeakMb: pipeline.peakMb,
      pipelineMaxRssMb,
      rssBeforeMb,
      childBeforeMb: pipeline.childBeforeMb,
      childPeakMb: pipeline.childPeakMb,
      checkedFileMs,
      pipelineCpuMs: pipeline.cpuMs,
      pipelineThreadCpuMs: pipeline.threadCpuMs,
      submitCpuMs: submit.cpuMs,
      baselineMs: baseline.ms,
      baselinePeakMb: baseline.peakMb,
      submitMs: submit.ms,
      exceljsLoadMs,
      stored,
    };
  } finally {
    await db.$disconnect();
    await bdb.$disconnect();
    await tdb.drop();
    await base.drop();
  }
}

async function main() {
  const cat = sheetCategory();
  const genStart = performance.now();
  const file = await generateXlsx(columnsFor(cat), ROWS);
  const genMs = performance.now() - genStart;
  console.log(
    `generated ${ROWS} rows × ${columnsFor(cat).length} columns: ${round(file.length / 1024 / 1024, 2)} MB in ${Math.round(genMs)} ms`,
  );

  // Each run in its own process: RSS never shrinks, so runs sharing a process would carry the
  // previous run's (and the baseline's) memory into the next pipeline's peak.
  const tmp = join(tmpdir(), `warmth-import-bench-${process.pid}.xlsx`);
  writeFileSync(tmp, file);
  const runs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', tmp],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 << 20,
      },
    );
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !last.startsWith('{'))
      throw new Error(`run ${r + 1} failed (${child.status}): ${child.stdout.slice(-500)}`);
    const res = JSON.parse(last) as RunResult;
    runs.push(res);
    console.log(
      `run ${r + 1}: pipeline ${Math.round(res.pipelineMs)} ms (parse ${Math.round(res.parseMs)}, validate ${Math.round(res.validateMs)}, store ${Math.round(res.storeMs)}), peak ${round(res.pipelinePeakMb)} MB (parser child ${round(res.childPeakMb)} MB), cpu ${Math.round(res.pipelineCpuMs)} ms (main thread ${Math.round(res.pipelineThreadCpuMs)}); baseline (store floor) ${Math.round(res.baselineMs)} ms; submit ${Math.round(res.submitMs)} ms (cpu ${Math.round(res.submitCpuMs)} ms)`,
    );
  }
  const pipelineMs = median(runs.map((r) => r.pipelineMs));
  const baselineMs = median(runs.map((r) => r.baselineMs));
  const peakMb = Math.max(...runs.map((r) => r.pipelinePeakMb));
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const submitMs = median(runs.map((r) => r.submitMs));
  const rowsPerSecond = Math.round(ROWS / (pipelineMs / 1000));
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    runs: RUNS,
    fileMb: round(file.length / 1024 / 1024, 2),
    // Stable fields (bench/README.md): the pipeline's figures at the top, the baseline under `baseline`.
    what: 'parseUpload (parseSheet in the upload child, rows sent in slices as parsed) + validateImport (each slice checked as it arrives; look-up hashes on a worker thread) + storeImportDrafts (encryption on a worker thread, INSERT … FROM unnest of 1,000 rows, two at a time)',
    rows: ROWS,
    ms: Math.round(pipelineMs),
    rowsPerSecond,
    peakRssMb: round(peakMb),
    rssBeforeMb: round(Math.max(...runs.map((r) => r.rssBeforeMb))),
    // The upload child that parsed the file (peakRssMb above is the bot's process alone).
    parserChild: {
      peakRssMb: round(Math.max(...runs.map((r) => r.childPeakMb))),
      rssBeforeMb: round(Math.max(...runs.map((r) => r.childBeforeMb))),
    },
    // The bot's process only (the parser child and PostgreSQL not included).
    cpuMs: {
      pipeline: Math.round(median(runs.map((r) => r.pipelineCpuMs))),
      pipelineMainThread: Math.round(median(runs.map((r) => r.pipelineThreadCpuMs))),
      submit: Math.round(median(runs.map((r) => r.submitCpuMs))),
    },
    // Consecutive, adding up to ms: parse = start → the parse's end (the check of the slices already
    // received runs within it), validate = the rest of the check, store = the store.
    phases: {
      parseMs: Math.round(median(runs.map((r) => r.parseMs))),
      validateMs: Math.round(median(runs.map((r) => r.validateMs))),
      storeMs: Math.round(median(runs.map((r) => r.storeMs))),
    },
    submit: {
      what: 'submitImport: one transaction under the admission lock; re-checks, one UPDATE, revisions and audit rows set-based',
      rows: ROWS,
      ms: Math.round(submitMs),
    },
    baseline: {
      what: 'the store step alone: the same rows pre-built and pre-encrypted, INSERT … FROM unnest of 2,500 rows one after the other on one connection, fresh database',
      rows: ROWS,
      ms: Math.round(baselineMs),
      rowsPerSecond: Math.round(ROWS / (baselineMs / 1000)),
      peakRssMb: round(Math.max(...runs.map((r) => r.baselinePeakMb))),
    },
    checkedFile: {
      what: 'buildCheckedFile: the .xlsx sent back to the contact (after the pipeline, not in ms)',
      ms: Math.round(median(runs.map((r) => r.checkedFileMs))),
    },
    reference: {
      exceljsWholeWorkbookLoadMs: Math.round(median(runs.map((r) => r.exceljsLoadMs))),
      note: "the former reader's parse alone, same file, same process",
    },
    processMaxRssMb: round(maxRssMb),
    targets: { rowsPerSecond: TARGET_ROWS_PER_S, peakRssMb: TARGET_PEAK_MB, submitMs: TARGET_SUBMIT_MS },
    // Peak = RSS high-water sampled during the pipeline: the bot's process (Node, tsx, Prisma included);
    // the parser child's under parserChild.
    pass: rowsPerSecond >= TARGET_ROWS_PER_S && peakMb <= TARGET_PEAK_MB && submitMs <= TARGET_SUBMIT_MS,
    perRun: runs.map((r) => ({
      ...r,
      pipelineMs: Math.round(r.pipelineMs),
      baselineMs: Math.round(r.baselineMs),
      submitMs: Math.round(r.submitMs),
      checkedFileMs: Math.round(r.checkedFileMs),
      pipelineCpuMs: Math.round(r.pipelineCpuMs),
      submitCpuMs: Math.round(r.submitCpuMs),
    })),
  };
  if (!process.env['KEEP_FILE']) rmSync(tmp, { force: true });
  else console.log(`kept ${tmp}`);
  console.log(JSON.stringify(result, null, 2));
  const out = join(here, 'results', 'nomination-import.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${out}`);
  if (!result.pass) process.exitCode = 1;
}

if (process.argv[2] === '--child') {
  // A few rows for the warm-up upload that boots the spare parser child.
  const res = await oneRun(
    readFileSync(process.argv[3]!),
    await generateXlsx(columnsFor(sheetCategory()), 5),
  );
  console.log(JSON.stringify(res));
  process.exit(0);
} else await main();
