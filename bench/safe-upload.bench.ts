// Benchmark: what the safe upload door (parseUpload: central-directory check, a child process with a heap
// cap and a time limit) costs against parsing on the bot's own thread (parseSheet, the baseline), on a
// generated 10,000-row nomination sheet, and what it saves: the longest event-loop stall of the bot's
// thread while the sheet is parsed (that stall delays everyone else's replies). Also the time to refuse
// the 500 MB zip bomb. Medians over RUNS runs, in the same process; parseUpload is measured warm (its
// spare child booted) and once cold (the first upload after start).
//
//   npm run bench:upload            (ROWS=10000 RUNS=3 by default)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseSheet } from '../src/adapters/files/nomination-sheet.ts';
import { parseUpload } from '../src/adapters/files/safe-upload.ts';
import { hostileCorpus } from '../test/fixtures/hostile/generate.ts';
import { streamedSheet } from './import-fixtures.ts';

const ROWS = Number(process.env['ROWS'] ?? 10_000);
const RUNS = Number(process.env['RUNS'] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sheet(rows: number): Promise<Buffer> {
  return streamedSheet(['姓名', '身份证号码', '手机号码', '工作单位'], rows, (i) => [
    `职工${i}`,
    `11010519800101${String(i % 1000).padStart(3, '0')}X`,
    `139${String(i).padStart(8, '0')}`,
    `县第${i % 40}中学`,
  ]);
}

async function measure(fn: () => Promise<unknown>) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  h.disable();
  return { ms, maxStallMs: h.max / 1e6 };
}

const bytes = await sheet(ROWS);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const viaDoor = () =>
  measure(async () => {
    const r = await parseUpload('nomination_sheet', bytes, 'list.xlsx');
    if (!r.ok || !r.value.ok || r.value.rows.length !== ROWS)
      throw new Error('parseUpload did not parse the sheet');
  });
const base: { ms: number; maxStallMs: number }[] = [];
const safe: { ms: number; maxStallMs: number }[] = [];
// Cold: the first upload after start boots its worker (tsx + exceljs) on the way.
const cold = await viaDoor();
for (let i = 0; i < RUNS; i++) {
  base.push(await measure(() => parseSheet(bytes, 'list.xlsx')));
  await sleep(6000); // uploads are minutes apart: the spare child has booted (3 s after a parse)
  safe.push(await viaDoor());
}
const bomb = (await hostileCorpus()).find((f) => f.name === 'bomb.xlsx')!;
const refusals: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const r = await parseUpload('nomination_sheet', bomb.bytes, 'bomb.xlsx');
  refusals.push(performance.now() - t0);
  if (r.ok) throw new Error('the bomb was not refused');
}
const result = {
  rows: ROWS,
  runs: RUNS,
  fileBytes: bytes.length,
  baselineParseSheetMs: Math.round(median(base.map((x) => x.ms))),
  baselineMaxEventLoopStallMs: Math.round(median(base.map((x) => x.maxStallMs))),
  parseUploadColdMs: Math.round(cold.ms),
  parseUploadMs: Math.round(median(safe.map((x) => x.ms))),
  parseUploadMaxEventLoopStallMs: Math.round(median(safe.map((x) => x.maxStallMs))),
  overheadRatio: Number((median(safe.map((x) => x.ms)) / median(base.map((x) => x.ms))).toFixed(2)),
  bombBytes: bomb.bytes.length,
  bombRefusalMs: Number(median(refusals).toFixed(2)),
  at: new Date().toISOString(),
};
console.log(result);
writeFileSync(join(here, 'results', 'safe-upload.json'), `${JSON.stringify(result, null, 2)}\n`);
