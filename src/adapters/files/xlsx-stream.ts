import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { crc32, createDeflateRaw, type ZlibOptions } from 'node:zlib';

// A minimal streaming .xlsx writer for exports of any length: rows become SpreadsheetML text
// (inline strings, no shared-string table), deflated into a zip written straight to `out` (entries
// with data descriptors, so no size is needed up front). Every write waits for `out` to drain, so a
// slow consumer (a file, an upload) holds back the producer, and memory holds one chunk of rows.
// Styles: 0 plain, 1 bold, 2 bold 13 pt (titles), 3 number "0.00" (money).
//
// ExcelJS's streaming writer did the same job about 5x slower per row and buffered most of the
// compressed sheet until the end (its output size could not drive the 50 MB split).

export type CellValue = string | number | null | undefined;
export const STYLE = { plain: 0, bold: 1, title: 2, money: 3 } as const;

const enc = (s: string) => Buffer.from(s, 'utf8');
// Characters XML 1.0 does not allow (control characters other than tab, LF, CR; lone surrogates).
function stripInvalidXml(s: string): string {
  let out: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0xd800) {
      if (out !== undefined) out += s[i];
      continue;
    }
    let ok = c === 9 || c === 10 || c === 13 || (c > 0xdfff && c < 0xfffe);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (out !== undefined) out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
      ok = false;
    }
    if (!ok) out ??= s.slice(0, i);
    else if (out !== undefined) out += s[i];
  }
  return out ?? s;
}
const xml = (s: string) =>
  stripInvalidXml(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

function colName(i: number): string {
  let n = i + 1;
  let s = '';
  while (n > 0) {
    const m = (n - 1) % 26;
    s = String.fromCharCode(65 + m) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}
const COLS = Array.from({ length: 64 }, (_, i) => colName(i));

const DOS_TIME = (() => {
  const d = new Date();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2);
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, date };
})();

interface Entry {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  size: number;
}

/** How far an entry's bytes have got: for a caller that cuts its output into parts by size. */
interface EntryProgress {
  /** Bytes written to the output so far (the whole zip). */
  written: () => number;
  /** Bytes handed to the deflate that it has not consumed yet. */
  unconsumed: () => number;
  /** Resolves once the deflate has consumed all it was given and passed its output on. */
  settled: () => Promise<void>;
}

/**
 * Output the deflate may still hold after consuming its input (its window and pending block: well
 * under 1 MB at the default window and memory level), plus deflate's worst-case growth of the input.
 */
const HELD_BY_DEFLATE = 1024 * 1024;

/** Zip container with streamed, deflated entries (data descriptors; sizes under 4 GB). */
class ZipStream {
  private offset = 0;
  private readonly entries: Entry[] = [];

  constructor(private readonly out: Writable) {}

  private async raw(buf: Buffer) {
    this.offset += buf.length;
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }

