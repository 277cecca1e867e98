import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSummary } from './summary.ts';

// npm run bench [-- <name> ...]: runs every bench/*.bench.ts (or the named ones) one after another,
// each in its own process so memory figures do not mix. Each prints its figures and writes
// bench/results/<name>.json; see bench/README.md. At the end, issue 13's table (summary.ts): each
// figure with its same-run baseline and whether its target is met (`npm run bench -- --summary`
// prints it from the existing results without running anything).

const dir = dirname(fileURLToPath(import.meta.url));
const summaryOnly = process.argv.includes('--summary');
const wanted = process.argv.slice(2).filter((a) => a !== '--summary');
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
// `scale` (200,000 nominations, minutes) runs only when named: npm run bench -- scale
const ON_REQUEST = ['scale'];
const run = summaryOnly
  ? []
  : wanted.length
    ? all.filter((n) => wanted.includes(n))
    : all.filter((n) => !ON_REQUEST.includes(n));
if (run.length === 0 && !summaryOnly) {
  console.error(`no benchmark named ${wanted.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of run) {
  console.log(`\n=== bench: ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.bench.ts`)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${name} exited with ${r.status ?? r.signal}`);
  }
}
printSummary();
process.exit(failed ? 1 : 0);
