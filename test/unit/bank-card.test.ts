import { describe, expect, it } from 'vitest';
import { luhnValid, validateBankCard } from '../../src/domain/identity/bank-card.ts';

describe('validateBankCard', () => {
  it('accepts 15-19 digits and returns last4', () => {
    expect(validateBankCard('6212261202011584696')).toEqual({
      ok: true,
      value: '6212261202011584696',
      last4: '4696',
      unionPay: true,
      luhnValid: true,
      warnings: [],
    });
    expect(validateBankCard('621483012345671')).toMatchObject({ ok: true, last4: '5671' });
    expect(validateBankCard('4111111111111111')).toMatchObject({ ok: true, unionPay: false });
  });

  it('strips spaces, dashes and full-width digits', () => {
    expect(validateBankCard('6222 0212 3456 7890 128')).toMatchObject({
      ok: true,
      value: '6222021234567890128',
    });
    expect(validateBankCard('6222-0212-3456-7890-128')).toMatchObject({ ok: true });
    expect(validateBankCard('６２２２０２１２３４５６７８９０１２８')).toMatchObject({ ok: true });
  });

  it('treats a Luhn failure as a warning, not an error', () => {
    const r = validateBankCard('6222021234567890125');
    expect(r).toMatchObject({ ok: true, luhnValid: false, last4: '0125' });
    expect(r.ok && r.warnings).toEqual([{ code: 'card.luhn_warning', params: { last4: '0125' } }]);
  });

  it('reports each error code', () => {
    expect(validateBankCard(' ')).toEqual({ ok: false, code: 'card.empty', params: {} });
    expect(validateBankCard('6222O21234567890128')).toEqual({
      ok: false,
      code: 'card.chars',
      params: { char: 'O' },
    });
    expect(validateBankCard('62220212345678')).toEqual({
      ok: false,
      code: 'card.length',
      params: { length: 14, min: 15, max: 19 },
    });
    expect(validateBankCard('62220212345678901234')).toMatchObject({ ok: false, code: 'card.length' });
  });

  it('luhnValid', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});
