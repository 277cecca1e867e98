import { BENEFIT_FORMS, type BenefitForm } from '../campaign/vocab.ts';
import {
  HARDSHIP_CAUSES,
  HARDSHIP_TIERS,
  MODEL_WORKER_LEVELS,
  type VocabEntry,
  WORK_STATUSES,
} from '../identity/hardship.ts';
import { type CategoryInfo, STEPS, type Step, stepsFor } from './form.ts';

// Spreadsheet columns of a nomination list: the form's steps (without 'category'), so the upload asks for
// exactly what the chat dialog asks for. Pure; the file adapter and the import use case share it.

export type SheetColumn = Exclude<Step, 'category'>;

export const SHEET_COLUMNS: readonly SheetColumn[] = STEPS.filter((s): s is SheetColumn => s !== 'category');

/** Column titles (zh-CN / en) written in templates and accepted on import, with extra accepted aliases. */
export const COLUMN_TITLES: Readonly<
  Record<SheetColumn, { zh: string; en: string; aliases: readonly string[] }>
> = {
  name: { zh: '姓名', en: 'Full name', aliases: ['name', '名字', '职工姓名', '联系人', '联系人姓名'] },
  id_number: {
    zh: '身份证号码',
    en: 'Resident ID number',
    aliases: ['id_number', 'id number', '身份证号', '身份证', '公民身份号码', '居民身份证号码'],
  },
  phone: {
    zh: '手机号码',
    en: 'Mobile number',
    aliases: ['phone', 'mobile', '手机号', '手机', '联系电话', '电话'],
  },
  employer: {
    zh: '工作单位',
    en: 'Employer / unit',
    aliases: ['employer', 'unit', '单位', '单位名称', '所在单位', '部门', '部门名称'],
  },
  work_status: { zh: '工作状态', en: 'Work status', aliases: ['work_status', '就业状态'] },
  model_worker_level: {
    zh: '劳模级别',
    en: 'Model-worker level',
    aliases: ['model_worker_level', '劳模称号级别', '荣誉级别'],
  },
  hardship_tier: {
    zh: '困难类别',
    en: 'Hardship tier',
    aliases: ['hardship_tier', '困难类型', '困难程度'],
  },
  main_cause: {
    zh: '主要致困原因',
    en: 'Main cause of hardship',
    aliases: ['main_cause', '主要困难原因', '致困原因', 'main cause'],
  },
  secondary_causes: {
    zh: '次要致困原因',
    en: 'Secondary causes of hardship',
    aliases: ['secondary_causes', '其他致困原因', '次要困难原因', 'secondary causes'],
  },
  description: {
    zh: '情况说明',
    en: 'Description of circumstances',
    aliases: ['description', '困难情况', '基本情况', '情况简介', '事迹简介'],
  },
  benefit_form: {
    zh: '慰问方式',
    en: 'Benefit form',
    aliases: ['benefit_form', '发放方式', '慰问形式'],
  },
  bank_name: { zh: '开户银行', en: 'Bank name', aliases: ['bank_name', '开户行', '银行', '开户银行名称'] },
  bank_card: {
    zh: '银行卡号',
    en: 'Bank card number',
    aliases: ['bank_card', 'card number', '卡号', '银行账号', '银行卡', '账号'],
  },
};

/** Columns holding long digit strings: written as text, and a number cell there has lost digits. */
export const DIGIT_COLUMNS: ReadonlySet<SheetColumn> = new Set(['id_number', 'phone', 'bank_card']);

export type CodedColumn = Extract<
  SheetColumn,
  'work_status' | 'model_worker_level' | 'hardship_tier' | 'main_cause' | 'secondary_causes' | 'benefit_form'
>;

export const CODED_COLUMNS: ReadonlySet<SheetColumn> = new Set<SheetColumn>([
  'work_status',
  'model_worker_level',
  'hardship_tier',
  'main_cause',
  'secondary_causes',
  'benefit_form',
]);

/** The vocabulary of a coded column; benefit forms are limited to the category's forms. */
export function vocabFor(column: CodedColumn, cat: CategoryInfo): readonly VocabEntry<string>[] {
  switch (column) {
    case 'work_status':
      return WORK_STATUSES;
    case 'model_worker_level':
      return MODEL_WORKER_LEVELS;
    case 'hardship_tier':
      return HARDSHIP_TIERS;
    case 'main_cause':
    case 'secondary_causes':
      return HARDSHIP_CAUSES;
    case 'benefit_form':
      return BENEFIT_FORMS.filter((f) => cat.benefitForms.includes(f.code));
  }
}

/** Every column a category's template has (bank columns when any of its forms is a transfer). */
export function columnsFor(cat: CategoryInfo): SheetColumn[] {
  const form = cat.benefitForms.includes('transfer') ? 'transfer' : undefined;
  return stepsFor(cat, form).filter((s): s is SheetColumn => s !== 'category');
}

/** Columns a row must fill for a given benefit form (secondary causes may stay empty). */
export function requiredColumnsFor(cat: CategoryInfo, form: BenefitForm | string | undefined): SheetColumn[] {
  return stepsFor(cat, form).filter((s): s is SheetColumn => s !== 'category' && s !== 'secondary_causes');
}

/** Tolerant comparison key: NFKC (full-width → ASCII), no spaces or '*' marks, case-insensitive. */
export function normaliseKey(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/[\s\u200B-\u200D\uFEFF*:]/gu, '')
    .toLowerCase();
}

/** Header key: as `normaliseKey`, and a trailing hint in brackets is ignored ("身份证号码（18位）"). */
export function normaliseHeader(s: string): string {
  return normaliseKey(s).replace(/\([^()]*\)$/u, '');
}

const HEADER_INDEX: ReadonlyMap<string, SheetColumn> = (() => {
  const m = new Map<string, SheetColumn>();
  for (const c of SHEET_COLUMNS) {
    const t = COLUMN_TITLES[c];
    for (const title of [t.zh, t.en, c, ...t.aliases]) m.set(normaliseKey(title), c);
  }
  return m;
})();

/** The column a header cell names, if any. */
export function columnForHeader(header: string): SheetColumn | undefined {
  return HEADER_INDEX.get(normaliseKey(header)) ?? HEADER_INDEX.get(normaliseHeader(header));
}

const VOCAB_INDEX = new WeakMap<readonly VocabEntry<string>[], ReadonlyMap<string, string>>();

/** Normalised code / Chinese / English name → code, built once per vocabulary (not once per cell). */
function vocabIndex(entries: readonly VocabEntry<string>[]): ReadonlyMap<string, string> {
  let index = VOCAB_INDEX.get(entries);
  if (!index) {
    const m = new Map<string, string>();
    // First entry wins, as the former linear scan did.
    for (const e of entries)
      for (const name of [e.code, e.zh, e.en]) {
        const k = normaliseKey(name);
        if (!m.has(k)) m.set(k, e.code);
      }
    index = m;
    VOCAB_INDEX.set(entries, index);
  }
  return index;
}

/** Cell text → vocabulary code: accepts the code, the Chinese or the English name (tolerant of width/case). */
export function vocabCode(entries: readonly VocabEntry<string>[], raw: string): string | undefined {
  const key = normaliseKey(raw);
  if (key === '') return undefined;
  return vocabIndex(entries).get(key);
}

/** Splits a multi-value cell ("下岗失业、子女上学", "a, b; c") into trimmed non-empty parts. */
export function splitList(raw: string): string[] {
  return raw
    .split(/[、,，;；\n|｜]/u)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
