import { PassThrough } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import { luhnValid } from '../../domain/identity/bank-card.ts';
import {
  CODED_COLUMNS,
  COLUMN_TITLES,
  type CodedColumn,
  columnForHeader,
  columnsFor,
  DIGIT_COLUMNS,
  requiredColumnsFor,
  type SheetColumn,
  vocabFor,
} from '../../domain/nomination/columns.ts';
import type { CategoryInfo } from '../../domain/nomination/form.ts';
import { I18n, type Locale } from '../i18n.ts';
import { neutraliseFormula, restoreNeutralised } from '../../domain/text.ts';
import { XlsxFile } from './xlsx-rows.ts';

// Nomination lists as spreadsheets: the .xlsx template for a category, parsing a filled .xlsx / .csv into
// rows of raw strings keyed by column, and the "checked" file sent back with a problem column.
// - The data sheet is the first visible sheet; the example row lives on the "填写说明 / Instructions" sheet, so the
//   parser can never import it.
// - ID, phone and card columns are formatted as text. A number cell there with 16+ digits has lost its
//   last digits in Excel (15 significant digits): that row gets `number_precision`, never a guess.
// - CSV: UTF-8 (with or without BOM), RFC 4180 quoting, comma / semicolon / tab. GBK/GB18030 CSV (Excel's
//   default "CSV" on Chinese Windows) is out of scope: it is refused with a message to save as UTF-8.

export const MAX_SHEET_ROWS = 20_000;
export const MAX_SHEET_BYTES = 5 * 1024 * 1024;
const HEADER_SEARCH_ROWS = 10;

const XLSX_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];

const DATA_SHEET = { zh: '申报名单', en: 'Nominations' } as const;
const HELP_SHEET = { zh: '填写说明', en: 'Instructions' } as const;
const LIST_SHEET = { zh: '选项', en: 'Lists' } as const;
const SKIP_SHEETS = new Set<string>([
  HELP_SHEET.zh,
  HELP_SHEET.en,
  LIST_SHEET.zh,
  LIST_SHEET.en,
  '检查结果说明',
]);

export const EXAMPLE_ID_NUMBER = '11010519491231002X';
export const EXAMPLE_PHONE = '13812345678';

let i18n: I18n | undefined;
const t = (locale: Locale, key: string, params: Record<string, string | number> = {}) => {
  i18n ??= new I18n();
  return i18n.t(locale, key, params);
};

const lang = (locale: Locale): 'zh' | 'en' => (locale === 'en' ? 'en' : 'zh');

/** The header text of a column in the user's language. */
export function columnTitle(column: SheetColumn, locale: Locale): string {
  return COLUMN_TITLES[column][lang(locale)];
}

// ---------------------------------------------------------------- template

export interface TemplateInput {
  campaign: { code: string; titleZh: string; titleEn: string };
  category: CategoryInfo;
  locale: Locale;
}

function exampleCard(): string {
  const body = '621700123456789012';
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  return `${body}0`;
}

function exampleValue(column: SheetColumn, cat: CategoryInfo, locale: Locale): string {
  const l = lang(locale);
  const nameOf = (c: CodedColumn, i = 0) => vocabFor(c, cat)[i]?.[l] ?? '';
  switch (column) {
    case 'name':
      return '张三';
    case 'id_number':
      return EXAMPLE_ID_NUMBER;
    case 'phone':
      return EXAMPLE_PHONE;
    case 'employer':
      return t(locale, 'upload.sheet.example_employer');
    case 'work_status':
      return nameOf('work_status');
    case 'model_worker_level':
      return nameOf('model_worker_level', 1);
    case 'hardship_tier':
      return nameOf('hardship_tier');
    case 'main_cause':
      return nameOf('main_cause', 5);
    case 'secondary_causes':
      return [nameOf('secondary_causes', 8), nameOf('secondary_causes', 2)].join(l === 'zh' ? '、' : ', ');
    case 'description':
      return t(locale, 'upload.sheet.example_description');
    case 'benefit_form':
      return nameOf('benefit_form');
    case 'bank_name':
      return t(locale, 'upload.sheet.example_bank');
    case 'bank_card':
      return exampleCard();
  }
}

