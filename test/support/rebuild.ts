import { inspectZip, readZipEntry } from '../../src/adapters/files/safe-zip.ts';
import { idCheckChar } from '../../src/domain/identity/id-number.ts';
import ExcelJS from 'exceljs';

// The attacker of issue 12 finding 1: given any text (an export, a chat message, audit rows), pair every
// masked ID number (110105********1230) with every full date in the same text and keep the pairs that
// give a valid ID number (check character) that belongs to a real person.

const MASKED = /(?<![\dA-Za-z])(\d{6})\*{8}(\d{3}[\dXx])(?![\dA-Za-z])/g;
const DATE = /(?<!\d)((?:18|19|20)\d{2})\s*[-/.年]?\s*(\d{1,2})\s*[-/.月]?\s*(\d{1,2})日?(?!\d)/g;

export function maskedIdsIn(text: string): string[] {
  return [...text.matchAll(MASKED)].map((m) => m[0]);
}

export function rebuiltIds(text: string, real: ReadonlySet<string>): string[] {
  const masked = [...text.matchAll(MASKED)];
  if (masked.length === 0) return [];
  const dates = new Set(
    [...text.matchAll(DATE)].map((d) => `${d[1]}${d[2]!.padStart(2, '0')}${d[3]!.padStart(2, '0')}`),
  );
  const out = new Set<string>();
  for (const m of masked) {
    for (const d of dates) {
      const first17 = `${m[1]}${d}${m[2]!.slice(0, 3)}`;
      const candidate = first17 + idCheckChar(first17);
      if (candidate === `${m[1]}${d}${m[2]!.toUpperCase()}` && real.has(candidate)) out.add(candidate);
    }
  }
  return [...out];
}

/** All cell texts of every sheet, one line per row. */
export async function xlsxText(bytes: Buffer): Promise<string> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  const lines: string[] = [];
  for (const ws of wb.worksheets)
    ws.eachRow((row) => {
      const cells = (row.values as unknown[]).map((v) =>
        v instanceof Date
          ? v.toISOString().slice(0, 10)
          : typeof v === 'object' && v
            ? JSON.stringify(v)
            : String(v ?? ''),
      );
      lines.push(cells.join('\t'));
    });
  return lines.join('\n');
}

/** The text of a .docx (every XML part, tags removed). */
export function docxText(bytes: Buffer): string {
  const z = inspectZip(bytes);
  if (!z.ok) throw new Error(z.detail);
  return z.entries
    .filter((e) => e.name.endsWith('.xml'))
    .map((e) =>
      readZipEntry(bytes, e)
        .toString('utf8')
        .replace(/<[^>]+>/g, ' '),
    )
    .join('\n');
}
