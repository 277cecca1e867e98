import { chainHeadLine } from '../../domain/audit/chain.ts';
import type { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';
import { formatShanghaiDateTime } from '../../domain/calendar/date.ts';
import { fenToYuan } from '../../domain/campaign/money.ts';
import { neutraliseFormula } from '../../domain/text.ts';
import { BENEFIT_FORMS } from '../../domain/campaign/vocab.ts';
import {
  HARDSHIP_CAUSES,
  HARDSHIP_TIERS,
  MODEL_WORKER_LEVELS,
  type VocabEntry,
  WORK_STATUSES,
} from '../../domain/identity/hardship.ts';
import type { CampaignFigures } from '../../usecases/report/figures.ts';
import type { LedgerRow } from '../../usecases/report/ledger.ts';
import { I18n, type Locale } from '../i18n.ts';
import { type SheetWriter, STYLE, writeXlsx } from './xlsx-stream.ts';

// Ledger (台账) and provincial entry list (录入清单) as streamed .xlsx: rows are written as they arrive
// (xlsx-stream.ts: inline strings, deflated straight into the output with back-pressure), so memory
// stays bounded whatever the row count. ID
// numbers, phones and cards are written as text (never numbers: Excel keeps 15 digits). The entry list
// carries the nomination id in column A and an "已录入" column; sent back, `parseEntryList` reads the
// ids of the rows marked entered.

let i18n: I18n | undefined;
const tr = (locale: Locale, key: string) => {
  i18n ??= new I18n();
  return i18n.t(locale, key);
};
const lang = (locale: Locale): 'zh' | 'en' => (locale === 'en' ? 'en' : 'zh');

function vocabName(list: readonly VocabEntry<string>[], code: string | null, locale: Locale): string {
  if (!code) return '';
  const e = list.find((v) => v.code === code);
  return e ? e[lang(locale)] : code;
}

const SEX = { male: { zh: '男', en: 'Male' }, female: { zh: '女', en: 'Female' } } as const;
const dt = (d: Date | null) => (d ? formatShanghaiDateTime(d) : '');
const yuan = (fen: number | null) => (fen === null ? null : fenToYuan(fen));

interface Column {
  key: string;
  zh: string;
  en: string;
  width: number;
  money?: boolean;
  /** Header of a masked export, where the value is reduced (the birth year instead of the date). */
  masked?: { zh: string; en: string };
  value: (r: LedgerRow, locale: Locale) => string | number | null;
}

const causes = (r: LedgerRow, locale: Locale) =>
  r.secondaryCauses.map((c) => vocabName(HARDSHIP_CAUSES, c, locale)).join(locale === 'en' ? ', ' : '、');

const COMMON: Record<string, Column> = {
  id: { key: 'id', zh: '编号', en: 'No.', width: 9, value: (r) => r.id },
  name: { key: 'name', zh: '姓名', en: 'Name', width: 12, value: (r) => r.fullName },
  idNumber: { key: 'idNumber', zh: '身份证号码', en: 'ID number', width: 21, value: (r) => r.idNumber },
  sex: { key: 'sex', zh: '性别', en: 'Sex', width: 6, value: (r, l) => (r.sex ? SEX[r.sex][lang(l)] : '') },
  birth: {
    key: 'birth',
    zh: '出生日期',
    en: 'Birth date',
    masked: { zh: '出生年份', en: 'Birth year' },
    width: 12,
    value: (r) => r.birth ?? '',
  },
  phone: { key: 'phone', zh: '手机号码', en: 'Mobile', width: 14, value: (r) => r.phone },
  employer: { key: 'employer', zh: '工作单位', en: 'Employer', width: 24, value: (r) => r.employer },
  union: { key: 'union', zh: '基层工会', en: 'Grassroots union', width: 22, value: (r) => r.unionName },
  category: {
    key: 'category',
    zh: '慰问类别',
    en: 'Category',
    width: 18,
    value: (r, l) => (l === 'en' ? r.categoryEn : r.categoryZh),
  },
  workStatus: {
    key: 'workStatus',
    zh: '工作状态',
    en: 'Work status',
    width: 10,
    value: (r, l) => vocabName(WORK_STATUSES, r.workStatus, l),
  },
  modelLevel: {
    key: 'modelLevel',
    zh: '劳模级别',
    en: 'Model-worker level',
    width: 10,
    value: (r, l) => vocabName(MODEL_WORKER_LEVELS, r.modelWorkerLevel, l),
  },
  tier: {
    key: 'tier',
    zh: '困难类别',
    en: 'Hardship tier',
    width: 10,
    value: (r, l) => vocabName(HARDSHIP_TIERS, r.hardshipTier, l),
  },
  mainCause: {
    key: 'mainCause',
    zh: '主要致困原因',
    en: 'Main cause',
    width: 16,
    value: (r, l) => vocabName(HARDSHIP_CAUSES, r.mainCause, l),
  },
  secondary: { key: 'secondary', zh: '次要致困原因', en: 'Secondary causes', width: 24, value: causes },
  amount: {
    key: 'amount',
    zh: '慰问金额（元）',
    en: 'Amount (yuan)',
    width: 12,
    money: true,
    value: (r) => yuan(r.amountFen),
  },
  form: {
    key: 'form',
    zh: '慰问形式',
    en: 'Form',
    width: 12,
    value: (r, l) => vocabName(BENEFIT_FORMS, r.benefitForm, l),
  },
  bankName: { key: 'bankName', zh: '开户银行', en: 'Bank', width: 18, value: (r) => r.bankName },
  bankCard: { key: 'bankCard', zh: '银行卡号', en: 'Bank card', width: 22, value: (r) => r.bankCard },
  deliveredOn: {
    key: 'deliveredOn',
    zh: '发放日期',
    en: 'Paid / handed over on',
    width: 12,
    value: (r) => r.deliveredOn ?? '',
  },
  deadline: {
    key: 'deadline',
    zh: '录入期限',
    en: 'Entry deadline',
    width: 12,
    value: (r) => r.entryDeadline ?? '',
  },
};

const LEDGER_COLUMNS: Column[] = [
  COMMON.id!,
  COMMON.union!,
  COMMON.category!,
  COMMON.name!,
  COMMON.sex!,
  COMMON.birth!,
  COMMON.idNumber!,
  COMMON.phone!,
  COMMON.employer!,
  COMMON.workStatus!,
  COMMON.modelLevel!,
  COMMON.tier!,
  COMMON.mainCause!,
  COMMON.secondary!,
  COMMON.form!,
  COMMON.bankName!,
  COMMON.bankCard!,
  COMMON.amount!,
  { key: 'status', zh: '状态', en: 'Status', width: 10, value: (r, l) => tr(l, `status.${r.status}`) },
  { key: 'submitted', zh: '提交时间', en: 'Submitted', width: 17, value: (r) => dt(r.submittedAt) },
  { key: 'decided', zh: '审核时间', en: 'Decided', width: 17, value: (r) => dt(r.decidedAt) },
  COMMON.deliveredOn!,
  {
    key: 'delivered',
    zh: '实发金额（元）',
    en: 'Delivered (yuan)',
    width: 12,
    money: true,
    value: (r) => yuan(r.deliveredFen),
  },
  COMMON.deadline!,
  {
    key: 'entered',
    zh: '录入省系统时间',
    en: 'Entered (provincial)',
    width: 17,
    value: (r) => dt(r.enteredProvincialAt),
  },
  { key: 'flags', zh: '审核提示', en: 'Flags', width: 18, value: (r) => r.flags.join(', ') },
  { key: 'source', zh: '来源', en: 'Source', width: 8, value: (r) => r.source },
];

/** The column staff fill in on the returned entry list. */
export const ENTERED_HEADER = { zh: '已录入（填“是”）', en: 'Entered (write "yes")' } as const;

const ENTRY_COLUMNS: Column[] = [
  COMMON.id!,
  COMMON.name!,
  COMMON.idNumber!,
  COMMON.sex!,
  COMMON.birth!,
  COMMON.phone!,
  COMMON.employer!,
  COMMON.category!,
  COMMON.tier!,
  COMMON.mainCause!,
  COMMON.secondary!,
  COMMON.amount!,
  COMMON.form!,
  COMMON.deliveredOn!,
  COMMON.bankName!,
  COMMON.bankCard!,
  COMMON.union!,
  COMMON.deadline!,
  { key: 'entered', ...ENTERED_HEADER, width: 16, value: () => '' },
];

export const LEDGER_COLUMN_KEYS = LEDGER_COLUMNS.map((c) => c.key);

interface SheetOptions {
  locale: Locale;
  title: string;
  /** The rows are masked (LedgerAccess 'masked'): reduced columns get their own header. */
  masked?: boolean;
  /** The output size at which the caller cuts a part (writeInParts' partBytes): see SheetWriter.flush. */
  settleAt?: number;
}

/** The rows of one ledger-like sheet: title, header (frozen), then one row per record. */
function dataSheet(name: string, columns: Column[], pages: AsyncIterable<LedgerRow[]>, opts: SheetOptions) {
  const styles = columns.map((c) => (c.money ? STYLE.money : STYLE.plain));
  let n = 0;
  return {
    count: () => n,
    sheet: {
      spec: { name, widths: columns.map((c) => c.width), frozenRows: 2 },
      fill: async (sw: SheetWriter) => {
        await sw.row([neutraliseFormula(opts.title)], STYLE.title);
        await sw.row(
          columns.map((c) => (opts.masked && c.masked ? c.masked : c)[lang(opts.locale)]),
          STYLE.bold,
        );
        for await (const page of pages) {
          for (const r of page) {
            await sw.row(
              columns.map((c) => neutraliseFormula(c.value(r, opts.locale))),
              styles,
            );
            n++;
          }
          // Each page reaches the output before the next is pulled: the part split sees its size, the same
          // size on every attempt (see SheetWriter.flush).
          await sw.flush(opts.settleAt);
        }
      },
    },
  };
}

function summarySheet(f: CampaignFigures, locale: Locale) {
  const en = locale === 'en';
  return {
    spec: { name: en ? 'Summary' : '汇总', widths: [34, 12, 16, 12, 12] },
    fill: async (sw: SheetWriter) => {
      const add = (values: (string | number | null)[], bold = false) =>
        sw.row(values.map(neutraliseFormula), bold ? STYLE.bold : STYLE.plain);
      await add(
        [`${en ? f.campaign.titleEn : f.campaign.titleZh}（${en ? 'as of' : '截至'} ${f.asOfDate}）`],
        true,
      );
      await add([
        en
          ? 'Whole campaign, whatever filters the ledger sheet has.'
          : '以下为全部活动数据（不受台账筛选条件影响）。',
      ]);
      await add([]);
      await add(
        en
          ? ['Category', 'Recipients', 'Amount (yuan)', 'Approved', 'Nominated']
          : ['慰问类别', '受慰问人数', '慰问金额（元）', '审核通过', '申报人数'],
        true,
      );
      for (const c of f.categories)
        await add([en ? c.nameEn : c.nameZh, c.recipients, fenToYuan(c.amountFen), c.approved, c.nominated]);
      await add(
        [
          en ? 'Total' : '合计',
          f.totals.recipients,
          fenToYuan(f.totals.amountFen),
          f.totals.approved,
          f.totals.nominated,
        ],
        true,
      );
      await add([]);
      await add([en ? 'Budget (yuan)' : '预算（元）', fenToYuan(f.budget.totalFen)]);
      await add([en ? 'Paid directly (yuan)' : '直接慰问资金（元）', fenToYuan(f.budget.directSpentFen)]);
      await add([
        en ? 'Allocated to grassroots unions (yuan)' : '拨付基层工会资金（元）',
        fenToYuan(f.budget.allocatedToUnionsFen),
      ]);
      if (f.budget.unions.lines.length > 0) {
        await add([]);
        await add(
          en
            ? [
                'Grassroots union',
                'Allocated (yuan)',
                'Reported used (yuan)',
                'Recipients',
                'Returned (yuan)',
              ]
            : ['基层工会', '拨付金额（元）', '报告使用（元）', '慰问人数', '退回金额（元）'],
          true,
        );
        for (const l of f.budget.unions.lines)
          await add([
            l.unionName,
            fenToYuan(l.allocatedFen),
            fenToYuan(l.reportedFen),
            l.recipients,
            fenToYuan(l.returnedFen),
          ]);
      }
      await add([]);
      await add([chainHeadLine(f.auditHead, locale)]);
    },
  };
}

/** Streams the ledger workbook into `out` (one row per nomination, then a summary sheet from `figures`). */
export async function writeLedgerXlsx(
  out: Writable,
  pages: AsyncIterable<LedgerRow[]>,
  opts: SheetOptions & { figures?: CampaignFigures },
): Promise<number> {
  const data = dataSheet(opts.locale === 'en' ? 'Ledger' : '台账', LEDGER_COLUMNS, pages, opts);
  await writeXlsx(out, [data.sheet, ...(opts.figures ? [summarySheet(opts.figures, opts.locale)] : [])]);
  return data.count();
}

/** Streams the provincial entry list (paid, not yet entered) into `out`. */
export async function writeEntryListXlsx(
  out: Writable,
  pages: AsyncIterable<LedgerRow[]>,
  opts: SheetOptions,
): Promise<number> {
  const data = dataSheet(opts.locale === 'en' ? 'Entry list' : '录入清单', ENTRY_COLUMNS, pages, opts);
  await writeXlsx(out, [data.sheet]);
  return data.count();
}

// ------------------------------------------------------------------------------------ returned entry list

const YES = /^(是|已录入|已录|√|✓|✔|y|yes|ok|1|true|x)$/i;
const DATE_LIKE = /^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?$/;
const ID_HEADERS = new Set([COMMON.id!.zh, COMMON.id!.en, 'ID', '序号编号']);
const ENTERED_HEADERS = [ENTERED_HEADER.zh, ENTERED_HEADER.en, '已录入', 'Entered'];

export type EntryListParse =
  | { ok: true; entered: number[]; notMarked: number; badIds: number }
  | { ok: false; code: 'not_entry_list' | 'unreadable' };

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((p) => p.text).join('');
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('text' in v) return String(v.text);
    return '';
  }
  return String(v).trim();
}