function columnLetter(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
const ERROR_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFE0E0' } };
const WARN_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF5CC' } };

function columnWidth(column: SheetColumn): number {
  if (column === 'description') return 40;
  if (column === 'id_number' || column === 'bank_card' || column === 'secondary_causes') return 24;
  if (column === 'employer' || column === 'bank_name' || column === 'main_cause') return 22;
  return 16;
}

interface RangeValidations {
  dataValidations: { add(address: string, validation: ExcelJS.DataValidation): void };
}

/** The .xlsx template for one category: data sheet, instructions with the example row, hidden option lists. */
export async function buildTemplate(input: TemplateInput): Promise<Buffer> {
  const { category: cat, locale } = input;
  const l = lang(locale);
  const columns = columnsFor(cat);
  const wb = new (await loadExcel()).Workbook();
  wb.creator = 'warmth-bot';
  wb.title = `${input.campaign.code}/${cat.code}`;

  const data = wb.addWorksheet(DATA_SHEET[l], { views: [{ state: 'frozen', ySplit: 1 }] });
  data.columns = columns.map((c) => ({
    header: columnTitle(c, locale),
    key: c,
    width: columnWidth(c),
    ...(DIGIT_COLUMNS.has(c) ? { style: { numFmt: '@' } } : {}),
  }));
  const header = data.getRow(1);
  header.font = { bold: true };
  header.eachCell((cell) => {
    cell.fill = HEADER_FILL;
    cell.numFmt = '@';
  });

  // Option lists on a hidden sheet (inline lists are limited to 255 characters).
  const coded = columns.filter((c): c is CodedColumn => CODED_COLUMNS.has(c));
  const lists = wb.addWorksheet(LIST_SHEET[l], { state: 'hidden' });
  coded.forEach((c, i) => {
    const col = i + 1;
    lists.getCell(1, col).value = columnTitle(c, locale);
    vocabFor(c, cat).forEach((e, j) => {
      lists.getCell(j + 2, col).value = e[l];
    });
    const letter = columnLetter(col);
    const count = vocabFor(c, cat).length;
    const target = columnLetter(columns.indexOf(c) + 1);
    // Range validations exist at run time in exceljs 4.4 but are missing from its typings.
    (data as unknown as RangeValidations).dataValidations.add(`${target}2:${target}${MAX_SHEET_ROWS + 1}`, {
      type: 'list',
      allowBlank: true,
      formulae: [`'${LIST_SHEET[l]}'!$${letter}$2:$${letter}$${count + 1}`],
      // Secondary causes hold several values ("子女上学、下岗失业"): the list helps, typing stays allowed.
      showErrorMessage: c !== 'secondary_causes',
      errorStyle: 'stop',
      errorTitle: t(locale, 'upload.sheet.dropdown_error_title'),
      error: t(locale, 'upload.sheet.dropdown_error'),
    });
  });

  const help = wb.addWorksheet(HELP_SHEET[l]);
  help.columns = [{ width: 24 }, { width: 12 }, { width: 60 }, { width: 28 }];
  const title = help.addRow([
    t(locale, 'upload.sheet.help_title', {
      campaign: l === 'en' ? input.campaign.titleEn : input.campaign.titleZh,
      category: l === 'en' ? cat.nameEn : cat.nameZh,
      amount: formatYuan(cat.standardAmountFen),
    }),
  ]);
  title.font = { bold: true, size: 13 };
  for (const line of t(locale, 'upload.sheet.help_lines', { max: MAX_SHEET_ROWS }).split('\n'))
    help.addRow([line]);
  help.addRow([]);
  const tableHead = help.addRow([
    t(locale, 'upload.sheet.help_column'),
    t(locale, 'upload.sheet.help_required'),
    t(locale, 'upload.sheet.help_how'),
    t(locale, 'upload.sheet.help_example'),
  ]);
  tableHead.font = { bold: true };
  const required = new Set(requiredColumnsFor(cat, cat.benefitForms[0]));
  for (const c of columns) {
    const req =
      c === 'secondary_causes'
        ? t(locale, 'upload.sheet.optional')
        : (c === 'bank_name' || c === 'bank_card') && !required.has(c)
          ? t(locale, 'upload.sheet.transfer_only')
          : t(locale, 'upload.sheet.required');
    const options = CODED_COLUMNS.has(c)
      ? vocabFor(c as CodedColumn, cat)
          .map((e) => e[l])
          .join(l === 'zh' ? '、' : '; ')
      : '';
    const row = help.addRow([
      columnTitle(c, locale),
      req,
      t(locale, `upload.sheet.how.${c}`, { options }),
      exampleValue(c, cat, locale),
    ]);
    row.getCell(3).alignment = { wrapText: true, vertical: 'top' };
    row.getCell(4).numFmt = '@';
  }
  help.addRow([]);
  help.addRow([t(locale, 'upload.sheet.example_row_title')]).font = { bold: true };
  const exHead = help.addRow(columns.map((c) => columnTitle(c, locale)));
  exHead.eachCell((cell) => {
    cell.fill = HEADER_FILL;
  });
  const ex = help.addRow(columns.map((c) => exampleValue(c, cat, locale)));
  ex.eachCell((cell) => {
    cell.numFmt = '@';
  });

  return Buffer.from(await wb.xlsx.writeBuffer());
}

// ---------------------------------------------------------------- parsing

export interface CellIssue {
  column: SheetColumn;
  code: 'number_precision';
  params: Record<string, string | number>;
}

export interface SheetRow {
  /** Row number in the file as the user sees it (1-based, header included). */
  line: number;
  values: Partial<Record<SheetColumn, string>>;
  issues: CellIssue[];
}

export type SheetError =
  | { code: 'wrong_type'; params: { ext: string } }
  | { code: 'not_utf8'; params: Record<string, never> }
  | { code: 'corrupt'; params: Record<string, never> }
  | { code: 'empty'; params: Record<string, never> }
  | { code: 'missing_columns'; params: { missing: SheetColumn[] } }
  | { code: 'duplicate_column'; params: { column: SheetColumn } }
  | { code: 'too_many_rows'; params: { max: number } };

export interface ParsedSheet {
  ok: true;
  format: 'xlsx' | 'csv';
  headerLine: number;
  /** Recognised columns in file order. */
  columns: SheetColumn[];
  rows: SheetRow[];
}

export type ParseResult = ParsedSheet | { ok: false; error: SheetError };

export interface ParseOptions {
  /** Columns that must be present (missing ones → `missing_columns`). */
  required?: readonly SheetColumn[];
  maxRows?: number;
}

/**
 * Rows handed out while the sheet is still being read (the upload child sends them to the bot, which
 * checks them while the rest is parsed): `send` gets every `size` rows, in file order; the result then
 * holds only the rows not yet sent. A sheet refused later (too many rows) is refused as a whole: the
 * receiver drops what it got.
 */
export interface RowSlices {
  size: number;
  send: (rows: SheetRow[]) => void | Promise<void>;
}

const startsWith = (buf: Uint8Array, magic: number[]) => magic.every((b, i) => buf[i] === b);

function extensionOf(fileName: string): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(fileName.trim());
  return m ? m[1]!.toLowerCase() : '';
}

