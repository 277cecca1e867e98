import type { Answer, TextStep } from './answers.ts';
import { type CategoryInfo, effectiveForm, type Step, stepsFor } from './form.ts';

// From answers to what is stored, in one place: the dialog (one answer at a time), the spreadsheet
// (a row at a time) and the submission use the functions below, so a default such as the only benefit
// form of a category is written the same way whichever path a nomination arrives by.
//
// Values here are in clear: the use case encrypts ID numbers, phones and cards before they are stored
// (src/usecases/nominations/stored-fields.ts) and never keeps the clear value.

export type BenefitFormCode = 'transfer' | 'in_kind' | 'unit_condolence';

/** Answers in clear, named like the nomination's columns (sensitive ones before encryption). */
export interface ClearFields {
  fullName?: string | null;
  idNumber?: string | null;
  birthDate?: string | null;
  sex?: 'male' | 'female' | null;
  phone?: string | null;
  employer?: string | null;
  workStatus?: string | null;
  modelWorkerLevel?: string | null;
  hardshipTier?: string | null;
  mainCause?: string | null;
  secondaryCauses?: string[];
  description?: string | null;
  benefitForm?: BenefitFormCode | null;
  bankName?: string | null;
  bankCard?: string | null;
  bankCardLast4?: string | null;
}

type OkAnswer = Extract<Answer, { ok: true }>;

/** The fields a validated text answer sets. */
export function fieldsForTextAnswer(step: TextStep, a: OkAnswer): ClearFields {
  switch (step) {
    case 'name':
      return { fullName: a.value };
    case 'id_number':
      return { idNumber: a.value, birthDate: a.birthDate ?? null, sex: a.sex ?? null };
    case 'phone':
      return { phone: a.value };
    case 'employer':
      return { employer: a.value };
    case 'description':
      return { description: a.value };
    case 'bank_name':
      return { bankName: a.value };
    case 'bank_card':
      return { bankCard: a.value, bankCardLast4: a.last4 ?? a.value.slice(-4) };
  }
}

/**
 * What choosing a category sets: the category's standard amount and, when the category offers one
 * benefit form, that form (when it offers several, an earlier choice is kept only if still offered).
 */
export function fieldsForCategory(
  cat: CategoryInfo,
  previousForm: string | null | undefined,
): { categoryId: number; amountFen: number; benefitForm: BenefitFormCode | null } {
  const keep = previousForm && cat.benefitForms.includes(previousForm) ? previousForm : undefined;
  return {
    categoryId: cat.id,
    amountFen: cat.standardAmountFen,
    benefitForm: (effectiveForm(cat, keep) as BenefitFormCode | undefined) ?? null,
  };
}

/** Columns each form step fills (used to forget answers that no longer apply). */
const STEP_FIELDS: Partial<Record<Step, (keyof ClearFields)[]>> = {
  name: ['fullName'],
  id_number: ['idNumber', 'birthDate', 'sex'],
  phone: ['phone'],
  employer: ['employer'],
  work_status: ['workStatus'],
  model_worker_level: ['modelWorkerLevel'],
  hardship_tier: ['hardshipTier'],
  main_cause: ['mainCause'],
  secondary_causes: ['secondaryCauses'],
  description: ['description'],
  bank_name: ['bankName'],
  bank_card: ['bankCard', 'bankCardLast4'],
};

/**
 * What a nomination stores when it leaves the draft: the effective benefit form and the standard
 * amount, and every field of a step the form no longer has cleared (e.g. bank details after the
 * contact switched to goods, hardship details after a change of category).
 */
export function fieldsAtSubmit(
  cat: CategoryInfo,
  chosenForm: string | null | undefined,
): { benefitForm: BenefitFormCode | null; amountFen: number; cleared: (keyof ClearFields)[] } {
  const form = (effectiveForm(cat, chosenForm) as BenefitFormCode | undefined) ?? null;
  const steps = new Set(stepsFor(cat, form));
  const cleared = Object.entries(STEP_FIELDS).flatMap(([step, fields]) =>
    steps.has(step as Step) ? [] : (fields ?? []),
  );
  return { benefitForm: form, amountFen: cat.standardAmountFen, cleared };
}

/** What downstream (payment batch, handover, ledger, notices) needs of a nomination. */
export interface PayableFacts {
  benefitForm: string | null;
  amountFen: number | null;
  bankName: string | null;
  /** Whether an encrypted card number is stored (never the number itself). */
  hasBankCard: boolean;
  employer: string | null;
}

export type PayableGap = 'benefit_form' | 'amount' | 'bank_name' | 'bank_card' | 'unit';

/**
 * The invariant every nomination that has left `draft` (and is not returned, withdrawn or rejected)
 * satisfies; the database enforces the same rule with a CHECK constraint (migration
 * `nomination_payable_check`). [] when nothing is missing.
 */
export function payableGaps(n: PayableFacts): PayableGap[] {
  const gaps: PayableGap[] = [];
  if (!n.benefitForm) gaps.push('benefit_form');
  if (n.amountFen === null || n.amountFen <= 0) gaps.push('amount');
  if (n.benefitForm === 'transfer') {
    if (!n.bankName) gaps.push('bank_name');
    if (!n.hasBankCard) gaps.push('bank_card');
  }
  if (n.benefitForm === 'unit_condolence' && !n.employer) gaps.push('unit');
  return gaps;
}

/** Statuses exempt from the invariant: still being written or corrected, or out of the campaign. */
export const PAYABLE_EXEMPT_STATUSES = ['draft', 'returned', 'withdrawn', 'rejected'] as const;

export const DEFAULT_DRAFT_TTL_HOURS = 72;

/**
 * When an untouched draft expires: the campaign's `draftTtlHours` setting (stored camelCase; the
 * campaign file's snake_case accepted) or 72 hours. The one TTL rule for dialog and spreadsheet drafts.
 */
export function draftExpiresAt(settings: unknown, now: Date): Date {
  const s = (settings ?? {}) as { draftTtlHours?: unknown; draft_ttl_hours?: unknown };
  const v = s.draftTtlHours ?? s.draft_ttl_hours;
  const hours = typeof v === 'number' && v > 0 ? v : DEFAULT_DRAFT_TTL_HOURS;
  return new Date(now.getTime() + hours * 3600_000);
}