/** True when the header row of an .xlsx looks like our entry list (the id and "entered" columns). */
export async function parseEntryList(bytes: Uint8Array): Promise<EntryListParse> {
  // Loaded here only (loadExcel): the export's child process (export-child.ts) writes with this module
  // and never parses, so it does not load exceljs (about 4-10 MB less RSS in that child, bench/README.md).
  const wb = new (await loadExcel()).Workbook();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    return { ok: false, code: 'unreadable' };
  }
  for (const ws of wb.worksheets) {
    for (let h = 1; h <= Math.min(5, ws.rowCount); h++) {
      const headers = (ws.getRow(h).values as ExcelJS.CellValue[]).map((v) => cellText(v));
      const idCol = headers.findIndex((x) => ID_HEADERS.has(x));
      const enteredCol = headers.findIndex((x) => ENTERED_HEADERS.includes(x));
      if (idCol < 1 || enteredCol < 1) continue;
      const entered: number[] = [];
      let notMarked = 0;
      let badIds = 0;
      for (let r = h + 1; r <= ws.rowCount; r++) {
        const row = ws.getRow(r);
        const idText = cellText(row.getCell(idCol).value);
        const mark = cellText(row.getCell(enteredCol).value);
        if (!idText && !mark) continue;
        if (!/^\d{1,9}$/.test(idText)) {
          badIds++;
          continue;
        }
        if (YES.test(mark) || DATE_LIKE.test(mark)) entered.push(Number(idText));
        else notMarked++;
      }
      return { ok: true, entered, notMarked, badIds };
    }
  }
  return { ok: false, code: 'not_entry_list' };
}
