/**
 * Full name (姓名) of a recipient or contact.
 * - Chinese names: Han characters only, 2-20 characters; ethnic-minority names may use the middle dot
 *   (买买提·艾力). Variants of the dot (•・‧∙ and a full stop between Han characters) become U+00B7;
 *   spaces inside a Chinese name are removed.
 * - Foreigners' names: Latin letters (accents allowed) with single spaces, hyphens, apostrophes, dots or
 *   middle dots between them; 2-50 characters (Latin names are longer than 20).
 * - Digits, emoji, other symbols, and Han/Latin mixtures → `name.invalid` (params.char = first offending
 *   character, or '' for a structural problem such as a leading dot).
 */
import { codePointLength, collapseWhitespace, normaliseInput } from '../text.ts';
import { fail, type Validation } from './result.ts';

export type NameErrorCode = 'name.empty' | 'name.invalid' | 'name.length';

export interface NameInfo {
  script: 'han' | 'latin';
}

export type NameResult = Validation<NameInfo, NameErrorCode>;

export const NAME_MIN_LENGTH = 2;
export const HAN_NAME_MAX_LENGTH = 20;
export const LATIN_NAME_MAX_LENGTH = 50;

const MIDDLE_DOT = '\u00B7';
const DOT_VARIANTS_RE = /[\u2022\u30FB\u2027\u2219\u22C5\u0387\u16EB\u2E31\uFF65]/gu;
const HAN_RE = /\p{Script=Han}/u;
const LATIN_RE = /\p{Script=Latin}/u;
const ALLOWED_RE = /[\p{Script=Han}\p{Script=Latin}\p{M} '\-.\u00B7]/u;
const ALL_ALLOWED_RE = /^[\p{Script=Han}\p{Script=Latin}\p{M} '\-.\u00B7]*$/u;
const HAN_NAME_RE = /^\p{Script=Han}+(?:\u00B7\p{Script=Han}+)*$/u;
const LATIN_NAME_RE =
  /^\p{Script=Latin}[\p{Script=Latin}\p{M}]*(?:(?:[ '\-.\u00B7]|\. )[\p{Script=Latin}][\p{Script=Latin}\p{M}]*)*\.?$/u;

export function normaliseName(input: string): string {
  let s = collapseWhitespace(normaliseInput(input)).replace(DOT_VARIANTS_RE, MIDDLE_DOT);
  if (HAN_RE.test(s) && !LATIN_RE.test(s)) {
    s = s.replace(/\s+/gu, '').replace(/(?<=\p{Script=Han})\.(?=\p{Script=Han})/gu, MIDDLE_DOT);
  }
  return s;
}

export function validateName(input: string): NameResult {
  const s = normaliseName(input);
  if (s.length === 0) return fail('name.empty');
  // The first character not allowed (a name of allowed characters only, the usual case, is not split).
  const bad = ALL_ALLOWED_RE.test(s) ? undefined : [...s].find((c) => !ALLOWED_RE.test(c));
  if (bad !== undefined) return fail('name.invalid', { char: bad });
  const han = HAN_RE.test(s);
  const latin = LATIN_RE.test(s);
  if (han && latin) return fail('name.invalid', { char: '' });
  const length = codePointLength(s);
  if (han) {
    if (!HAN_NAME_RE.test(s)) return fail('name.invalid', { char: '' });
    if (length < NAME_MIN_LENGTH || length > HAN_NAME_MAX_LENGTH) {
      return fail('name.length', { length, min: NAME_MIN_LENGTH, max: HAN_NAME_MAX_LENGTH });
    }
    return { ok: true, value: s, script: 'han', warnings: [] };
  }
  if (!latin || !LATIN_NAME_RE.test(s)) return fail('name.invalid', { char: '' });
  if (length < NAME_MIN_LENGTH || length > LATIN_NAME_MAX_LENGTH) {
    return fail('name.length', { length, min: NAME_MIN_LENGTH, max: LATIN_NAME_MAX_LENGTH });
  }
  return { ok: true, value: s, script: 'latin', warnings: [] };
}
