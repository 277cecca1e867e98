import { readdirSync, readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseUpload, ROW_SLICE, type UploadKind } from '../../src/adapters/files/safe-upload.ts';
import { inspectZip, UPLOAD_ZIP_LIMITS } from '../../src/adapters/files/safe-zip.ts';
import { type HostileFile, hostileCorpus } from '../fixtures/hostile/generate.ts';

// Finding 3 (issue 12): hostile spreadsheets are refused before they are inflated, and what is parsed is
// parsed in a child process with a heap cap and a time limit. Every upload kind meets every hostile file.

const KINDS: UploadKind[] = ['nomination_sheet', 'return_file', 'handover_sheet', 'entry_list'];
let corpus: HostileFile[];

beforeAll(async () => {
  corpus = await hostileCorpus();
}, 60_000);

async function sheet(rows: (string | number)[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('s');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('zip central directory', () => {
  it('refuses the 500 MB bomb from its declared size, without inflating', () => {
    const bomb = corpus.find((f) => f.name === 'bomb.xlsx')!;
    const before = process.memoryUsage().arrayBuffers;
    const r = inspectZip(bomb.bytes);
    expect(r).toMatchObject({ ok: false, code: 'zip_too_large' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50_000_000);
  });

  it('reads a real workbook', async () => {
    const r = inspectZip(
      await sheet([
        ['序号', '状态'],
        [1, '成功'],
      ]),
    );
    expect(r.ok).toBe(true);
  });
});

describe('every upload kind refuses every hostile file and stays usable', () => {
  for (const kind of KINDS) {
    it(`${kind}`, async () => {
      for (const f of corpus) {
        const r = await parseUpload(kind, f.bytes, f.name);
        // Either refused outright or parsed to a "not a workbook we read" answer: never a throw, never
        // content from a bomb.
        if (r.ok) {
          expect(JSON.stringify(r.value).length, f.attack).toBeLessThan(10_000);
          expect(r.value.ok, f.attack).toBe(f.name === 'entities.xlsx' ? r.value.ok : false);
        } else expect(['zip_too_large', 'zip_bad', 'unreadable'], f.attack).toContain(r.refused);
      }
      // The same door still parses a real file afterwards.
      const good = await parseUpload(
        'return_file',
        await sheet([
          ['序号', '状态'],
          [7, '成功'],
        ]),
        'r.xlsx',
      );
      expect(good).toMatchObject({ ok: true, value: { ok: true, rows: [{ ref: 7, status: 'paid' }] } });
    }, 120_000);
  }

  it('a parse over its time limit or heap cap is refused, not waited for', async () => {
    const big = await sheet(Array.from({ length: 30_000 }, (_, i) => [i, '成功', 'x'.repeat(40)]));
    expect(await parseUpload('return_file', big, 'big.xlsx', { timeoutMs: 1 })).toEqual({
      ok: false,
      refused: 'too_slow',
    });
    // The parser runs out of its 8 MB heap: V8 aborts the child process (a worker thread's cap could
    // abort the caller's whole process, nodejs/node#47224); this process lives on and is told why.
    expect(await parseUpload('return_file', big, 'big.xlsx', { maxHeapMb: 8 })).toEqual({
      ok: false,
      refused: 'too_much_memory',
    });
    expect(UPLOAD_ZIP_LIMITS.maxEntryBytes).toBeGreaterThan(12 * 1024 * 1024);
  }, 120_000);
});

describe('a nomination sheet sent in slices while it is parsed', () => {
  const nominationSheet = (rows: number) =>
    sheet([
      ['姓名', '身份证号', '手机号'],
      ...Array.from({ length: rows }, (_, i) => [`王${i}`, `ID${i}`, `139${String(i).padStart(8, '0')}`]),
    ]);

  it('hands out the rows in file order, 1,000 at a time, before the parse ends; the result holds them all', async () => {
    const file = await nominationSheet(2_500);
    const whole = await parseUpload('nomination_sheet', file, 'n.xlsx');
    let settled = false;
    const slices: number[][] = [];
    const streamed = await parseUpload('nomination_sheet', file, 'n.xlsx', {
      onRows: (rows) => {
        expect(settled).toBe(false);
        slices.push(rows.map((r) => r.line));
      },
    }).finally(() => {
      settled = true;
    });
    expect(ROW_SLICE).toBe(1000);
    expect(slices.map((s) => s.length)).toEqual([1000, 1000]);
    expect(slices.flat()).toEqual(Array.from({ length: 2000 }, (_, i) => i + 2));
    expect(whole.ok && whole.value.ok).toBe(true);
    expect(streamed).toEqual(whole);
    // A short sheet sends nothing early: its rows come with the result.
    const few: unknown[] = [];
    const short = await parseUpload('nomination_sheet', await nominationSheet(5), 'n.xlsx', {
      onRows: (rows) => few.push(rows),
    });
    expect(few).toEqual([]);
    expect(short).toMatchObject({ ok: true, value: { ok: true, rows: { length: 5 } } });
  }, 120_000);

  it('a child that dies after sending slices gives the same refusal, and no rows after it', async () => {
    const file = await nominationSheet(5_000);
    // The child parsing this file is the only one with this heap cap: killed when its first slice arrives.
    const cap = 300;
    let after = 0;
    let killed = false;
    const r = await parseUpload('nomination_sheet', file, 'n.xlsx', {
      maxHeapMb: cap,
      onRows: () => {
        if (killed) {
          after++;
          return;
        }
        killed = true;
        for (const pid of childPids())
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--max-old-space-size=${cap}`))
            process.kill(pid, 'SIGKILL');
      },
    });
    expect(killed).toBe(true);
    expect(r).toEqual({ ok: false, refused: 'unreadable' });
    // Slices already in the channel may still be handed out before the exit is seen; none after it.
    const seen = after;
    await new Promise((res) => setTimeout(res, 200));
    expect(after).toBe(seen);
    // The door stays usable.
    expect(await parseUpload('nomination_sheet', await nominationSheet(3), 'n.xlsx')).toMatchObject({
      ok: true,
    });
  }, 120_000);
});

/** This process's child processes (Linux /proc). */
function childPids(): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const pids = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
    if (pids) out.push(...pids.split(' ').map(Number));
  }
  return out;
}
