/**
 * Campaign vocabulary: category kinds and benefit forms (same values as the Prisma enums `CategoryKind`
 * and `BenefitForm`, repeated here because the domain layer does not import Prisma), and the fields a
 * nomination can ask for. Chat labels come from locales: `vocab.category_kind.<code>`,
 * `vocab.benefit_form.<code>`, `vocab.field.<code>`.
 */
import type { VocabEntry } from '../identity/hardship.ts';

export const CATEGORY_KINDS = [
  { code: 'department', zh: '公共服务保障部门', en: 'Department (unit-level condolence)' },
  { code: 'needy_worker', zh: '困难职工', en: 'Needy worker' },
  { code: 'needy_model_worker', zh: '困难劳模', en: 'Needy model worker' },
  { code: 'gig_worker', zh: '新就业形态劳动者', en: 'New-employment-form worker' },
  { code: 'frontline_worker', zh: '节日值守一线职工', en: 'Frontline worker on holiday duty' },
  { code: 'other', zh: '其他', en: 'Other' },
] as const satisfies readonly VocabEntry<string>[];

export const BENEFIT_FORMS = [
  { code: 'transfer', zh: '实名制打款', en: 'Real-name bank transfer' },
  { code: 'in_kind', zh: '实物', en: 'Goods in kind' },
  { code: 'unit_condolence', zh: '单位慰问', en: 'Unit-level condolence' },
] as const satisfies readonly VocabEntry<string>[];

/** Fields a category can require in a nomination (`required_fields` in the campaign file). */
export const NOMINATION_FIELDS = [
  { code: 'name', zh: '姓名', en: 'Full name' },
  { code: 'id_number', zh: '身份证号码', en: 'Resident ID number' },
  { code: 'phone', zh: '手机号码', en: 'Mobile number' },
  { code: 'employer', zh: '工作单位', en: 'Employer / unit' },
  { code: 'work_status', zh: '工作状态', en: 'Work status' },
  { code: 'hardship', zh: '困难类别及致困原因', en: 'Hardship tier and causes' },
  { code: 'model_worker_level', zh: '劳模级别', en: 'Model-worker level' },
  { code: 'description', zh: '情况说明', en: 'Description of circumstances' },
  { code: 'bank_card', zh: '银行卡号', en: 'Bank card number' },
  { code: 'bank_name', zh: '开户银行', en: 'Bank name' },
] as const satisfies readonly VocabEntry<string>[];

export type CategoryKind = (typeof CATEGORY_KINDS)[number]['code'];
export type BenefitForm = (typeof BENEFIT_FORMS)[number]['code'];
export type NominationField = (typeof NOMINATION_FIELDS)[number]['code'];

export const CATEGORY_KIND_CODES = CATEGORY_KINDS.map((k) => k.code) as [CategoryKind, ...CategoryKind[]];
export const BENEFIT_FORM_CODES = BENEFIT_FORMS.map((k) => k.code) as [BenefitForm, ...BenefitForm[]];
export const NOMINATION_FIELD_CODES = NOMINATION_FIELDS.map((k) => k.code) as [
  NominationField,
  ...NominationField[],
];

/**
 * Default `required_fields` per kind when the file gives none. `bank_card` and `bank_name` are added
 * when the category's benefit forms include `transfer`. For `department`, `employer` is the department
 * and `name` / `phone` are its contact person.
 */
export const DEFAULT_REQUIRED_FIELDS: Readonly<Record<CategoryKind, readonly NominationField[]>> = {
  department: ['employer', 'name', 'phone', 'description'],
  needy_worker: ['name', 'id_number', 'phone', 'employer', 'work_status', 'hardship', 'description'],
  needy_model_worker: [
    'name',
    'id_number',
    'phone',
    'employer',
    'work_status',
    'model_worker_level',
    'hardship',
    'description',
  ],
  gig_worker: ['name', 'id_number', 'phone', 'employer', 'description'],
  frontline_worker: ['name', 'id_number', 'phone', 'employer'],
  other: ['name', 'id_number', 'phone', 'description'],
};

export function defaultRequiredFields(kind: CategoryKind, forms: readonly BenefitForm[]): NominationField[] {
  const fields: NominationField[] = [...DEFAULT_REQUIRED_FIELDS[kind]];
  if (forms.includes('transfer')) fields.push('bank_card', 'bank_name');
  return fields;
}
