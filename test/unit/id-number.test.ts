import { describe, expect, it } from 'vitest';
import { idCheckChar, normaliseIdNumber, validateIdNumber } from '../../src/domain/identity/id-number.ts';

const today = '2024-06-01';
const check = (input: string, on: string = today) => validateIdNumber(input, { today: on });

describe('validateIdNumber', () => {
  it('accepts the examples from the domain notes and derives birth date, sex and age', () => {
    const a = check('11010519491231002X');
    expect(a).toMatchObject({
      ok: true,
      value: '11010519491231002X',
      birthDate: '1949-12-31',
      sex: 'female',
      age: 74,
      regionCode: '110105',
      provinceCode: '11',
      foreigner: false,
      warnings: [],
    });
    const b = check('440524188001010014');
    expect(b).toMatchObject({ ok: true, birthDate: '1880-01-01', sex: 'male', age: 144 });
    // Born 1880: valid, but flagged for a second look.
    expect(b.ok && b.warnings).toEqual([{ code: 'id.very_old', params: { date: '1880-01-01', age: 144 } }]);
  });

  it('normalises lowercase x, full-width digits, spaces and dashes', () => {
    expect(check('11010519491231002x')).toMatchObject({ ok: true, value: '11010519491231002X' });
    expect(check('１１０１０５１９４９１２３１００２Ｘ')).toMatchObject({
      ok: true,
      value: '11010519491231002X',
    });
    expect(check(' 110105 19491231 002x ')).toMatchObject({ ok: true, value: '11010519491231002X' });
    expect(check('110105-19491231-002X')).toMatchObject({ ok: true });
    expect(check('110105\u300019491231\u3000002ｘ')).toMatchObject({ ok: true });
    expect(normaliseIdNumber('４４０５２４ １８８００１０１００１４')).toBe('440524188001010014');
  });

  it('computes the check character (ISO 7064 MOD 11-2)', () => {
    expect(idCheckChar('11010519491231002')).toBe('X');
    expect(idCheckChar('44052418800101001')).toBe('4');
    expect(() => idCheckChar('123')).toThrow(RangeError);
  });

  it('accepts 9-prefix foreigners’ permanent-residence numbers', () => {
    expect(check('931136201501010023')).toMatchObject({ ok: true, foreigner: true, birthDate: '2015-01-01' });
    expect(check('990105199003071232')).toMatchObject({ ok: true, foreigner: true });
  });

  it('refuses 15-digit legacy numbers with their own code', () => {
    expect(check('110105491231002')).toEqual({ ok: false, code: 'id.legacy_15', params: {} });
    expect(check('１１０１０５４９１２３１００２')).toMatchObject({ ok: false, code: 'id.legacy_15' });
  });

  it('reports wrong length, bad characters and empty input', () => {
    expect(check('1101051949123100')).toEqual({
      ok: false,
      code: 'id.length',
      params: { length: 16, expected: 18 },
    });
    expect(check('11010519491231002X1')).toMatchObject({
      ok: false,
      code: 'id.length',
      params: { length: 19 },
    });
    expect(check('11010519491231A02X')).toEqual({ ok: false, code: 'id.chars', params: { char: 'A' } });
    expect(check('1101051949123100X2')).toMatchObject({ ok: false, code: 'id.chars' });
    expect(check('  ')).toEqual({ ok: false, code: 'id.empty', params: {} });
  });

  it('checks the province code', () => {
    expect(check('100105199003071235')).toEqual({ ok: false, code: 'id.region', params: { code: '10' } });
    expect(check('530124198506154215')).toMatchObject({ ok: true, provinceCode: '53' });
  });

  it('rejects birth dates that do not exist, e.g. 1990-02-30', () => {
    expect(check('11010519900230001X')).toEqual({
      ok: false,
      code: 'id.birth_date_invalid',
      params: { date: '1990-02-30' },
    });
  });

  it('handles 29 February in leap and non-leap years', () => {
    expect(check('110105200002290021')).toMatchObject({ ok: true, birthDate: '2000-02-29' }); // 2000: leap
    expect(check('110105202402290038')).toMatchObject({ ok: true, birthDate: '2024-02-29' }); // 2024: leap
    expect(check('110105190002290017')).toMatchObject({ ok: false, code: 'id.birth_date_invalid' }); // 1900: not leap
    expect(check('110105202302290014')).toEqual({
      ok: false,
      code: 'id.birth_date_invalid',
      params: { date: '2023-02-29' },
    });
  });

  it('counts the age of a 29-February birthday correctly', () => {
    const r = check('110105200002290021', '2023-02-28');
    expect(r.ok && r.age).toBe(22);
    const s = check('110105200002290021', '2023-03-01');
    expect(s.ok && s.age).toBe(23);
  });

  it('rejects birth dates in the future relative to the given today', () => {
    expect(check('11010520300101001X')).toEqual({
      ok: false,
      code: 'id.birth_date_future',
      params: { date: '2030-01-01' },
    });
    expect(check('11010520300101001X', '2031-01-01')).toMatchObject({ ok: true, age: 1 });
  });

  it('rejects absurdly old birth years (before 1850) as a typo', () => {
    expect(check('110105179901010018')).toEqual({
      ok: false,
      code: 'id.birth_date_too_old',
      params: { date: '1799-01-01', min_year: 1850 },
    });
  });

  it('reports a check-character mismatch with expected and got', () => {
    expect(check('110105194912310021')).toEqual({
      ok: false,
      code: 'id.check_digit',
      params: { expected: 'X', got: '1' },
    });
  });

  it('accepts today as a Date (Asia/Shanghai calendar date)', () => {
    // 2024-02-28T16:30Z is 2024-02-29 00:30 in Shanghai: the 2024-02-29 baby is born "today", not in the future.
    expect(validateIdNumber('110105202402290038', { today: new Date('2024-02-28T16:30:00Z') })).toMatchObject(
      {
        ok: true,
        age: 0,
      },
    );
    expect(validateIdNumber('110105202402290038', { today: new Date('2024-02-28T15:30:00Z') })).toMatchObject(
      {
        ok: false,
        code: 'id.birth_date_future',
      },
    );
  });
});
