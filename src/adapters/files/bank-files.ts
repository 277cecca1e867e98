import { loadExcel } from './excel.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import { neutraliseFormula } from '../../domain/text.ts';
import type { BankListRow, ReturnRow } from '../../usecases/payments/batches.ts';
import { findHeader, readGrid } from './grid.ts';

// The bank's payment list (.xlsx) and its return file (.xlsx / .csv). The return file is the same list
// with the status column filled in (成功/失败, paid/failed) and a reason for failed rows; rows are matched
// by the reference number (序号), which is the payment id.

const HEAD = {
  'zh-CN': ['序号', '姓名', '银行卡号', '开户行', '金额（元）', '状态', '失败原因'],
  en: ['Ref', 'Name', 'Card number', 'Bank', 'Amount (yuan)', 'Status', 'Failure reason'],
} as const;

export async function buildBankList(input: {
  code: string;
  rows: BankListRow[];
  totalFen: bigint;
  locale: 'zh-CN' | 'en';
}): Promise<Buffer> {
  const wb = new (await loadExcel()).Workbook();
  const ws = wb.addWorksheet(input.code.slice(0, 31));
  ws.addRow([...HEAD[input.locale]]);
  ws.getRow(1).font = { bold: true };
  for (const r of input.rows)
    ws.addRow([r.ref, r.name, r.card, r.bank, formatYuan(r.amountFen), '', ''].map(neutraliseFormula));
  ws.addRow([]);
  ws.addRow([
    input.locale === 'en' ? 'Total' : '合计',
    `${input.rows.length}`,
    '',
    '',
    formatYuan(Number(input.totalFen)),
  ]);
  // Card numbers as text, never as numbers (Excel would round 19 digits).
  ws.getColumn(3).numFmt = '@';
  ws.columns.forEach((c, i) => {
    c.width = [8, 14, 24, 20, 14, 10, 24][i] ?? 12;
  });
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const ALIASES = {
  ref: ['序号', '编号', '流水号', 'ref', 'reference', 'payment id'],
  status: ['状态', '结果', '处理结果', 'status', 'result'],
  reason: ['失败原因', '原因', '备注', 'failure reason', 'reason'],
} as const;

const PAID = /^(成功|已付|已支付|已到账|paid|success|ok)$/i;
const FAILED = /^(失败|退回|退票|failed|fail|returned|rejected)$/i;

export type ReturnParse =
  | { ok: true; rows: ReturnRow[]; problems: { line: number; code: string }[] }
  | { ok: false; code: 'wrong_type' | 'no_header' };

export async function parseReturnFile(bytes: Uint8Array, fileName: string): Promise<ReturnParse> {
  const grid = await readGrid(bytes, fileName);
  if (!grid) return { ok: false, code: 'wrong_type' };
  const header = findHeader(grid, ALIASES, ['ref', 'status']);
  if (!header) return { ok: false, code: 'no_header' };
  const rows: ReturnRow[] = [];
  const problems: { line: number; code: string }[] = [];
  for (let i = header.row + 1; i < grid.length; i++) {
    const cells = grid[i]!;
    const ref = cells[header.col.ref!] ?? '';
    const status = cells[header.col.status!] ?? '';
    if (!/^\d+$/.test(ref)) continue; // totals, blank lines, notes
    const line = i + 1;
    const reason = header.col.reason !== undefined ? (cells[header.col.reason] ?? '') : '';
    if (PAID.test(status)) rows.push({ line, ref: Number(ref), status: 'paid' });
    else if (FAILED.test(status)) rows.push({ line, ref: Number(ref), status: 'failed', reason });
    else problems.push({ line, code: 'bad_status' });
  }
  return { ok: true, rows, problems };
}

const HANDOVER_ALIASES = {
  nomination: ['申报编号', '编号', 'nomination', 'nomination id', 'id'],
  date: ['发放日期', '日期', 'date', 'handed over on'],
  by: ['经手人', '发放人', 'handed over by', 'by'],
  note: ['备注', 'note'],
} as const;

export interface HandoverSheetRow {
  line: number;
  nominationId: number;
  date: string;
  by: string;
  note: string;
}

export type HandoverParse =
  | { ok: true; rows: HandoverSheetRow[]; problems: { line: number; code: string }[] }
  | { ok: false; code: 'wrong_type' | 'no_header' };

/** Handover list: nomination id, date (YYYY-MM-DD), who handed over, optional note. */
export async function parseHandoverSheet(bytes: Uint8Array, fileName: string): Promise<HandoverParse> {
  const grid = await readGrid(bytes, fileName);
  if (!grid) return { ok: false, code: 'wrong_type' };
  const header = findHeader(grid, HANDOVER_ALIASES, ['nomination', 'date', 'by']);
  if (!header) return { ok: false, code: 'no_header' };
  const rows: HandoverSheetRow[] = [];
  const problems: { line: number; code: string }[] = [];
  for (let i = header.row + 1; i < grid.length; i++) {
    const c = grid[i]!;
    const id = c[header.col.nomination!] ?? '';
    if (c.every((x) => x === '')) continue;
    const line = i + 1;
    const date = (c[header.col.date!] ?? '').replace(/[/.]/g, '-');
    const by = c[header.col.by!] ?? '';
    if (!/^\d+$/.test(id)) problems.push({ line, code: 'bad_id' });
    else if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) problems.push({ line, code: 'bad_date' });
    else if (!by) problems.push({ line, code: 'no_by' });
    else
      rows.push({
        line,
        nominationId: Number(id),
        date,
        by,
        note: header.col.note !== undefined ? (c[header.col.note] ?? '') : '',
      });
  }
  return { ok: true, rows, problems };
}