  /** Starts an entry; returns a writer of its content and a closer. */
  async entry(name: string) {
    const e: Entry = { name: enc(name), offset: this.offset, crc: 0, compressed: 0, size: 0 };
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x0808, 6); // data descriptor follows; UTF-8 names
    h.writeUInt16LE(8, 8);
    h.writeUInt16LE(DOS_TIME.time, 10);
    h.writeUInt16LE(DOS_TIME.date, 12);
    h.writeUInt16LE(e.name.length, 26);
    await this.raw(Buffer.concat([h, e.name]));
    // A few MB of XML may queue for the deflate (zlib's thread) while this thread builds the next rows.
    // (zlib passes stream options on to its Transform; @types/node's ZlibOptions does not list them.)
    const deflate = createDeflateRaw({
      level: DEFLATE_LEVEL,
      ...({ writableHighWaterMark: 4 * CHUNK_BYTES } as ZlibOptions),
    });
    const pending: Promise<void>[] = [];
    deflate.on('data', (chunk: Buffer) => {
      e.compressed += chunk.length;
      this.offset += chunk.length;
      if (!this.out.write(chunk)) {
        deflate.pause();
        pending.push(once(this.out, 'drain').then(() => void deflate.resume()));
      }
    });
    const ended = once(deflate, 'end');
    let unconsumed = 0;
    const waiting: (() => void)[] = [];
    /** `done`, if given, is called once the deflate has consumed `data` (its buffer may be reused). */
    const write = async (data: string | Buffer, done?: () => void) => {
      const buf = typeof data === 'string' ? enc(data) : data;
      e.crc = crc32(buf, e.crc);
      e.size += buf.length;
      unconsumed += buf.length;
      const consumed = () => {
        unconsumed -= buf.length;
        done?.();
        if (unconsumed === 0) for (const w of waiting.splice(0)) w();
      };
      if (!deflate.write(buf, consumed)) await once(deflate, 'drain');
    };
    const progress: EntryProgress = {
      written: () => this.offset,
      unconsumed: () => unconsumed,
      settled: () => (unconsumed === 0 ? Promise.resolve() : new Promise<void>((r) => waiting.push(r))),
    };
    const close = async () => {
      deflate.end();
      await ended;
      await Promise.all(pending);
      const d = Buffer.alloc(16);
      d.writeUInt32LE(0x08074b50, 0);
      d.writeUInt32LE(e.crc >>> 0, 4);
      d.writeUInt32LE(e.compressed, 8);
      d.writeUInt32LE(e.size, 12);
      await this.raw(d);
      this.entries.push(e);
    };
    return { write, close, ...progress };
  }

  async file(name: string, text: string) {
    const w = await this.entry(name);
    await w.write(text);
    await w.close();
  }

  async finish() {
    const start = this.offset;
    const parts: Buffer[] = [];
    for (const e of this.entries) {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0808, 8);
      c.writeUInt16LE(8, 10);
      c.writeUInt16LE(DOS_TIME.time, 12);
      c.writeUInt16LE(DOS_TIME.date, 14);
      c.writeUInt32LE(e.crc >>> 0, 16);
      c.writeUInt32LE(e.compressed, 20);
      c.writeUInt32LE(e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt32LE(e.offset, 42);
      parts.push(c, e.name);
    }
    const cd = Buffer.concat(parts);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(cd.length, 12);
    end.writeUInt32LE(start, 16);
    await this.raw(Buffer.concat([cd, end]));
  }
}

export interface SheetSpec {
  name: string;
  widths: number[];
  /** Rows frozen at the top (0: none). */
  frozenRows?: number;
}

const NS =
  'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