/** Parses a filled .xlsx or .csv into rows of raw strings keyed by column (blank rows skipped). */
export async function parseSheet(
  buffer: Uint8Array,
  fileName: string,
  opts: ParseOptions = {},
  slices?: RowSlices,
  /** The .xlsx's parts already inflated (the upload child's zip check), by entry name. */
  inflated?: Map<string, Buffer>,
): Promise<ParseResult> {
  const ext = extensionOf(fileName);
  const max = opts.maxRows ?? MAX_SHEET_ROWS;
  let grid: GridSource;
  if (ext === 'xlsx' || ext === 'xlsm') {
    if (!startsWith(buffer, XLSX_MAGIC)) return fail('wrong_type', { ext });
    grid = xlsxRows(buffer, inflated);
  } else if (ext === 'csv' || ext === 'txt') {
    if (startsWith(buffer, XLSX_MAGIC) || startsWith(buffer, OLE_MAGIC) || buffer.includes(0))
      return fail('wrong_type', { ext });
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buffer);
    } catch {
      return { ok: false, error: { code: 'not_utf8', params: {} } };
    }
    grid = csvRows(text);
  } else return fail('wrong_type', { ext: ext || '?' });

  try {
    return await collect(grid, ext === 'csv' || ext === 'txt' ? 'csv' : 'xlsx', max, opts.required, slices);
  } catch (err) {
    if (err instanceof SheetFailure) return { ok: false, error: err.error };
    // exceljs throws on damaged zips / non-workbook zips (a .docx renamed .xlsx...)
    return { ok: false, error: { code: 'corrupt', params: {} } };
  }
}

/** Columns of `required` the parsed sheet lacks. */
export function missingColumns(sheet: ParsedSheet, required: readonly SheetColumn[]): SheetColumn[] {
  return required.filter((c) => !sheet.columns.includes(c));
}

