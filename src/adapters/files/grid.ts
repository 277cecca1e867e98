import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';

// Reads the first sheet of an .xlsx or a .csv into rows of trimmed strings (for bank return files and
// handover lists). Returns null for a type it does not read.

export const MAX_GRID_BYTES = 5 * 1024 * 1024;

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    return '';
  }
  return String(v);
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.map((r) => r.map((f) => f.trim()));
}

export async function readGrid(bytes: Uint8Array, fileName: string): Promise<string[][] | null> {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'txt') return parseCsv(new TextDecoder('utf-8').decode(bytes));
  if (ext !== 'xlsx') return null;
  const wb = new (await loadExcel()).Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch {
    return null;
  }
  const ws = wb.worksheets[0];
  if (!ws) return [];
  const rows: string[][] = [];
  // exceljs computes columnCount by walking every row: read it once, not once per cell (quadratic:
  // 3,000 rows took over a second, 12,000 rows past the upload time limit).
  const columns = ws.columnCount;
  ws.eachRow({ includeEmpty: true }, (r, n) => {
    const values: string[] = [];
    for (let c = 1; c <= columns; c++) values.push(cellText(r.getCell(c).value).trim());
    rows[n - 1] = values;
  });
  return Array.from(rows, (r) => r ?? []);
}

/** Index of the first row holding all `required` headers (by alias), with the column of each. */
export function findHeader<A extends Record<string, readonly string[]>>(
  grid: string[][],
  aliases: A,
  required: readonly (keyof A & string)[],
): { row: number; col: Partial<Record<keyof A & string, number>> } | null {
  type K = keyof A & string;
  const norm = (s: string) => s.replace(/[\s（）()]/g, '').toLowerCase();
  for (let r = 0; r < Math.min(grid.length, 10); r++) {
    const col: Partial<Record<K, number>> = {};
    grid[r]!.forEach((cell, i) => {
      for (const k of Object.keys(aliases) as K[]) {
        if (col[k] === undefined && aliases[k]!.some((a) => norm(a) === norm(cell))) col[k] = i;
      }
    });
    if (required.every((k) => col[k] !== undefined)) return { row: r, col };
  }
  return null;
}
