// The nomination form as an ordered list of steps, derived from the category's settings. Pure: the
// chat dialog and the spreadsheet import both use it, so both ask for (and check) the same things.

export const STEPS = [
  'category',
  'name',
  'id_number',
  'phone',
  'employer',
  'work_status',
  'model_worker_level',
  'hardship_tier',
  'main_cause',
  'secondary_causes',
  'description',
  'benefit_form',
  'bank_name',
  'bank_card',
] as const;
export type Step = (typeof STEPS)[number];

/** Steps answered with buttons (the others take text). */
export const BUTTON_STEPS: ReadonlySet<Step> = new Set([
  'category',
  'work_status',
  'model_worker_level',
  'hardship_tier',
  'main_cause',
  'secondary_causes',
  'benefit_form',
]);

export interface CategoryInfo {
  id: number;
  code: string;
  kind: string;
  nameZh: string;
  nameEn: string;
  standardAmountFen: number;
  benefitForms: string[];
  requiredFields: string[];
  quotaPerUnion: number | null;
  yearlyCapFen: number | null;
}

const FIELD_STEPS: Record<string, Step[]> = {
  name: ['name'],
  id_number: ['id_number'],
  phone: ['phone'],
  employer: ['employer'],
  work_status: ['work_status'],
  model_worker_level: ['model_worker_level'],
  hardship: ['hardship_tier', 'main_cause', 'secondary_causes'],
  description: ['description'],
};

/** The steps of this category's form, in order. Bank details only when the chosen form is a transfer. */
export function stepsFor(cat: CategoryInfo | undefined, benefitForm: string | null | undefined): Step[] {
  if (!cat) return ['category'];
  const wanted = new Set<Step>(['category']);
  for (const f of cat.requiredFields) for (const s of FIELD_STEPS[f] ?? []) wanted.add(s);
  if (cat.benefitForms.length > 1) wanted.add('benefit_form');
  const form = cat.benefitForms.length === 1 ? cat.benefitForms[0] : benefitForm;
  if (form === 'transfer') {
    wanted.add('bank_name');
    wanted.add('bank_card');
  }
  return STEPS.filter((s) => wanted.has(s));
}

/** First step not answered yet, or 'summary' when the form is complete. */
export function nextStep(steps: Step[], answered: readonly string[]): Step | 'summary' {
  return steps.find((s) => !answered.includes(s)) ?? 'summary';
}

export function previousStep(steps: Step[], current: Step | 'summary'): Step | undefined {
  const i = current === 'summary' ? steps.length : steps.indexOf(current);
  return i > 0 ? steps[i - 1] : undefined;
}

/** The benefit form a complete nomination uses (the only one, or the chosen one). */
export function effectiveForm(cat: CategoryInfo, chosen: string | null | undefined): string | undefined {
  return cat.benefitForms.length === 1 ? cat.benefitForms[0] : (chosen ?? undefined);
}

export const NEEDY_KINDS: ReadonlySet<string> = new Set(['needy_worker', 'needy_model_worker']);
export const MAX_SECONDARY_CAUSES = 3;