function fail(code: 'wrong_type', params: { ext: string }): ParseResult {
  return { ok: false, error: { code, params } };
}

class SheetFailure extends Error {
  constructor(readonly error: SheetError) {
    super(error.code);
  }
}

/** Rows of cells (raw values) with their 1-based line numbers; one sheet. */
type GridSource = AsyncIterable<{ line: number; cells: unknown[] }>;

async function collect(
  grid: GridSource,
  format: 'xlsx' | 'csv',
  max: number,
  required: readonly SheetColumn[] | undefined,
  slices: RowSlices | undefined,
): Promise<ParseResult> {
  const pending: { line: number; cells: unknown[] }[] = [];
  let header: { line: number; map: (SheetColumn | undefined)[] } | undefined;
  /** Rows not yet sent (all of them without `slices`); `sent` counts the others. */
  let rows: SheetRow[] = [];
  let sent = 0;

  const setHeader = (h: { line: number; cells: unknown[] }) => {
    const map = h.cells.map((c) => columnForHeader(plainText(c)));
    const seen = new Set<SheetColumn>();
    for (const c of map) {
      if (!c) continue;
      if (seen.has(c)) throw new SheetFailure({ code: 'duplicate_column', params: { column: c } });
      seen.add(c);
    }
    const missing = (required ?? []).filter((c) => !seen.has(c));
    if (missing.length > 0 || seen.size === 0)
      throw new SheetFailure({ code: 'missing_columns', params: { missing: [...missing] } });
    header = { line: h.line, map };
  };

  const addRow = (r: { line: number; cells: unknown[] }) => {
    const values: Partial<Record<SheetColumn, string>> = {};
    const issues: CellIssue[] = [];
    let blank = true;
    header!.map.forEach((column, i) => {
      if (!column) return;
      const v = cellText(r.cells[i], column);
      if ('lost' in v) {
        issues.push({ column, code: 'number_precision', params: { value: v.lost } });
        blank = false;
        return;
      }
      if (v.text.trim() !== '') blank = false;
      values[column] = v.text;
    });
    if (blank) return;
    if (sent + rows.length >= max) throw new SheetFailure({ code: 'too_many_rows', params: { max } });
    rows.push({ line: r.line, values, issues });
  };

  for await (const r of grid) {
    if (r.cells.every((c) => plainText(c).trim() === '')) continue;
    if (header) {
      addRow(r);
      if (slices && rows.length >= slices.size) {
        const out = rows;
        rows = [];
        sent += out.length;
        await slices.send(out);
      }
      continue;
    }
    pending.push(r);
    // The header is the first row naming at least two known columns (a title row above it is allowed).
    const known = r.cells.filter((c) => columnForHeader(plainText(c)) !== undefined).length;
    if (known >= 2 || (known === 1 && r.cells.filter((c) => plainText(c).trim() !== '').length === 1)) {
      setHeader(r);
      pending.length = 0;
    } else if (pending.length >= HEADER_SEARCH_ROWS) setHeader(pending[0]!);
  }
  if (!header) {
    if (pending.length === 0) throw new SheetFailure({ code: 'empty', params: {} });
    setHeader(pending[0]!);
    for (const r of pending.slice(1)) addRow(r);
  }
  if (sent + rows.length === 0) throw new SheetFailure({ code: 'empty', params: {} });
  const h = header!;
  return {
    ok: true,
    format,
    headerLine: h.line,
    columns: h.map.filter((c): c is SheetColumn => c !== undefined),
    rows,
  };
}

/** Text of an exceljs cell value (rich text, formula results, hyperlinks, dates...). */
function plainText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; result?: unknown; text?: unknown; error?: unknown };
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('');
    if ('result' in o) return plainText(o.result);
    if ('text' in o) return plainText(o.text);
    if ('error' in o) return String(o.error);
  }
  return '';
}

const SCIENTIFIC_RE = /^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$/;

function cellText(v: unknown, column: SheetColumn): { text: string } | { lost: string } {
  const inner =
    v !== null && typeof v === 'object' && !(v instanceof Date) && 'result' in v
      ? (v as { result: unknown }).result
      : v;
  if (DIGIT_COLUMNS.has(column)) {
    // Excel keeps 15 significant digits: a number of 16+ digits has already lost its tail.
    if (typeof inner === 'number') {
      if (Math.abs(inner) >= 1e15 || !Number.isInteger(inner)) return { lost: String(inner) };
      return { text: String(inner) };
    }
    // A CSV saved by Excel writes such a cell as it was displayed: "1.10105E+17".
    if (typeof inner === 'string' && SCIENTIFIC_RE.test(inner.trim())) return { lost: inner.trim() };
  }
  // Our checked file wrote formula-like text with a leading apostrophe: read it back as typed.
  return { text: restoreNeutralised(plainText(v)) };
}