// Each row is built as one string and encoded (UTF-8) straight into a chunk of this size. Appending
// rows to one long string and encoding it at 256 KB cost several times more: V8 had to flatten a rope
// of ~150 pieces per row, kept alive (and promoted by the GC) until the flush.
const CHUNK_BYTES = 1024 * 1024;
// Level 3: on the 100,000-row ledger 11.2 MB instead of 10.3 MB at level 6, in about half the time.
const DEFLATE_LEVEL = 3;
// A cell text that needs more than copying: a character to escape or strip (XML-invalid controls,
// surrogates, U+FFFE/U+FFFF), or whitespace a reader could drop without xml:space="preserve" (at
// either end, a run, a tab or line break). Most cells match none: one regexp test, no copies.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding XML-invalid control characters is the point
const NEEDS_CARE = /[&<>"\u0000-\u001f\ud800-\udfff\ufffe\uffff]|^\s|\s$|\s\s/;
// The constant parts of a cell, per column and style (the row number goes between them).
const CELL_OPEN = COLS.map((c) => `<c r="${c}`);
const NUM_OPEN = [0, 1, 2, 3].map((st) => (st ? `" s="${st}"><v>` : '"><v>'));
const STR_OPEN = [0, 1, 2, 3].map((st) => `"${st ? ` s="${st}"` : ''} t="inlineStr"><is><t>`);
const STR_OPEN_PRESERVE = [0, 1, 2, 3].map(
  (st) => `"${st ? ` s="${st}"` : ''} t="inlineStr"><is><t xml:space="preserve">`,
);

/**
 * One worksheet being written: rows in order, encoded into chunks of about 1 MB. A chunk the deflate
 * has consumed is reused: fresh 1 MB buffers became garbage outside the JS heap that V8 collected
 * only every ~64 MB.
 */
export class SheetWriter {
  private r = 0;
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly free: Buffer[] = [];

  constructor(
    private readonly w: {
      write: (data: string | Buffer, done?: () => void) => Promise<void>;
      progress?: EntryProgress;
    },
  ) {}

  /** Appends a row; `styles[i]` styles cell i (default plain). Empty cells are left out. */
  async row(values: readonly CellValue[], styles?: readonly number[] | number) {
    const rs = String(++this.r);
    let s = `<row r="${rs}">`;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || v === '') continue;
      const st = typeof styles === 'number' ? styles : (styles?.[i] ?? 0);
      const open = CELL_OPEN[i] ?? `<c r="${colName(i)}`;
      if (typeof v === 'number' && Number.isFinite(v)) s += `${open}${rs}${NUM_OPEN[st]}${v}</v></c>`;
      else {
        const t = String(v);
        s += NEEDS_CARE.test(t)
          ? `${open}${rs}${STR_OPEN_PRESERVE[st]}${xml(t)}</t></is></c>`
          : `${open}${rs}${STR_OPEN[st]}${t}</t></is></c>`;
      }
    }
    s += '</row>';
    // At most 3 bytes of UTF-8 per UTF-16 unit: `write` never truncates a row that passes this test.
    if (s.length * 3 > CHUNK_BYTES - this.used) {
      await this.flush();
      if (s.length * 3 > CHUNK_BYTES) return this.w.write(s);
    }
    this.used += this.chunk.write(s, this.used);
  }
  /**
   * Hands the rows encoded so far to the zip entry (also at the end of each page of rows). `settleAt`:
   * the output size at which the caller cuts a part (export-parts.ts). When the output might reach it
   * once the deflate has caught up, waits for the deflate: the size the part split then reads depends on
   * the rows alone, not on how far zlib's thread happened to be, so a retried export cuts its parts
   * where the first attempt did. Far from the cut it does not wait (compression runs beside the rows).
   */
  async flush(settleAt?: number) {
    if (this.used > 0) {
      const full = this.chunk;
      // The deflate keeps the chunk until it has compressed it: the next rows go to another one.
      this.chunk = this.free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
      const b = full.subarray(0, this.used);
      this.used = 0;
      await this.w.write(b, () => this.free.push(full));
    }
    const p = this.w.progress;
    if (settleAt !== undefined && p && p.written() + p.unconsumed() + HELD_BY_DEFLATE >= settleAt)
      await p.settled();
  }
}
const STYLES = `${HEAD}<styleSheet ${NS.split(' ')[0]}><fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="13"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`;

/**
 * Writes a workbook to `out`: `sheets[i]` is filled by `fill[i]` with a SheetWriter, in order.
 * Ends `out` when done.
 */
export async function writeXlsx(
  out: Writable,
  sheets: { spec: SheetSpec; fill: (s: SheetWriter) => Promise<void> }[],
): Promise<void> {
  const zip = new ZipStream(out);
  const n = sheets.length;
  await zip.file(
    '[Content_Types].xml',
    `${HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>${sheets.map((_, i) => `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('')}</Types>`,
  );
  await zip.file(
    '_rels/.rels',
    `${HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
  );
  await zip.file(
    'xl/workbook.xml',
    `${HEAD}<workbook ${NS}><sheets>${sheets.map((s, i) => `<sheet name="${xml(s.spec.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets></workbook>`,
  );
  await zip.file(
    'xl/_rels/workbook.xml.rels',
    `${HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join('')}<Relationship Id="rId${n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
  );
  await zip.file('xl/styles.xml', STYLES);
  for (const [i, sheet] of sheets.entries()) {
    const w = await zip.entry(`xl/worksheets/sheet${i + 1}.xml`);
    const frozen = sheet.spec.frozenRows ?? 0;
    const view = frozen
      ? `<sheetViews><sheetView workbookViewId="0"><pane ySplit="${frozen}" topLeftCell="A${frozen + 1}" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>`
      : '<sheetViews><sheetView workbookViewId="0"/></sheetViews>';
    const cols = sheet.spec.widths
      .map((wd, c) => `<col min="${c + 1}" max="${c + 1}" width="${wd}" customWidth="1"/>`)
      .join('');
    await w.write(
      `${HEAD}<worksheet ${NS}>${view}<sheetFormatPr defaultRowHeight="15"/><cols>${cols}</cols><sheetData>`,
    );
    const sw = new SheetWriter({ write: w.write, progress: w });
    await sheet.fill(sw);
    await sw.flush();
    await w.write('</sheetData></worksheet>');
    await w.close();
  }
  await zip.finish();
  out.end();
}
