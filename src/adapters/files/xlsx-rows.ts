import { inspectZip, readZipEntry, UPLOAD_ZIP_LIMITS, type ZipEntry, type ZipLimits } from './safe-zip.ts';

// Cell values of one worksheet of an .xlsx, read straight from the sheet's XML: no workbook model,
// no cell objects, no styles beyond "is this number a date". exceljs' whole-workbook load built a
// Cell object (with style, address, model) for each of 110,000 cells of a 10,000-row list, which was
// most of the import's time and memory; its streaming reader split multi-byte characters at chunk
// borders. Here each part is inflated within its declared size (safe-zip.ts), decoded as UTF-8 once,
// and scanned with indexOf: a cell costs one string (or number).
//
// Values match what exceljs gave the nomination-sheet parser: shared / inline strings (rich text
// joined, phonetic runs left out), numbers, booleans, formula results, error codes as text ("#N/A"),
// and numbers whose cell format is a date as Date (1900 or 1904 date system).

export type XlsxCell = string | number | boolean | Date | null;

export interface XlsxSheetInfo {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
}

export class XlsxError extends Error {}

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;

function decodeXml(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (_m, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/** Value of attribute `name` in an element's opening tag text (`<c r="A1" t="s">`), or undefined. */
function attr(tag: string, name: string): string | undefined {
  let from = 0;
  for (;;) {
    const i = tag.indexOf(`${name}="`, from);
    if (i < 0) return undefined;
    const before = tag.charCodeAt(i - 1);
    // whole attribute name only (r= must not match in "ref=")
    if (before === 32 || before === 9 || before === 10 || before === 13) {
      const start = i + name.length + 2;
      const end = tag.indexOf('"', start);
      return end < 0 ? undefined : decodeXml(tag.slice(start, end));
    }
    from = i + 1;
  }
}

/** Text of every `<t>` inside `xml` (rich text runs joined), leaving out phonetic runs (`<rPh>`). */
function textRuns(xml: string): string {
  let out = '';
  let p = 0;
  for (;;) {
    const t = xml.indexOf('<t', p);
    if (t < 0) return out;
    const ph = xml.indexOf('<rPh', p);
    if (ph >= 0 && ph < t) {
      const end = xml.indexOf('</rPh>', ph);
      if (end < 0) return out;
      p = end + 6;
      continue;
    }
    const c = xml.charCodeAt(t + 2);
    if (c !== 62 && c !== 32 && c !== 47) {
      p = t + 2; // <tag...> other than <t>
      continue;
    }
    const open = xml.indexOf('>', t);
    if (open < 0) return out;
    if (xml.charCodeAt(open - 1) === 47) {
      p = open + 1; // <t/>
      continue;
    }
    const close = xml.indexOf('</t>', open);
    if (close < 0) return out;
    out += decodeXml(xml.slice(open + 1, close));
    p = close + 4;
  }
}

/** Column number (0-based) of a cell reference such as "AB12". */
function columnOf(ref: string): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c >= 65 && c <= 90) n = n * 26 + (c - 64);
    else if (c >= 97 && c <= 122) n = n * 26 + (c - 96);
    else break;
  }
  return n - 1;
}

const BUILTIN_DATE_FORMATS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);

