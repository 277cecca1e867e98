import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '../../src/domain/calendar/index.ts';
import { entryDeadline } from '../../src/domain/reminders/index.ts';
import { parseIdList } from '../../src/usecases/report/entry.ts';
import { formatRate, ratio } from '../../src/usecases/report/figures.ts';

// The provincial entry deadline (N working days after payment, start day not counted) over the Spring
// Festival, as used by the ledger, /entry_status and the evaluation figures.

const sh = (s: string) => new Date(`${s}+08:00`);

describe('provincial entry deadline', () => {
  it('counts 30 working days over the Spring Festival holiday and its make-up Saturdays', () => {
    // 2026: Spring Festival 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are working days.
    expect(entryDeadline(sh('2026-02-10T15:00'), 30, defaultCalendar)).toBe('2026-03-30');
    expect(entryDeadline(sh('2026-01-20T09:00'), 30, defaultCalendar)).toBe('2026-03-09');
    expect(entryDeadline(sh('2024-01-25T09:00'), 30, defaultCalendar)).toBe('2024-03-12');
    expect(entryDeadline(sh('2025-01-20T09:00'), 30, defaultCalendar)).toBe('2025-03-07');
    // Paid late in the evening (Shanghai) counts from that Shanghai day, not the UTC one.
    expect(entryDeadline(sh('2026-02-10T23:30'), 30, defaultCalendar)).toBe('2026-03-30');
    // A shorter campaign setting: 5 working days from the eve of the holiday skip the whole festival.
    expect(entryDeadline(sh('2026-02-13T10:00'), 5, defaultCalendar)).toBe('2026-02-27');
  });
});

describe('helpers', () => {
  it('parses id lists with ranges', () => {
    expect(parseIdList('12 13，14、20-22')).toEqual([12, 13, 14, 20, 21, 22]);
    expect(parseIdList('12 abc')).toBeNull();
    expect(parseIdList('9-3')).toBeNull();
  });
  it('formats rates', () => {
    expect(formatRate(ratio(590, 593))).toBe('99.5%');
    expect(formatRate(ratio(1, 1))).toBe('100%');
    expect(formatRate(ratio(0, 0))).toBe('—');
  });
});