/**
 * Rows of the first visible data sheet, read by xlsx-rows.ts (the sheet's XML scanned directly; the
 * parts inflated within the upload zip limits). exceljs' whole-workbook load was most of the import's
 * time and memory, and its streaming reader garbles a Chinese character split across two zip chunks.
 */
async function* xlsxRows(buffer: Uint8Array, inflated?: Map<string, Buffer>): GridSource {
  const file = new XlsxFile(buffer, undefined, inflated);
  const sheets = file.sheets();
  const ws = sheets.find((w) => !SKIP_SHEETS.has(w.name) && w.state === 'visible');
  if (!ws) {
    if (sheets.length === 0) throw new Error('no worksheet');
    return;
  }
  if (!ws.part) throw new Error('worksheet part missing');
  yield* file.rows(ws.part);
}

/**
 * RFC 4180 CSV: quoted fields with "" escapes and line breaks, CRLF / LF / CR, BOM; delimiter sniffed
 * from the first line (comma, semicolon or tab). `line` is the record number, as Excel numbers rows.
 */
export function* parseCsv(text: string): Generator<{ line: number; cells: string[] }> {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = s.slice(0, s.search(/[\r\n]|$/));
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  const delim = counts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
    } else if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === delim) {
      cells.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      cells.push(field);
      yield { line: line++, cells };
      cells = [];
      field = '';
      i += ch === '\r' && s[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || cells.length > 0) {
    cells.push(field);
    yield { line, cells };
  }
}

async function* csvRows(text: string): GridSource {
  yield* parseCsv(text);
}

// ---------------------------------------------------------------- checked file

export interface CheckedRow {
  line: number;
  values: Partial<Record<SheetColumn, string>>;
  /** Localized problems ('' = row is fine). */
  problems: string;
  /** Localized warnings (row is importable). */
  warnings: string;
}

/**
 * The user's rows written back (same row numbers, recognised columns, values as sent) with a problem
 * column in front; rows with problems are highlighted. Re-sending it after fixing works: the problem
 * column is not a known column and is ignored.
 */
export async function buildCheckedFile(input: {
  locale: Locale;
  columns: readonly SheetColumn[];
  headerLine: number;
  rows: readonly CheckedRow[];
}): Promise<Buffer> {
  const { locale } = input;
  const l = lang(locale);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    out.on('end', resolve);
    out.on('error', reject);
  });
  const wb = new (await loadExcel()).stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: false,
    useStyles: true,
  });
  const ws = wb.addWorksheet(DATA_SHEET[l], { views: [{ state: 'frozen', ySplit: input.headerLine }] });
  ws.columns = [
    { key: '_problem', width: 48 },
    ...input.columns.map((c) => ({
      key: c,
      width: columnWidth(c),
      ...(DIGIT_COLUMNS.has(c) ? { style: { numFmt: '@' } } : {}),
    })),
  ];
  const header = ws.getRow(input.headerLine);
  header.values = [
    t(locale, 'upload.sheet.problem_column'),
    ...input.columns.map((c) => columnTitle(c, locale)),
  ];
  header.font = { bold: true };
  header.eachCell((cell) => {
    cell.fill = HEADER_FILL;
  });
  header.commit();
  for (const r of input.rows) {
    const row = ws.getRow(r.line);
    const note = [r.problems, r.warnings].filter(Boolean).join('\n');
    row.values = [note, ...input.columns.map((c) => neutraliseFormula(r.values[c] ?? ''))];
    input.columns.forEach((c, i) => {
      if (DIGIT_COLUMNS.has(c)) row.getCell(i + 2).numFmt = '@';
    });
    if (r.problems || r.warnings) {
      const first = row.getCell(1);
      first.fill = r.problems ? ERROR_FILL : WARN_FILL;
      first.alignment = { wrapText: true, vertical: 'top' };
    }
    row.commit();
  }
  ws.commit();
  await wb.commit();
  await done;
  return Buffer.concat(chunks);
}