/** exceljs' rule: a format is a date format when, outside quotes and brackets, it has y m d h s or b. */
function isDateFormat(code: string): boolean {
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

function excelToDate(v: number, date1904: boolean): Date {
  return new Date(Math.round((v - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/** One opened .xlsx: its parts inflated on demand within the zip limits. */
export class XlsxFile {
  private readonly entries: Map<string, ZipEntry>;

  constructor(
    private readonly bytes: Uint8Array,
    limits: ZipLimits = UPLOAD_ZIP_LIMITS,
    /** Parts already inflated within their declared sizes (verifyZip's), by entry name; each used once. */
    private readonly inflated?: Map<string, Buffer>,
  ) {
    const zip = inspectZip(bytes, limits);
    if (!zip.ok) throw new XlsxError(zip.detail);
    this.entries = new Map(zip.entries.map((e) => [e.name.replace(/^\/+/, ''), e]));
  }

  private part(name: string): string | undefined {
    const e = this.entries.get(name.replace(/^\/+/, ''));
    if (!e) return undefined;
    const done = this.inflated?.get(e.name);
    if (done) {
      this.inflated!.delete(e.name);
      return done.toString('utf8');
    }
    return readZipEntry(this.bytes, e).toString('utf8');
  }

  private workbookXml(): string {
    const wb = this.part('xl/workbook.xml');
    if (wb === undefined) throw new XlsxError('no xl/workbook.xml');
    return wb;
  }

  /** Worksheets in workbook order with their part names. */
  sheets(): (XlsxSheetInfo & { part: string | undefined })[] {
    const wb = this.workbookXml();
    const rels = new Map<string, string>();
    const relXml = this.part('xl/_rels/workbook.xml.rels') ?? '';
    for (const m of relXml.matchAll(/<Relationship\b[^>]*>/g)) {
      const id = attr(m[0], 'Id');
      const target = attr(m[0], 'Target');
      if (id && target)
        rels.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`);
    }
    const out: (XlsxSheetInfo & { part: string | undefined })[] = [];
    for (const m of wb.matchAll(/<sheet\b[^>]*>/g)) {
      const state = attr(m[0], 'state');
      const rid = attr(m[0], 'r:id') ?? [...m[0].matchAll(/\s[\w]+:id="([^"]*)"/g)][0]?.[1];
      out.push({
        name: attr(m[0], 'name') ?? '',
        state: state === 'hidden' || state === 'veryHidden' ? state : 'visible',
        part: rid ? rels.get(rid) : undefined,
      });
    }
    return out;
  }

  private sharedStrings(): string[] {
    const xml = this.part('xl/sharedStrings.xml');
    if (!xml) return [];
    const out: string[] = [];
    let p = 0;
    for (;;) {
      const s = xml.indexOf('<si', p);
      if (s < 0) break;
      const open = xml.indexOf('>', s);
      if (open < 0) break;
      if (xml.charCodeAt(open - 1) === 47) {
        out.push('');
        p = open + 1;
        continue;
      }
      const end = xml.indexOf('</si>', open);
      if (end < 0) break;
      out.push(textRuns(xml.slice(open + 1, end)));
      p = end + 5;
    }
    return out;
  }

  /** Style index → "numbers in this style are dates". */
  private dateStyles(): boolean[] {
    const xml = this.part('xl/styles.xml');
    if (!xml) return [];
    const custom = new Map<number, string>();
    for (const m of xml.matchAll(/<numFmt\b[^>]*>/g)) {
      const id = Number(attr(m[0], 'numFmtId'));
      const code = attr(m[0], 'formatCode');
      if (Number.isFinite(id) && code !== undefined) custom.set(id, code);
    }
    const xfsStart = xml.indexOf('<cellXfs');
    if (xfsStart < 0) return [];
    const xfsEnd = xml.indexOf('</cellXfs>', xfsStart);
    const xfs = xml.slice(xfsStart, xfsEnd < 0 ? undefined : xfsEnd);
    const out: boolean[] = [];
    for (const m of xfs.matchAll(/<xf\b[^>]*>/g)) {
      const id = Number(attr(m[0], 'numFmtId') ?? 0);
      const code = custom.get(id);
      out.push(code !== undefined ? isDateFormat(code) : BUILTIN_DATE_FORMATS.has(id));
    }
    return out;
  }

  /**
   * Rows of one worksheet part in file order: 1-based line numbers and cells by column (empty cells
   * are null; trailing empties are not there).
   */
  *rows(part: string): Generator<{ line: number; cells: XlsxCell[] }> {
    const xml = this.part(part);
    if (xml === undefined) throw new XlsxError(`no part ${part}`);
    const shared = this.sharedStrings();
    const dates = this.dateStyles();
    const date1904 = /<workbookPr\b[^>]*\bdate1904="(1|true)"/.test(this.workbookXml());
    const dataStart = xml.indexOf('<sheetData');
    if (dataStart < 0) return;
    const dataEnd = xml.indexOf('</sheetData>', dataStart);
    const limit = dataEnd < 0 ? xml.length : dataEnd;
    let p = dataStart;
    let lastLine = 0;
    for (;;) {
      const r = xml.indexOf('<row', p);
      if (r < 0 || r >= limit) return;
      const rowTagEnd = xml.indexOf('>', r);
      if (rowTagEnd < 0) return;
      const rowTag = xml.slice(r, rowTagEnd);
      const rAttr = attr(rowTag, 'r');
      const line = rAttr ? Number(rAttr) : lastLine + 1;
      lastLine = line;
      if (xml.charCodeAt(rowTagEnd - 1) === 47) {
        p = rowTagEnd + 1; // <row .../>
        continue;
      }
      const rowEnd = xml.indexOf('</row>', rowTagEnd);
      const end = rowEnd < 0 ? limit : rowEnd;
      const cells: XlsxCell[] = [];
      let q = rowTagEnd + 1;
      let col = -1;
      for (;;) {
        const c = xml.indexOf('<c', q);
        if (c < 0 || c >= end) break;
        const next = xml.charCodeAt(c + 2);
        if (next !== 32 && next !== 62 && next !== 47) {
          q = c + 2;
          continue;
        }
        const tagEnd = xml.indexOf('>', c);
        const tag = xml.slice(c, tagEnd);
        const ref = attr(tag, 'r');
        col = ref ? columnOf(ref) : col + 1;
        let body = '';
        if (xml.charCodeAt(tagEnd - 1) === 47) q = tagEnd + 1;
        else {
          const close = xml.indexOf('</c>', tagEnd);
          body = xml.slice(tagEnd + 1, close);
          q = close + 4;
        }
        const value = cellValue(tag, body, shared, dates, date1904);
        if (value === null) continue;
        while (cells.length < col) cells.push(null);
        cells[col] = value;
      }
      p = end + 6;
      yield { line, cells };
    }
  }
}

function innerOf(body: string, tag: 'v' | 'is'): string | undefined {
  const s = body.indexOf(`<${tag}`);
  if (s < 0) return undefined;
  const open = body.indexOf('>', s);
  if (body.charCodeAt(open - 1) === 47) return '';
  const close = body.indexOf(`</${tag}>`, open);
  return close < 0 ? undefined : body.slice(open + 1, close);
}

function cellValue(
  tag: string,
  body: string,
  shared: string[],
  dates: boolean[],
  date1904: boolean,
): XlsxCell {
  const type = attr(tag, 't') ?? 'n';
  if (type === 'inlineStr') {
    const is = innerOf(body, 'is');
    return is === undefined ? null : textRuns(is);
  }
  const v = innerOf(body, 'v');
  if (v === undefined) return null;
  switch (type) {
    case 's': {
      const s = shared[Number(v)];
      return s === undefined ? null : s;
    }
    case 'str':
      return decodeXml(v);
    case 'b':
      return v === '1' || v === 'true';
    case 'e':
      return decodeXml(v);
    case 'd': {
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? decodeXml(v) : d;
    }
    default: {
      const n = Number.parseFloat(v);
      if (Number.isNaN(n)) return decodeXml(v);
      const s = attr(tag, 's');
      return s !== undefined && dates[Number(s)] ? excelToDate(n, date1904) : n;
    }
  }
}
