import { describe, expect, it } from 'vitest';
import { birthDateOfIdNumber } from '../../src/domain/identity/id-number.ts';
import {
  MASKED_ID_RE,
  maskBankCard,
  maskBirthDate,
  maskIdNumber,
  maskName,
  maskPhone,
} from '../../src/domain/masking.ts';

describe('masking', () => {
  it('masks ID numbers: first 6, 8 stars, last 4', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
    expect(maskIdNumber('440524188001010014')).toBe('440524********0014');
    expect(maskIdNumber('110105491231002')).toBe('***********1002');
    expect(maskIdNumber('123')).toBe('***');
  });

  it('masks phones as 138****5678', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('12345')).toBe('*2345');
  });

  it('masks cards to the last 4 only', () => {
    expect(maskBankCard('6212261202011584696')).toBe('**** 4696');
    expect(maskBankCard('4696')).toBe('**** 4696');
    expect(maskBankCard('12')).toBe('****');
  });

  it('masks names keeping the first character', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('买买提·艾力')).toBe('买**·**');
    expect(maskName('张')).toBe('*');
    expect(maskName('')).toBe('');
  });
});

describe('birth dates next to masked ID numbers (issue 12, finding 1)', () => {
  it('a masked ID hides exactly the birth date, so only the year is ever shown beside one', () => {
    const id = '11010519491231002X';
    expect(birthDateOfIdNumber(id)).toBe('1949-12-31');
    expect(birthDateOfIdNumber('110105********002X')).toBeNull();
    expect(maskBirthDate('1949-12-31')).toBe('1949');
    expect(maskBirthDate(new Date('1949-12-31T00:00:00Z'))).toBe('1949');
    expect(maskBirthDate(null)).toBe('');
    expect(`卡片 ${maskIdNumber(id)}`.match(MASKED_ID_RE)).toEqual(['110105********002X']);
  });
});
