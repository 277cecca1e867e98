import { describe, expect, it } from 'vitest';
import {
  HARDSHIP_CAUSES,
  HARDSHIP_TIERS,
  MODEL_WORKER_LEVELS,
  validateHardship,
  WORK_STATUSES,
} from '../../src/domain/identity/hardship.ts';
import {
  validateBankName,
  validateDescription,
  validateEmployer,
  validateFreeText,
} from '../../src/domain/identity/free-text.ts';
import { validateName } from '../../src/domain/identity/name.ts';
import {
  cleanFreeText,
  codePointLength,
  normaliseInput,
  stripSeparators,
  toHalfWidth,
} from '../../src/domain/text.ts';

describe('normalisation', () => {
  it('maps full-width ASCII and the ideographic space', () => {
    expect(toHalfWidth('１２３ＡＢＣｘ\u3000－＋')).toBe('123ABCx -+');
    // U+FF0C (，) is in the full-width block, U+3002 (。) is not: use cleanFreeText for prose.
    expect(toHalfWidth('张三，你好。')).toBe('张三,你好。');
  });

  it('normaliseInput: half-width, NFKC, invisible characters removed, trimmed; inner spaces kept', () => {
    expect(normaliseInput('  １３８ １２３４\u200B ')).toBe('138 1234');
    expect(normaliseInput('\uFEFFabc\u202E')).toBe('abc');
    expect(normaliseInput('①', { nfkc: true })).toBe('1');
    expect(normaliseInput('①', { nfkc: false })).toBe('①');
  });

  it('stripSeparators removes whitespace and dash variants', () => {
    expect(stripSeparators('138 - 1234–5678—9 ‐ 0\t1')).toBe('13812345678901');
  });

  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('𠇔张')).toBe(2);
  });

  it('cleanFreeText keeps Chinese punctuation, removes control characters, collapses spaces', () => {
    expect(cleanFreeText('  患病，  住院\u0007治疗。 ')).toBe('患病， 住院治疗。');
    expect(cleanFreeText('第一行\r\n\r\n\r\n第二行  ', { multiline: true })).toBe('第一行\n\n第二行');
    expect(cleanFreeText('第一行\n第二行')).toBe('第一行 第二行');
  });
});

describe('validateName', () => {
  it('accepts Chinese names and removes inner spaces', () => {
    expect(validateName('张三')).toEqual({ ok: true, value: '张三', script: 'han', warnings: [] });
    expect(validateName(' 张 三 ')).toMatchObject({ ok: true, value: '张三' });
    expect(validateName('欧阳娜娜')).toMatchObject({ ok: true });
  });

  it('accepts the middle dot in ethnic-minority names, normalising its variants', () => {
    expect(validateName('买买提·艾力')).toMatchObject({ ok: true, value: '买买提·艾力' });
    expect(validateName('买买提•艾力')).toMatchObject({ ok: true, value: '买买提·艾力' });
    expect(validateName('买买提・艾力')).toMatchObject({ ok: true, value: '买买提·艾力' });
    expect(validateName('买买提.艾力')).toMatchObject({ ok: true, value: '买买提·艾力' });
  });

  it('accepts Latin names for foreigners', () => {
    expect(validateName('John  Smith')).toEqual({
      ok: true,
      value: 'John Smith',
      script: 'latin',
      warnings: [],
    });
    expect(validateName("Anne-Marie O'Neil")).toMatchObject({ ok: true });
    expect(validateName('José Álvarez')).toMatchObject({ ok: true });
    expect(validateName('Ｊｏｈｎ Ｓｍｉｔｈ')).toMatchObject({ ok: true, value: 'John Smith' });
  });

  it('rejects digits, emoji, symbols, mixtures and misplaced dots', () => {
    expect(validateName('张三1')).toEqual({ ok: false, code: 'name.invalid', params: { char: '1' } });
    expect(validateName('张三😀')).toMatchObject({ ok: false, code: 'name.invalid' });
    expect(validateName('张三@')).toMatchObject({ ok: false, code: 'name.invalid', params: { char: '@' } });
    expect(validateName('张San')).toEqual({ ok: false, code: 'name.invalid', params: { char: '' } });
    expect(validateName('·买买提')).toMatchObject({ ok: false, code: 'name.invalid' });
    expect(validateName('买买提··艾力')).toMatchObject({ ok: false, code: 'name.invalid' });
  });

  it('checks length and emptiness', () => {
    expect(validateName('张')).toEqual({
      ok: false,
      code: 'name.length',
      params: { length: 1, min: 2, max: 20 },
    });
    expect(validateName('张'.repeat(21))).toMatchObject({
      ok: false,
      code: 'name.length',
      params: { max: 20 },
    });
    expect(validateName('A'.repeat(51))).toMatchObject({
      ok: false,
      code: 'name.length',
      params: { max: 50 },
    });
    expect(validateName('   ')).toEqual({ ok: false, code: 'name.empty', params: {} });
  });
});

