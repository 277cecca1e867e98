/**
 * Shared text normalisation for everything people type into the bot.
 *
 * Pure functions, no I/O. Field validators (src/domain/identity/*) build on these:
 * - `normaliseInput` is the common first step (full-width → ASCII, ideographic space, NFKC, zero-width
 *   characters removed, trimmed). It never removes inner spaces or dashes: that is per field
 *   (`stripSeparators` for ID numbers, phones and cards; names and free text keep their spaces).
 * - Free text (descriptions, employer names) is NOT NFKC-normalised, because NFKC would turn Chinese
 *   full-width punctuation (，。：（）) into ASCII; use `cleanFreeText` for it.
 */

/** Zero-width and bidirectional formatting characters: invisible, and a spoofing risk in exported ledgers. */
const INVISIBLE_RE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD]/gu;

/** C0/C1 control characters except TAB, LF and CR (handled separately). */
const CONTROL_RE = /(?![\t\n\r])\p{Cc}/gu;

/** Hyphens and dashes people type between digit groups (ASCII, Unicode dashes, minus sign, katakana long mark). */
const DASH_RE = /[-\u2010-\u2015\u2212\uFE58\uFE63\uFF0D\u30FC]/gu;

/**
 * Full-width ASCII variants (U+FF01–U+FF5E) → ASCII, ideographic space (U+3000) → ASCII space.
 * Everything else is left alone (Chinese punctuation outside that block, e.g. 、。, is untouched).
 */
export function toHalfWidth(s: string): string {
  // Most input has none: the same string back, not one rebuilt a character at a time (an import checks
  // four such fields a row).
  if (!HALF_WIDTH_RE.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xff01 && cp <= 0xff5e) out += String.fromCodePoint(cp - 0xfee0);
    else if (cp === 0x3000) out += ' ';
    else out += ch;
  }
  return out;
}

const HALF_WIDTH_RE = /[\uFF01-\uFF5E\u3000]/;

/** Removes zero-width, bidi-control and soft-hyphen characters. */
export function removeInvisible(s: string): string {
  return s.replace(INVISIBLE_RE, '');
}

/** True when `s` contains a control character other than TAB / LF / CR. */
export function hasControlChars(s: string): boolean {
  return new RegExp(CONTROL_RE.source, 'u').test(s);
}

/** Removes control characters other than TAB / LF / CR. */
export function removeControlChars(s: string): string {
  return s.replace(CONTROL_RE, '');
}

export interface NormaliseOptions {
  /** Apply Unicode NFKC (default true). Turn off for free text with Chinese punctuation. */
  nfkc?: boolean;
}

/**
 * Common first step for structured fields (ID number, phone, card, name): full-width → ASCII,
 * ideographic space → space, NFKC (unless disabled), invisible characters removed, trimmed.
 * Inner spaces and dashes are kept; see `stripSeparators`.
 */
export function normaliseInput(s: string, options: NormaliseOptions = {}): string {
  let out = toHalfWidth(s);
  if (options.nfkc !== false) out = out.normalize('NFKC');
  out = removeInvisible(out);
  return out.trim();
}

/** Removes all whitespace and dash-like characters (for digit strings such as ID, phone, card numbers). */
export function stripSeparators(s: string): string {
  return s.replace(/\s+/gu, '').replace(DASH_RE, '');
}

/** Collapses runs of whitespace (including newlines) into one ASCII space. */
export function collapseWhitespace(s: string): string {
  return s.replace(/\s+/gu, ' ');
}

const SURROGATE_RE = /[\uD800-\uDFFF]/;

/** Length in Unicode code points (a rare CJK character outside the BMP counts as 1, not 2). */
export function codePointLength(s: string): number {
  // Without surrogates every code unit is a code point.
  if (!SURROGATE_RE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** True when the text has at least one letter or digit (in any script), i.e. is not only emoji/punctuation. */
export function hasSubstance(s: string): boolean {
  return /[\p{L}\p{N}]/u.test(s);
}

export interface FreeTextCleanOptions {
  /** Keep line breaks (collapsed to at most one blank line); otherwise they become spaces. */
  multiline?: boolean;
}

/**
 * Cleans free text without changing its punctuation style: full-width ASCII letters/digits are kept as
 * typed (no NFKC), invisible and control characters removed, CRLF → LF, trailing spaces per line removed,
 * runs of spaces collapsed, trimmed.
 */
export function cleanFreeText(s: string, options: FreeTextCleanOptions = {}): string {
  let out = removeInvisible(s.normalize('NFC')).replace(/\r\n?/gu, '\n').replace(/\t/gu, ' ');
  out = removeControlChars(out).replace(/\u3000/gu, ' ');
  if (options.multiline && !out.includes('\n')) {
    // One line: what the per-line steps below come to.
    out = out.replace(/ {2,}/gu, ' ').trim();
  } else if (options.multiline) {
    out = out
      .split('\n')
      .map((line) => line.replace(/ {2,}/gu, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/gu, '\n\n');
  } else {
    out = collapseWhitespace(out);
  }
  return out.trim();
}

/** Characters that make a spreadsheet read a cell as a formula (also after a leading TAB or CR). */
const FORMULA_LEAD_RE = /^[=+\-@\t\r]/;

/**
 * Text for a spreadsheet or CSV cell that no program will run as a formula: text starting with
 * = + - @ (or a TAB / CR, which some programs skip before such a character) gets a leading apostrophe,
 * the convention spreadsheets use for "this is text". Every xlsx/csv writer passes free text through it
 * (employer, description, bank name, names, titles): people's typing must not become a formula in a
 * finance clerk's Excel. Non-strings pass unchanged.
 */
export function neutraliseFormula<T>(value: T): T | string {
  return typeof value === 'string' && FORMULA_LEAD_RE.test(value) ? `'${value}` : value;
}

/** Reverses `neutraliseFormula` on a value read back from one of our files (the checked upload file). */
export function restoreNeutralised(value: string): string {
  return value.startsWith("'") && FORMULA_LEAD_RE.test(value.slice(1)) ? value.slice(1) : value;
}
