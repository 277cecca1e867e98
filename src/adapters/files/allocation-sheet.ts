import { yuanToFen } from '../../domain/campaign/money.ts';
import type { AllocationRowInput } from '../../usecases/allocations.ts';
import { findHeader, readGrid } from './grid.ts';

// A grassroots union's list of the people it helped from its allocation (.xlsx or .csv): name, ID
// number, amount (yuan), goods (optional), date (YYYY-MM-DD). The rows are checked by the use case
// (allocations.ts) like a nomination; here only the shape is read.

const ALIASES = {
  name: ['姓名', 'name', 'full name'],
  id: ['身份证号码', '身份证号', '身份证', 'id number', 'id'],
  amount: ['金额（元）', '慰问金额（元）', '金额', '慰问金额', 'amount (yuan)', 'amount'],
  goods: ['慰问物品', '物品', 'goods'],
  date: ['发放日期', '日期', 'date', 'paid on'],
} as const;

export type AllocationSheetParse =
  | { ok: true; rows: AllocationRowInput[]; problems: { line: number; code: 'amount' | 'date' }[] }
  | { ok: false; code: 'wrong_type' | 'no_header' };

export async function parseAllocationSheet(
  bytes: Uint8Array,
  fileName: string,
): Promise<AllocationSheetParse> {
  const grid = await readGrid(bytes, fileName);
  if (!grid) return { ok: false, code: 'wrong_type' };
  const header = findHeader(grid, ALIASES, ['name', 'id', 'amount', 'date']);
  if (!header) return { ok: false, code: 'no_header' };
  const rows: AllocationRowInput[] = [];
  const problems: { line: number; code: 'amount' | 'date' }[] = [];
  for (let i = header.row + 1; i < grid.length; i++) {
    const c = grid[i]!;
    if (c.every((x) => x === '')) continue;
    const line = i + 1;
    const amount = yuanToFen(c[header.col.amount!] ?? '');
    const date = (c[header.col.date!] ?? '').trim().replace(/[/.]/g, '-');
    if (!amount.ok) {
      problems.push({ line, code: 'amount' });
      continue;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      problems.push({ line, code: 'date' });
      continue;
    }
    rows.push({
      line,
      fullName: c[header.col.name!] ?? '',
      idNumber: c[header.col.id!] ?? '',
      amountFen: amount.fen,
      goods: header.col.goods !== undefined ? c[header.col.goods] || null : null,
      paidOn: date,
    });
  }
  return { ok: true, rows, problems };
}
