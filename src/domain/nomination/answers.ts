import { type DateInput, toIsoDate } from '../calendar/date.ts';
import {
  validateBankCard,
  validateBankName,
  validateDescription,
  validateEmployer,
  validateIdNumber,
  validateName,
  validatePhone,
} from '../identity/index.ts';
import type { Step } from './form.ts';

// Validates one text answer with the same rules everywhere (dialog and spreadsheet). Returns the
// normalised value, derived data, warnings, or a failure code (locale key `validation.<code>`).

export type TextStep = Extract<
  Step,
  'name' | 'id_number' | 'phone' | 'employer' | 'description' | 'bank_name' | 'bank_card'
>;

export const TEXT_STEPS: readonly TextStep[] = [
  'name',
  'id_number',
  'phone',
  'employer',
  'description',
  'bank_name',
  'bank_card',
];

export type Answer =
  | {
      ok: true;
      value: string;
      warnings: { code: string; params: Record<string, string | number> }[];
      birthDate?: string;
      sex?: 'male' | 'female';
      last4?: string;
    }
  | { ok: false; code: string; params: Record<string, string | number> };

export function validateAnswer(step: TextStep, raw: string, today: DateInput): Answer {
  switch (step) {
    case 'name':
      return validateName(raw);
    case 'id_number': {
      const r = validateIdNumber(raw, { today: toIsoDate(today) });
      return r.ok
        ? { ok: true, value: r.value, warnings: r.warnings, birthDate: r.birthDate, sex: r.sex }
        : r;
    }
    case 'phone':
      return validatePhone(raw);
    case 'employer':
      return validateEmployer(raw);
    case 'description':
      return validateDescription(raw);
    case 'bank_name':
      return validateBankName(raw);
    case 'bank_card': {
      const r = validateBankCard(raw);
      return r.ok ? { ok: true, value: r.value, warnings: r.warnings, last4: r.last4 } : r;
    }
  }
}
