import { describe, expect, it } from 'vitest';
import { formatShanghaiDateTime, parseShanghaiDateTime } from '../../src/domain/calendar/date.ts';
import {
  allocationDeadlineOfKey,
  type CampaignFacts,
  deriveFromSummary,
  type NominationSummary,
  reminderSettingsFrom,
} from '../../src/domain/reminders/index.ts';

// The allocation report reminder, pure, with fixed clocks (Asia/Shanghai): N working days after the
// target payment date, across the 2026 Spring Festival (15-23 Feb off, Sat 14 and 28 Feb worked).

const at = (s: string): Date => parseShanghaiDateTime(s)!;
const campaign = (settings: unknown = {}): CampaignFacts => ({
  id: 7,
  code: 'c',
  status: 'closed',
  nominationOpensAt: at('2026-01-05 09:00'),
  nominationClosesAt: at('2026-01-20 17:00'),
  reviewDeadline: at('2026-01-30 17:00'),
  targetPaymentDate: '2026-02-10',
  entryWorkingDays: 30,
  settings: reminderSettingsFrom(settings),
});
const summary = (unreported: number[]): NominationSummary => ({
  submittedUnions: new Set(),
  returnedUnions: new Set(),
  draftOwners: new Set(),
  anyUnpaid: false,
  deliveredDates: new Set(),
  unreportedAllocations: new Set(unreported),
});
const people = {
  contacts: [],
  reviewers: [],
  admins: [9],
  finance: [],
  allocationContacts: [
    { personId: 100, unionId: 1 },
    { personId: 101, unionId: 2 },
  ],
};
const show = (list: ReturnType<typeof deriveFromSummary>) =>
  list.map((r) => `${r.key} ${formatShanghaiDateTime(r.dueAt)}`);

describe('allocation_report_due', () => {
  it('default: due 10 working days after payment; 5, 2 and 0 working days left, then overdue once', () => {
    const list = deriveFromSummary({
      campaign: campaign(),
      summary: summary([1]),
      people,
      now: at('2026-02-11 10:00'),
    });
    expect(show(list)).toEqual([
      'rem-7-alloc-100-20260302-0wd 2026-03-02 09:00',
      'rem-7-alloc-100-20260302-2wd 2026-02-27 09:00',
      'rem-7-alloc-100-20260302-5wd 2026-02-24 09:00',
      'rem-7-alloc-100-20260302-over 2026-03-03 09:00',
    ]);
    expect(list.find((r) => r.key.endsWith('-over'))).toMatchObject({ catchUp: true, expiresAt: null });
    expect(allocationDeadlineOfKey(list[0]!.key)).toBe('2026-03-02');
  });

  it('the campaign file sets the deadline and the days; a reported union gets nothing', () => {
    const list = deriveFromSummary({
      campaign: campaign({ reminders: { allocation_report_working_days: 3, allocation_days_left: [1] } }),
      summary: summary([2]),
      people,
      now: at('2026-02-11 10:00'),
    });
    // 3 working days after Tue 10 Feb: 11, 12, 13 → Fri 13 Feb; 1 left: Thu 12 Feb.
    expect(show(list)).toEqual([
      'rem-7-alloc-101-20260213-1wd 2026-02-12 09:00',
      'rem-7-alloc-101-20260213-over 2026-02-14 09:00',
    ]);
    expect(
      deriveFromSummary({ campaign: campaign(), summary: summary([]), people, now: at('2026-02-11 10:00') }),
    ).toEqual([]);
  });
});
