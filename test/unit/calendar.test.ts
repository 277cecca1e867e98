import chineseDays from 'chinese-days';
import dayjs from 'dayjs';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addWorkingDays,
  coverage,
  createWorkingCalendar,
  isWorkingDay,
  nextWorkingDay,
  parseCalendarOverrides,
  parseShanghaiDateTime,
  previousWorkingDay,
  toIsoDate,
  workingDaysBetween,
} from '../../src/domain/calendar/index.ts';

describe('working days (mainland China)', () => {
  it.each([
    ['2024-01-25', '2024-03-12'],
    ['2025-01-20', '2025-03-07'],
    ['2026-01-20', '2026-03-09'],
    ['2026-02-10', '2026-03-30'],
  ])('30 working days after payment on %s is %s (domain-notes examples)', (paid, deadline) => {
    expect(addWorkingDays(paid, 30)).toBe(deadline);
    expect(workingDaysBetween(paid, deadline)).toBe(30);
  });

  it('2026 make-up weekend days are working days', () => {
    for (const d of ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']) {
      expect(isWorkingDay(d), d).toBe(true);
      expect([0, 6]).toContain(new Date(`${d}T00:00:00Z`).getUTCDay());
    }
  });

  it('Spring Festival 2026 (15-23 Feb) is not working', () => {
    for (let d = '2026-02-15'; d <= '2026-02-23'; d = addDays(d, 1)) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2026-02-13')).toBe(true);
    expect(isWorkingDay('2026-02-24')).toBe(true);
    expect(nextWorkingDay('2026-02-14')).toBe('2026-02-24');
    expect(previousWorkingDay('2026-02-24')).toBe('2026-02-14');
  });

  it('agrees with chinese-days isWorkday on every day 2004-2026', () => {
    const mismatches: string[] = [];
    for (let d = '2004-01-01'; d <= '2026-12-31'; d = addDays(d, 1)) {
      if (isWorkingDay(d) !== chineseDays.isWorkday(d)) mismatches.push(d);
    }
    expect(mismatches).toEqual([]);
  });

  it('start day is not counted; n = 0 returns the start; negative n counts back', () => {
    expect(addWorkingDays('2024-01-25', 1)).toBe('2024-01-26'); // Thu → Fri
    expect(addWorkingDays('2024-01-26', 1)).toBe('2024-01-29'); // Fri → Mon
    expect(addWorkingDays('2026-02-15', 0)).toBe('2026-02-15');
    expect(addWorkingDays('2026-02-24', -1)).toBe('2026-02-14');
    expect(addWorkingDays('2024-03-12', -30)).toBe('2024-01-25');
    expect(() => addWorkingDays('2024-01-25', 1.5)).toThrow(RangeError);
  });

  it('workingDaysBetween counts (a, b]: 0 for the same day, negative when b is before a', () => {
    expect(workingDaysBetween('2024-01-25', '2024-01-25')).toBe(0);
    expect(workingDaysBetween('2024-01-26', '2024-01-28')).toBe(0); // Sat, Sun
    expect(workingDaysBetween('2024-01-26', '2024-01-29')).toBe(1);
    expect(workingDaysBetween('2024-03-12', '2024-01-25')).toBe(-30);
  });

  it('accepts Date and dayjs inputs as instants, mapped to the Asia/Shanghai date', () => {
    // 2026-02-13T17:00Z is 2026-02-14 01:00 in Shanghai: a make-up Saturday.
    expect(toIsoDate(new Date('2026-02-13T17:00:00Z'))).toBe('2026-02-14');
    expect(isWorkingDay(new Date('2026-02-13T17:00:00Z'))).toBe(true);
    expect(isWorkingDay(dayjs('2026-02-16T12:00:00+08:00'))).toBe(false);
    expect(toIsoDate('2026-02-14 23:59')).toBe('2026-02-14');
    expect(toIsoDate('2026-02-13T16:00:00Z')).toBe('2026-02-14');
    expect(() => toIsoDate('2026-02-30')).toThrow(RangeError);
    expect(() => toIsoDate('next tuesday')).toThrow(RangeError);
    expect(parseShanghaiDateTime('2024-01-02 09:00')?.toISOString()).toBe('2024-01-02T01:00:00.000Z');
  });

  it('reports coverage: official for package years, fallback (Mon-Fri) outside', () => {
    expect(coverage(2026)).toEqual({ year: 2026, source: 'official', overrideDays: 0, reliable: true });
    expect(coverage(2004).source).toBe('official');
    expect(coverage(2027)).toEqual({ year: 2027, source: 'fallback', overrideDays: 0, reliable: false });
    expect(coverage(2003).reliable).toBe(false);
    // Fallback: 2027-01-01 is a Friday → working; 2027-01-02 Saturday → not.
    expect(isWorkingDay('2027-01-01')).toBe(true);
    expect(isWorkingDay('2027-01-02')).toBe(false);
    expect(addWorkingDays('2027-01-01', 5)).toBe('2027-01-08');
  });
});

describe('calendar overrides', () => {
  const parsed = parseCalendarOverrides({
    complete_years: [2027],
    holidays: { '2027-01-01': '元旦', '2026-03-09': 'correction (test)' },
    workdays: { '2027-01-02': '调休 (test)' },
  });
  if (!parsed.ok) throw new Error('fixture invalid');
  const cal = createWorkingCalendar(parsed.overrides);

  it('an override wins over chinese-days and the weekday rule', () => {
    expect(cal.isWorkingDay('2026-03-09')).toBe(false); // a Monday in the official schedule
    expect(cal.dayInfo('2026-03-09')).toMatchObject({ working: false, decidedBy: 'override' });
    expect(cal.addWorkingDays('2026-01-20', 30)).toBe('2026-03-10');
    expect(cal.isWorkingDay('2027-01-01')).toBe(false);
    expect(cal.isWorkingDay('2027-01-02')).toBe(true);
    expect(cal.dayInfo('2026-02-16')).toMatchObject({
      working: false,
      decidedBy: 'official',
      name: { zh: '春节' },
    });
  });

  it('a complete override year is reported as such', () => {
    expect(cal.coverage(2027)).toEqual({ year: 2027, source: 'override', overrideDays: 2, reliable: true });
    expect(cal.coverage(2026)).toEqual({ year: 2026, source: 'official', overrideDays: 1, reliable: true });
    expect(cal.coverage(2028).source).toBe('fallback');
  });

  it('rejects malformed override files', () => {
    const bad = parseCalendarOverrides({ holidays: { '2027-02-30': 'x' }, workdays: {}, extra: 1 });
    expect(bad.ok).toBe(false);
    const both = parseCalendarOverrides({ holidays: { '2027-02-01': 'x' }, workdays: { '2027-02-01': 'y' } });
    expect(both.ok).toBe(false);
    expect(parseCalendarOverrides({}).ok).toBe(true);
  });
});
