import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering the README describes, enforced: chat handlers call use cases (no queries of their own,
// no encryption), and domain code imports no framework and no adapter.

const root = join(import.meta.dirname, '..', '..');

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

async function offending(dir: string, rules: RegExp[]): Promise<string[]> {
  const found: string[] = [];
  for (const f of await files(join(root, dir))) {
    const lines = (await readFile(f, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      for (const r of rules) if (r.test(line)) found.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

describe('boundaries', () => {
  it('chat handlers (src/adapters/telegram) neither query the database nor encrypt: they call use cases', async () => {
    expect(
      await offending('src/adapters/telegram', [
        /\bdb\.[a-z][A-Za-z]*\.(find|create|update|upsert|delete|count|aggregate|groupBy)/,
        /\bdb\.\$(transaction|queryRaw|executeRaw)/,
        /\bcipher\.(encrypt|decrypt|hash)\(/,
      ]),
    ).toEqual([]);
  });

  it('domain code (src/domain) imports no framework and no adapter', async () => {
    expect(
      await offending('src/domain', [
        /from '(telegraf|bullmq|ioredis|pg|exceljs|@prisma\/[^']+)'/,
        /from '\.\.?\/.*(adapters|usecases|generated)\//,
      ]),
    ).toEqual([]);
  });

  it('the heavy file libraries are loaded at first use, not with every process (only `import type` statically)', async () => {
    // exceljs (~16 MB) through loadExcel, vega, vega-lite and resvg (~30 MB) inside the chart's renderer:
    // the bot and the worker idle ~30 MB lighter (README, "Start time and idle memory").
    expect(
      await offending('src', [/^import (?!type )[^;]*from '(exceljs|vega|vega-lite|@resvg\/resvg-js)'/]),
    ).toEqual([]);
  });
});
