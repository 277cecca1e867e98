import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Issue 13's table from the results of the last runs (bench/results/*.json): each figure with its
// same-run baseline, its target and whether the target is met. Printed at the end of `npm run bench`
// (or alone: `npm run bench -- --summary`) and written to bench/results/summary.json.

const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');

type Json = Record<string, unknown>;
const read = (name: string): Json | undefined => {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : undefined;
};
const num = (o: unknown, ...path: string[]): number | undefined => {
  let x: unknown = o;
  for (const k of path) x = x && typeof x === 'object' ? (x as Json)[k] : undefined;
  return typeof x === 'number' ? x : undefined;
};
const first = (...xs: (number | undefined)[]) => xs.find((x) => x !== undefined);

export interface SummaryRow {
  path: string;
  result: Record<string, number | undefined>;
  baseline: Record<string, number | string | undefined>;
  target: string;
  met: boolean | null;
  source: string;
  measuredAt?: string;
}

export function summarize(): SummaryRow[] {
  const rows: SummaryRow[] = [];

  // Ledger export (bench/ledger.bench.ts, rewritten under issue 13): stable fields if present,
  // otherwise the former shape (xlsx / csv phases).
  const ledger = read('ledger');
  if (ledger) {
    const ms = first(num(ledger, 'ms'), num(ledger, 'xlsx', 'ms'));
    const peak = first(num(ledger, 'peakRssMb'), num(ledger, 'xlsx', 'peakRssMb'));
    rows.push({
      path: `ledger export, ${first(num(ledger, 'rows'), 0)!.toLocaleString('en-US')} rows, .xlsx`,
      // Under tsx (the stable fields: peakRssMb is the export's child process), then as deployed (plain
      // node on the production bundle), the parent's growth and the deployed worker's idle RSS (the
      // export's parent; see bench/README.md).
      result: {
        ms,
        peakRssMb: peak,
        parentAddsMb: first(num(ledger, 'parentAddsMb'), num(ledger, 'exportAddsMb')),
        distMs: num(ledger, 'dist', 'ms'),
        distPeakRssMb: num(ledger, 'dist', 'peakRssMb'),
        distParentAddsMb: first(num(ledger, 'dist', 'parentAddsMb'), num(ledger, 'dist', 'exportAddsMb')),
        workerIdleRssMb: num(ledger, 'workerIdleRssMb'),
      },
      baseline: {
        what: (ledger['baseline'] as Json | undefined)?.['what'] as string | undefined,
        ms: first(num(ledger, 'baseline', 'ms'), num(ledger, 'csv', 'ms')),
        peakRssMb: first(num(ledger, 'baseline', 'peakRssMb'), num(ledger, 'csv', 'peakRssMb')),
      },
      target: '≤ 5 s and ≤ 200 MB peak',
      met: ms !== undefined && peak !== undefined ? ms <= 5000 && peak <= 200 : null,
      source: 'ledger.json',
      measuredAt: (ledger['date'] ?? ledger['when']) as string | undefined,
    });
  }

  const imp = read('nomination-import');
  if (imp) {
    const rps = num(imp, 'rowsPerSecond');
    const peak = num(imp, 'peakRssMb');
    const submit = num(imp, 'submit', 'ms');
    rows.push({
      path: `spreadsheet import, ${num(imp, 'rows')?.toLocaleString('en-US')} rows (parse + validate + store drafts; then submit)`,
      result: {
        rows: num(imp, 'rows'),
        ms: num(imp, 'ms'),
        rowsPerSecond: rps,
        peakRssMb: peak,
        rssBeforeMb: num(imp, 'rssBeforeMb'),
        // The upload child that parsed the file (peakRssMb is the bot's process).
        parserChildPeakRssMb: num(imp, 'parserChild', 'peakRssMb'),
        submitMs: submit,
      },
      baseline: {
        what: (imp['baseline'] as Json | undefined)?.['what'] as string | undefined,
        ms: num(imp, 'baseline', 'ms'),
        rowsPerSecond: num(imp, 'baseline', 'rowsPerSecond'),
        peakRssMb: num(imp, 'baseline', 'peakRssMb'),
      },
      target: '≥ 10,000 rows/s, ≤ 200 MB peak; submit of 10,000 ≤ 2 s',
      met:
        rps !== undefined && peak !== undefined && submit !== undefined
          ? rps >= 10_000 && peak <= 200 && submit <= 2000
          : null,
      source: 'nomination-import.json',
      measuredAt: imp['date'] as string | undefined,
    });
  }

  const chat = read('import-chat');
  if (chat) {
    const rps = num(chat, 'rowsPerSecond');
    const peak = num(chat, 'peakRssMb');
    const submit = num(chat, 'submit', 'ms');
    rows.push({
      path: `the same upload through the chat, bot and worker as deployed (document → summary; then submit)`,
      result: {
        rows: num(chat, 'rows'),
        ms: num(chat, 'ms'),
        rowsPerSecond: rps,
        peakRssMb: peak,
        rssBeforeMb: num(chat, 'rssBeforeMb'),
        uploadChildPeakRssMb: num(chat, 'uploadChild', 'peakRssMb'),
        submitMs: submit,
      },
      baseline: {
        what: (chat['baseline'] as Json | undefined)?.['what'] as string | undefined,
        ms: num(chat, 'baseline', 'ms'),
      },
      target: '≥ 10,000 rows/s, ≤ 200 MB peak; submit of 10,000 ≤ 2 s',
      met:
        rps !== undefined && peak !== undefined && submit !== undefined
          ? rps >= 10_000 && peak <= 200 && submit <= 2000
          : null,
      source: 'import-chat.json',
      measuredAt: chat['date'] as string | undefined,
    });
  }

  for (const [name, path] of [
    ['review', 'review button press → decision recorded → card edited'],
    ['dialog-answers', 'nomination dialog answer → next prompt (100 contacts, limits off)'],
  ] as const) {
    const r = read(name);
    if (!r) continue;
    // The review bench before issue 13 kept its figures under review / baselineNoopBot.
    const median = first(num(r, 'medianMs'), num(r, 'review', 'approvePressLatency', 'medianMs'));
    const p95 = first(num(r, 'p95Ms'), num(r, 'review', 'approvePressLatency', 'p95Ms'));
    const bMedian = first(num(r, 'baseline', 'medianMs'), num(r, 'baselineNoopBot', 'latency', 'medianMs'));
    const bP95 = first(num(r, 'baseline', 'p95Ms'), num(r, 'baselineNoopBot', 'latency', 'p95Ms'));
    const known = [median, p95, bMedian, bP95].every((x) => x !== undefined);
    const ratioMet = known && median! <= 2 * bMedian! && p95! <= 2 * bP95!;
    rows.push({
      path,
      result: {
        medianMs: median,
        p95Ms: p95,
        medianRatio: known ? Math.round((median! / bMedian!) * 100) / 100 : undefined,
        p95Ratio: known ? Math.round((p95! / bP95!) * 100) / 100 : undefined,
      },
      baseline: {
        what: (r['baseline'] as Json | undefined)?.['what'] as string | undefined,
        medianMs: bMedian,
        p95Ms: bP95,
      },
      target:
        name === 'review'
          ? 'median ≤ 2× and p95 ≤ 2× the no-op bot; p95 ≤ 50 ms'
          : 'median ≤ 2× and p95 ≤ 2× the no-op bot',
      met: known ? ratioMet && (name !== 'review' || p95! <= 50) : null,
      source: `${name}.json`,
      measuredAt: (r['date'] ?? r['when']) as string | undefined,
    });
  }
  return rows;
}

const fmt = (o: Record<string, unknown>) =>
  Object.entries(o)
    .filter(([k, v]) => v !== undefined && k !== 'what')
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : String(v)}`)
    .join(', ');

export function printSummary(): void {
  const rows = summarize();
  console.log('\n=== issue 13: figures, same-run baselines, targets ===');
  for (const r of rows) {
    const met = r.met === null ? 'not measured' : r.met ? 'MET' : 'not met';
    console.log(
      `- ${r.path}\n    result:   ${fmt(r.result)}\n    baseline: ${fmt(r.baseline)}${r.baseline['what'] ? ` (${r.baseline['what']})` : ''}\n    target:   ${r.target} → ${met}   [${r.source}, ${r.measuredAt ?? '?'}]`,
    );
  }
  if (rows.length === 0) console.log('(no results yet: run the benchmarks first)');
  const out = join(dir, 'summary.json');
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
  console.log(`written ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) printSummary();