describe('free text', () => {
  it('accepts and cleans employer, description and bank name', () => {
    expect(validateEmployer('  富民县  环境卫生管理站 ')).toEqual({
      ok: true,
      value: '富民县 环境卫生管理站',
      warnings: [],
    });
    expect(validateDescription('丈夫患病。\n\n\n子女上学。')).toMatchObject({
      ok: true,
      value: '丈夫患病。\n\n子女上学。',
    });
    expect(validateBankName('中国农业银行富民支行')).toMatchObject({ ok: true });
  });

  it('enforces the length limits (employer 100, description 500, bank name 50)', () => {
    expect(validateEmployer('厂'.repeat(101))).toEqual({
      ok: false,
      code: 'text.too_long',
      params: { max: 100, length: 101 },
    });
    expect(validateEmployer('厂'.repeat(100)).ok).toBe(true);
    expect(validateDescription('难'.repeat(501))).toMatchObject({
      code: 'text.too_long',
      params: { max: 500 },
    });
    expect(validateBankName('行'.repeat(51))).toMatchObject({ code: 'text.too_long', params: { max: 50 } });
  });

  it('rejects empty, emoji-only and control-only input', () => {
    expect(validateEmployer('   ')).toEqual({ ok: false, code: 'text.empty', params: {} });
    expect(validateEmployer('\u0000\u0007')).toEqual({ ok: false, code: 'text.empty', params: {} });
    expect(validateEmployer('🙏🙏🙏')).toEqual({ ok: false, code: 'text.no_content', params: {} });
    expect(validateFreeText('。。。!!!', { max: 10 })).toMatchObject({ code: 'text.no_content' });
  });
});

describe('hardship vocabulary', () => {
  it('has the official lists with unique codes', () => {
    expect(HARDSHIP_TIERS.map((t) => t.zh)).toEqual(['深度困难', '相对困难', '意外致困']);
    expect(HARDSHIP_CAUSES).toHaveLength(10);
    expect(WORK_STATUSES.map((t) => t.zh)).toEqual([
      '在岗',
      '下(待)岗',
      '失(无)业',
      '退休',
      '病休',
      '内退',
      '农民工',
    ]);
    expect(MODEL_WORKER_LEVELS.map((t) => t.zh)).toEqual(['全国', '省部级', '地市级', '其他']);
    for (const list of [HARDSHIP_TIERS, HARDSHIP_CAUSES, WORK_STATUSES, MODEL_WORKER_LEVELS]) {
      const codes = list.map((e) => e.code);
      expect(new Set(codes).size).toBe(codes.length);
    }
  });

  it('validates tier, one main cause and up to three distinct secondary causes', () => {
    expect(
      validateHardship({ tier: 'deep', mainCause: 'serious_illness', secondaryCauses: ['child_education'] }),
    ).toEqual({
      ok: true,
      value: { tier: 'deep', mainCause: 'serious_illness', secondaryCauses: ['child_education'] },
    });
    expect(validateHardship({ mainCause: 'other' })).toMatchObject({ code: 'hardship.tier_required' });
    expect(validateHardship({ tier: 'deep' })).toMatchObject({ code: 'hardship.main_cause_required' });
    expect(validateHardship({ tier: 'poor', mainCause: 'other' })).toEqual({
      ok: false,
      code: 'hardship.unknown_code',
      params: { list: 'hardship_tier', code: 'poor' },
    });
    expect(validateHardship({ tier: 'deep', mainCause: 'other', secondaryCauses: ['other'] })).toMatchObject({
      code: 'hardship.duplicate_cause',
      params: { code: 'other' },
    });
    expect(
      validateHardship({
        tier: 'relative',
        mainCause: 'serious_illness',
        secondaryCauses: ['child_education', 'accident', 'natural_disaster', 'laid_off_unemployed'],
      }),
    ).toEqual({ ok: false, code: 'hardship.too_many_secondary', params: { max: 3, count: 4 } });
  });
});
