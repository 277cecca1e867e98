/**
 * Masking for display and logs. Input is expected to be the normalised value; anything else is masked
 * conservatively (never reveals more than the last 4 characters).
 *   maskIdNumber('11010519491231002X') → '110105********002X'  (first 6, 8 stars, last 4)
 *   maskPhone('13812345678')          → '138****5678'
 *   maskBankCard('6222…1234')         → '**** 1234'
 *   maskName('张三') → '张*', maskName('欧阳娜娜') → '欧***'
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
