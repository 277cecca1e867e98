import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseUpload, type UploadKind } from '../../src/adapters/files/safe-upload.ts';
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
