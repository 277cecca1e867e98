import type { Writable } from 'node:stream';
import { loadExcel } from './excel.ts';
import { type ChainHead, chainHeadLine } from '../../domain/audit/chain.ts';
import { formatShanghaiDateTime } from '../../domain/calendar/date.ts';
import { neutraliseFormula } from '../../domain/text.ts';
import type { Locale } from '../i18n.ts';
import type { AuditTrailRow } from '../../usecases/audit-trail.ts';

// The audit trail as a streamed .xlsx for auditors (/audit): who, when, what, which record, before →
// after (personal values removed or masked), and each row's chain position and hash, so a row can be
// checked against the chain (`npm run audit:verify`).

const COLUMNS: { zh: string; en: string; width: number; value: (r: AuditTrailRow) => string | number }[] = [
  { zh: '链序号', en: 'Chain position', width: 10, value: (r) => String(r.seq) },
  { zh: '时间', en: 'Time (Beijing)', width: 18, value: (r) => formatShanghaiDateTime(r.at) },
  {
    zh: '操作人',
    en: 'Who',
    width: 18,
    value: (r) => (r.actorId === null ? '系统' : `${r.actorName ?? ''}（#${r.actorId}）`),
  },
  { zh: '操作', en: 'Action', width: 26, value: (r) => r.action },
  { zh: '对象', en: 'Record type', width: 14, value: (r) => r.entity },
  { zh: '对象编号', en: 'Record id', width: 10, value: (r) => r.entityId },
  { zh: '变更前', en: 'Before', width: 40, value: (r) => r.before },
  { zh: '变更后', en: 'After', width: 40, value: (r) => r.after },
  { zh: '行哈希', en: 'Row hash', width: 20, value: (r) => r.hash },
];

export async function writeAuditTrailXlsx(
  out: Writable,
  pages: AsyncIterable<AuditTrailRow[]>,
  opts: { locale: Locale; title: string; head: ChainHead },
): Promise<number> {
  const en = opts.locale === 'en';
  const wb = new (await loadExcel()).stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: false,
    useStyles: true,
  });
  const ws = wb.addWorksheet(en ? 'Audit trail' : '审计日志', { views: [{ state: 'frozen', ySplit: 3 }] });
  ws.columns = COLUMNS.map((c) => ({ width: c.width }));
  const title = ws.addRow([neutraliseFormula(opts.title)]);
  title.font = { bold: true, size: 13 };
  title.commit();
  ws.addRow([neutraliseFormula(chainHeadLine(opts.head, opts.locale))]).commit();
  const header = ws.addRow(COLUMNS.map((c) => (en ? c.en : c.zh)));
  header.font = { bold: true };
  header.commit();
  let n = 0;
  for await (const page of pages)
    for (const r of page) {
      ws.addRow(COLUMNS.map((c) => neutraliseFormula(c.value(r)))).commit();
      n++;
    }
  ws.commit();
  await wb.commit();
  return n;
}
