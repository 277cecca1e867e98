/**
 * Mainland mobile number: 11 digits `^1[3-9]\d{9}$` after removing spaces, dashes, brackets and dots,
 * full-width digits and a `+86` / `0086` / `86` country prefix. Carrier prefixes are deliberately not
 * checked (number portability since 2019).
 */
import { normaliseInput, stripSeparators } from '../text.ts';
import { fail, type Validation } from './result.ts';

export type PhoneErrorCode = 'phone.empty' | 'phone.chars' | 'phone.length' | 'phone.format';
export type PhoneResult = Validation<object, PhoneErrorCode>;

export function normalisePhone(input: string): string {
  let s = stripSeparators(normaliseInput(input)).replace(/[().]/g, '');
  if (s.startsWith('+86')) s = s.slice(3);
  else if (s.startsWith('0086')) s = s.slice(4);
  else if (s.startsWith('86') && s.length === 13) s = s.slice(2);
  return s;
}

export function validatePhone(input: string): PhoneResult {
  const s = normalisePhone(input);
  if (s.length === 0) return fail('phone.empty');
  // The first character that is not a digit (a string of digits only, the usual case, is not split).
  const bad = /^\d+$/.test(s) ? undefined : [...s].find((c) => !/\d/.test(c));
  if (bad !== undefined) return fail('phone.chars', { char: bad });
  if (s.length !== 11) return fail('phone.length', { length: s.length, expected: 11 });
  if (!/^1[3-9]\d{9}$/.test(s)) return fail('phone.format');
  return { ok: true, value: s, warnings: [] };
}
