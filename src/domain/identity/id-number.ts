/**
 * Resident identity number (居民身份号码, GB 11643-1999), 18 characters:
 * 1-6 address code (first two = province), 7-14 birth date YYYYMMDD, 15-17 sequence (17th digit odd = male,
 * even = female), 18 check character (ISO 7064 MOD 11-2: "10X98765432"[Σ digit·weight mod 11]).
 * Foreigners' permanent-residence ID cards issued since December 2023 start with 9 and use the same
 * layout and check; their digits 2-6 are not checked against the province list.
 *
 * Decisions:
 * - Old county codes are not rejected (people keep them for life): only the province (first two digits) is checked.
 * - 15-digit legacy numbers (first-generation cards) are refused with their own code, `id.legacy_15`.
 * - Pre-1900 births are NOT rejected (the domain notes' valid example 440524188001010014 is born 1880);
 *   an age of 100 or more at `today` gives the warning `id.very_old`. Only a birth year before 1850 is an
 *   error (`id.birth_date_too_old`): nobody alive was born then, so it must be a typo.
 */
import { ageOn, formatIsoDate, type IsoDate, isRealDate, toIsoDate } from '../calendar/date.ts';
import type { DateInput } from '../calendar/date.ts';
import { normaliseInput, stripSeparators } from '../text.ts';
import { fail, type Validation } from './result.ts';

export type IdNumberErrorCode =
  | 'id.empty'
  | 'id.chars'
  | 'id.legacy_15'
  | 'id.length'
  | 'id.region'
  | 'id.birth_date_invalid'
  | 'id.birth_date_future'
  | 'id.birth_date_too_old'
  | 'id.check_digit';

export type IdNumberWarningCode = 'id.very_old';

export type Sex = 'male' | 'female';

export interface IdNumberInfo {
  /** Birth date `YYYY-MM-DD`. */
  birthDate: IsoDate;
  sex: Sex;
  /** Completed years at `today`. */
  age: number;
  /** Address code (digits 1-6). */
  regionCode: string;
  /** Province code (digits 1-2), e.g. '11' Beijing; for foreigners '9x'. */
  provinceCode: string;
  /** Foreigner's permanent-residence number (starts with 9). */
  foreigner: boolean;
}

export type IdNumberResult = Validation<IdNumberInfo, IdNumberErrorCode, IdNumberWarningCode>;

export interface IdNumberOptions {
  /** "Today" in Asia/Shanghai, for the future-date check and the age. */
  today: DateInput;
}

export const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

/** Province-level codes allowed as the first two digits (mainland 11-65, plus 71 Taiwan, 81 HK, 82 Macao, 83). */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  ...['11', '12', '13', '14', '15'],
  ...['21', '22', '23'],
  ...['31', '32', '33', '34', '35', '36', '37'],
  ...['41', '42', '43', '44', '45', '46'],
  ...['50', '51', '52', '53', '54'],
  ...['61', '62', '63', '64', '65'],
  ...['71', '81', '82', '83'],
]);

export const MIN_BIRTH_YEAR = 1850;
export const VERY_OLD_AGE = 100;

/** The check character for the first 17 digits (throws on malformed input). */
export function idCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('idCheckChar needs exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/**
 * The birth date an (already validated, stored) 18-character ID number carries in characters 7-14, or
 * null for any other shape. Exports derive it from the decrypted number instead of keeping it in clear.
 */
export function birthDateOfIdNumber(id: string): string | null {
  const m = /^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dX]$/i.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** Full-width digits, lowercase x, spaces and dashes → canonical form (not validated). */
export function normaliseIdNumber(input: string): string {
  return stripSeparators(normaliseInput(input)).toUpperCase();
}

export function validateIdNumber(input: string, options: IdNumberOptions): IdNumberResult {
  const today = toIsoDate(options.today);
  const id = normaliseIdNumber(input);
  if (id.length === 0) return fail('id.empty');

  const bad = /[^0-9X]/u.exec(id)?.[0]; // the first character (code point) that is not a digit or X
  if (bad !== undefined) return fail('id.chars', { char: bad });
  if (id.length === 15 && /^\d{15}$/.test(id)) return fail('id.legacy_15');
  if (id.length !== 18) return fail('id.length', { length: id.length, expected: 18 });
  if (!/^\d{17}[0-9X]$/.test(id)) return fail('id.chars', { char: 'X' });

  const provinceCode = id.slice(0, 2);
  const foreigner = id.startsWith('9');
  if (!foreigner && !PROVINCE_CODES.has(provinceCode)) return fail('id.region', { code: provinceCode });

  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const shownDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (!isRealDate(y, m, d)) return fail('id.birth_date_invalid', { date: shownDate });
  const birthDate = formatIsoDate(y, m, d);
  if (birthDate > today) return fail('id.birth_date_future', { date: birthDate });
  if (y < MIN_BIRTH_YEAR) return fail('id.birth_date_too_old', { date: birthDate, min_year: MIN_BIRTH_YEAR });

  const expected = idCheckChar(id.slice(0, 17));
  const got = id[17]!;
  if (expected !== got) return fail('id.check_digit', { expected, got });

  const age = ageOn(birthDate, today);
  return {
    ok: true,
    value: id,
    birthDate,
    sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
    age,
    regionCode: id.slice(0, 6),
    provinceCode,
    foreigner,
    warnings: age >= VERY_OLD_AGE ? [{ code: 'id.very_old', params: { date: birthDate, age } }] : [],
  };
}
