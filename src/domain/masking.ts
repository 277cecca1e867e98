/**
 * Masking for display and logs. Input is expected to be the normalised value; anything else is masked
 * conservatively (never reveals more than the last 4 characters).
 *   maskIdNumber('11010519491231002X') → '110105********002X'  (first 6, 8 stars, last 4)
 *   maskPhone('13812345678')          → '138****5678'
 *   maskBankCard('6222…1234')         → '**** 1234'
 *   maskName('张三') → '张*', maskName('欧阳娜娜') → '欧***'
 *   maskBirthDate('1980-01-15')      → '1980'
 *
 * The 8 characters a masked ID number hides ARE the birth date (YYYYMMDD), and its last character is a
 * check digit: a full birth date shown anywhere next to a masked number rebuilds the whole number. So
 * wherever an ID number is masked, a birth date is shown as the year only (or an age), never in full.
 */

function maskAllButLast4(s: string): string {
  const chars = [...s];
  if (chars.length <= 4) return '*'.repeat(chars.length);
  return '*'.repeat(chars.length - 4) + chars.slice(-4).join('');
}

export function maskIdNumber(id: string): string {
  if (id.length === 18) return `${id.slice(0, 6)}********${id.slice(14)}`;
  return maskAllButLast4(id);
}

export function maskPhone(phone: string): string {
  if (/^\d{11}$/.test(phone)) return `${phone.slice(0, 3)}****${phone.slice(7)}`;
  return maskAllButLast4(phone);
}

export function maskBankCard(cardOrLast4: string): string {
  const digits = cardOrLast4.replace(/\D/g, '');
  if (digits.length < 4) return '****';
  return `**** ${digits.slice(-4)}`;
}

/** First character kept, every other character (except the middle dot and spaces) replaced by '*'. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length === 0) return '';
  if (chars.length === 1) return '*';
  return (
    chars[0] +
    chars
      .slice(1)
      .map((c) => (c === '\u00B7' || c === ' ' ? c : '*'))
      .join('')
  );
}

/** A masked ID number as `maskIdNumber` writes it (first 6, 8 stars, last 4). */
export const MASKED_ID_RE = /(?<![\dA-Za-z])\d{6}\*{8}\d{3}[\dXx](?![\dA-Za-z])/g;

/**
 * Birth year only ('1980'), from an ISO date or a Date: the only form of a birth date allowed where the
 * ID number is masked (review cards, masked exports, the nomination dialog's confirmation and summary).
 */
export function maskBirthDate(birth: string | Date | null | undefined): string {
  if (!birth) return '';
  const iso = birth instanceof Date ? birth.toISOString() : birth;
  const m = /^(\d{4})/.exec(iso);
  return m ? m[1]! : '';
}
