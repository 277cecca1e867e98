/**
 * Official hardship vocabulary for needy-worker nominations (困难职工建档), with stable codes.
 * Codes are what we store; the Chinese names are the official terms (used in ledgers/exports), the
 * English names are for code readers. The chat layer takes its button labels from the locale files:
 * key = `vocab.<list>.<code>`, e.g. `vocab.hardship_cause.no_work_capacity`.
 */
import { z } from 'zod';
import type { Issue } from './result.ts';

export interface VocabEntry<C extends string> {
  readonly code: C;
  readonly zh: string;
  readonly en: string;
}

function vocab<const C extends string>(entries: readonly VocabEntry<C>[]) {
  return entries;
}

/** 困难类别 */
export const HARDSHIP_TIERS = vocab([
  { code: 'deep', zh: '深度困难', en: 'Deep hardship' },
  { code: 'relative', zh: '相对困难', en: 'Relative hardship' },
  { code: 'accident', zh: '意外致困', en: 'Hardship from accident or sudden illness' },
]);

/** 致困原因: one main cause and up to three secondary causes. */
export const HARDSHIP_CAUSES = vocab([
  { code: 'no_work_capacity', zh: '无劳动能力', en: 'No capacity to work' },
  { code: 'able_but_not_employed', zh: '有劳动能力而未就业', en: 'Able to work but not employed' },
  { code: 'laid_off_unemployed', zh: '下岗失业', en: 'Laid off / unemployed' },
  { code: 'no_social_insurance', zh: '未参加社会保险', en: 'Not covered by social insurance' },
  {
    code: 'insurance_benefits_not_paid',
    zh: '社会保险待遇落实不到位',
    en: 'Social-insurance benefits not fully paid',
  },
  { code: 'serious_illness', zh: '患重特大疾病', en: 'Serious or major illness' },
  { code: 'natural_disaster', zh: '遭受自然灾害', en: 'Natural disaster' },
  { code: 'accident', zh: '遭受意外事故', en: 'Accident' },
  { code: 'child_education', zh: '子女上学', en: "Children's schooling" },
  { code: 'other', zh: '其他', en: 'Other' },
]);

/** 工作状态 */
export const WORK_STATUSES = vocab([
  { code: 'employed', zh: '在岗', en: 'In work' },
  { code: 'off_post', zh: '下(待)岗', en: 'Off post / awaiting post' },
  { code: 'unemployed', zh: '失(无)业', en: 'Unemployed' },
  { code: 'retired', zh: '退休', en: 'Retired' },
  { code: 'sick_leave', zh: '病休', en: 'On sick leave' },
  { code: 'internal_retirement', zh: '内退', en: 'Early internal retirement' },
  { code: 'migrant_worker', zh: '农民工', en: 'Migrant worker' },
]);

/** 劳模级别 */
export const MODEL_WORKER_LEVELS = vocab([
  { code: 'national', zh: '全国', en: 'National' },
  { code: 'provincial', zh: '省部级', en: 'Provincial / ministerial' },
  { code: 'municipal', zh: '地市级', en: 'Prefecture / city' },
  { code: 'other', zh: '其他', en: 'Other' },
]);

type Codes<T extends readonly VocabEntry<string>[]> = T[number]['code'];
export type HardshipTier = Codes<typeof HARDSHIP_TIERS>;
export type HardshipCause = Codes<typeof HARDSHIP_CAUSES>;
export type WorkStatus = Codes<typeof WORK_STATUSES>;
export type ModelWorkerLevel = Codes<typeof MODEL_WORKER_LEVELS>;

function codesOf<C extends string>(entries: readonly VocabEntry<C>[]): [C, ...C[]] {
  return entries.map((e) => e.code) as [C, ...C[]];
}

export const hardshipTierSchema = z.enum(codesOf(HARDSHIP_TIERS));
export const hardshipCauseSchema = z.enum(codesOf(HARDSHIP_CAUSES));
export const workStatusSchema = z.enum(codesOf(WORK_STATUSES));
export const modelWorkerLevelSchema = z.enum(codesOf(MODEL_WORKER_LEVELS));

/** Locale key prefix per list: `${VOCAB_LOCALE_PREFIX.hardship_cause}.${code}`. */
export const VOCAB_LOCALE_PREFIX = {
  hardship_tier: 'vocab.hardship_tier',
  hardship_cause: 'vocab.hardship_cause',
  work_status: 'vocab.work_status',
  model_worker_level: 'vocab.model_worker_level',
} as const;

export const MAX_SECONDARY_CAUSES = 3;

export interface Hardship {
  tier: HardshipTier;
  mainCause: HardshipCause;
  secondaryCauses: HardshipCause[];
}

export type HardshipErrorCode =
  | 'hardship.tier_required'
  | 'hardship.unknown_code'
  | 'hardship.main_cause_required'
  | 'hardship.too_many_secondary'
  | 'hardship.duplicate_cause';

export type HardshipResult = { ok: true; value: Hardship } | ({ ok: false } & Issue<HardshipErrorCode>);

/** Checks a tier + one main cause + up to three distinct secondary causes (none equal to the main one). */
export function validateHardship(input: {
  tier?: string | null;
  mainCause?: string | null;
  secondaryCauses?: readonly string[];
}): HardshipResult {
  const failWith = (
    code: HardshipErrorCode,
    params: Record<string, string | number> = {},
  ): HardshipResult => ({
    ok: false,
    code,
    params,
  });
  if (!input.tier) return failWith('hardship.tier_required');
  const tier = hardshipTierSchema.safeParse(input.tier);
  if (!tier.success) return failWith('hardship.unknown_code', { list: 'hardship_tier', code: input.tier });
  if (!input.mainCause) return failWith('hardship.main_cause_required');
  const main = hardshipCauseSchema.safeParse(input.mainCause);
  if (!main.success)
    return failWith('hardship.unknown_code', { list: 'hardship_cause', code: input.mainCause });
  const secondary: HardshipCause[] = [];
  for (const c of input.secondaryCauses ?? []) {
    const parsed = hardshipCauseSchema.safeParse(c);
    if (!parsed.success) return failWith('hardship.unknown_code', { list: 'hardship_cause', code: c });
    if (parsed.data === main.data || secondary.includes(parsed.data)) {
      return failWith('hardship.duplicate_cause', { code: parsed.data });
    }
    secondary.push(parsed.data);
  }
  if (secondary.length > MAX_SECONDARY_CAUSES) {
    return failWith('hardship.too_many_secondary', { max: MAX_SECONDARY_CAUSES, count: secondary.length });
  }
  return { ok: true, value: { tier: tier.data, mainCause: main.data, secondaryCauses: secondary } };
}
