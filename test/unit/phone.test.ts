import { describe, expect, it } from 'vitest';
import { normalisePhone, validatePhone } from '../../src/domain/identity/phone.ts';

describe('validatePhone', () => {
  it('accepts plain mobile numbers', () => {
    expect(validatePhone('13812345678')).toEqual({ ok: true, value: '13812345678', warnings: [] });
    expect(validatePhone('19912345678')).toMatchObject({ ok: true });
  });

  it('strips spaces, dashes, brackets, country prefixes and full-width digits', () => {
    for (const input of [
      '138 1234 5678',
      '138-1234-5678',
      '+86 138 1234 5678',
      '+86-13812345678',
      '0086 13812345678',
      '8613812345678',
      '(+86) 138.1234.5678',
      '１３８１２３４５６７８',
      '＋８６　１３８－１２３４－５６７８',
    ]) {
      expect(validatePhone(input), input).toMatchObject({ ok: true, value: '13812345678' });
    }
  });

  it('does not strip a leading 86 that is part of an 11-digit number', () => {
    expect(normalisePhone('86123456789')).toBe('86123456789');
  });

  it('reports each error code', () => {
    expect(validatePhone('')).toEqual({ ok: false, code: 'phone.empty', params: {} });
    expect(validatePhone('138abc45678')).toEqual({ ok: false, code: 'phone.chars', params: { char: 'a' } });
    expect(validatePhone('1381234567')).toEqual({
      ok: false,
      code: 'phone.length',
      params: { length: 10, expected: 11 },
    });
    expect(validatePhone('12812345678')).toEqual({ ok: false, code: 'phone.format', params: {} });
    expect(validatePhone('010-12345678')).toMatchObject({ ok: false, code: 'phone.format' });
  });
});
