/**
 * Free text typed by people: employer / unit name, hardship description, bank name.
 * Cleaned with `cleanFreeText` (Chinese punctuation kept, invisible and control characters removed,
 * whitespace collapsed; descriptions keep line breaks), then checked:
 * `text.empty` (nothing left), `text.no_content` (only emoji / punctuation / symbols), `text.too_long` {max, length}.
 * Lengths are counted in Unicode code points.
 */
import { cleanFreeText, codePointLength, hasSubstance } from '../text.ts';
import { fail, type Validation } from './result.ts';

export type TextErrorCode = 'text.empty' | 'text.no_content' | 'text.too_long';
export type TextResult = Validation<object, TextErrorCode>;

export type FreeTextField = 'employer' | 'description' | 'bank_name';

export const TEXT_LIMITS: Readonly<Record<FreeTextField, number>> = {
  employer: 100,
  description: 500,
  bank_name: 50,
};

export interface FreeTextOptions {
  max: number;
  /** Keep line breaks (descriptions). */
  multiline?: boolean;
}

export function validateFreeText(input: string, options: FreeTextOptions): TextResult {
  const s = cleanFreeText(input, { multiline: options.multiline ?? false });
  if (s.length === 0) return fail('text.empty');
  if (!hasSubstance(s)) return fail('text.no_content');
  const length = codePointLength(s);
  if (length > options.max) return fail('text.too_long', { max: options.max, length });
  return { ok: true, value: s, warnings: [] };
}

export const validateEmployer = (input: string): TextResult =>
  validateFreeText(input, { max: TEXT_LIMITS.employer });

export const validateDescription = (input: string): TextResult =>
  validateFreeText(input, { max: TEXT_LIMITS.description, multiline: true });

export const validateBankName = (input: string): TextResult =>
  validateFreeText(input, { max: TEXT_LIMITS.bank_name });
