/**
 * Bank card number for real-name transfer (实名制打款): digits only after removing spaces and dashes,
 * 15-19 digits. Most cards pass the Luhn check but not all UnionPay cards do, so a Luhn failure is the
 * warning `card.luhn_warning` ("please check the number again"), never an error.
 * Whether the account is in the recipient's own name cannot be checked here (the bank does it).
 */
import { normaliseInput, stripSeparators } from '../text.ts';
import { fail, type Validation } from './result.ts';

export type BankCardErrorCode = 'card.empty' | 'card.chars' | 'card.length';
export type BankCardWarningCode = 'card.luhn_warning';

export interface BankCardInfo {
  last4: string;
  /** Starts with 62 (UnionPay / 银联). */
  unionPay: boolean;
  luhnValid: boolean;
}

export type BankCardResult = Validation<BankCardInfo, BankCardErrorCode, BankCardWarningCode>;

export const CARD_MIN_LENGTH = 15;
export const CARD_MAX_LENGTH = 19;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let n = Number(digits[i]);
    if (double) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    double = !double;
  }
  return sum % 10 === 0;
}

export function normaliseBankCard(input: string): string {
  return stripSeparators(normaliseInput(input));
}

export function validateBankCard(input: string): BankCardResult {
  const s = normaliseBankCard(input);
  if (s.length === 0) return fail('card.empty');
  // The first character that is not a digit (a string of digits only, the usual case, is not split).
  const bad = /^\d+$/.test(s) ? undefined : [...s].find((c) => !/\d/.test(c));
  if (bad !== undefined) return fail('card.chars', { char: bad });
  if (s.length < CARD_MIN_LENGTH || s.length > CARD_MAX_LENGTH) {
    return fail('card.length', { length: s.length, min: CARD_MIN_LENGTH, max: CARD_MAX_LENGTH });
  }
  const luhn = luhnValid(s);
  return {
    ok: true,
    value: s,
    last4: s.slice(-4),
    unionPay: s.startsWith('62'),
    luhnValid: luhn,
    warnings: luhn ? [] : [{ code: 'card.luhn_warning', params: { last4: s.slice(-4) } }],
  };
}
