import { describe, expect, it } from 'vitest';
import { formatShanghaiDateTime, parseShanghaiDateTime } from '../../src/domain/calendar/date.ts';
import { defaultCalendar, workingDaysBetween } from '../../src/domain/calendar/index.ts';
import {
  type CampaignFacts,
  type DesiredReminder,
  deriveReminders,
  entryDeadline,
  entryDeadlineOfKey,
  isQuiet,
  type NominationFacts,
  nextAllowed,
  type PeopleFacts,
  parseOffset,
  reminderSettingsFrom,
  springFestivalDays,
} from '../../src/domain/reminders/index.ts';

// Pure reminder derivation with fixed clocks (all times Asia/Shanghai).

const at = (s: string): Date => parseShanghaiDateTime(s)!;
const show = (d: Date) => formatShanghaiDateTime(d);
const quiet = { hours: { start: '22:00', end: '08:00' } };

function campaign(over: Partial<CampaignFacts> = {}, settings: unknown = {}): CampaignFacts {
  return {
    id: 7,
    code: 'test-2026-spring',
    status: 'open',
    nominationOpensAt: at('2026-01-05 09:00'),
    nominationClosesAt: at('2026-02-25 17:00'),
    reviewDeadline: at('2026-03-06 17:00'),
    targetPaymentDate: '2026-03-13',
    entryWorkingDays: 30,
    settings: reminderSettingsFrom(settings),
    ...over,
  };
}

const people = (over: Partial<PeopleFacts> = {}): PeopleFacts => ({
  contacts: [],
  reviewers: [],
  admins: [],
  finance: [],
  ...over,
});

let nextId = 1;
const nomination = (over: Partial<NominationFacts>): NominationFacts => ({
  id: nextId++,
  status: 'draft',
  unionId: 1,
  submittedById: 100,
  paidAt: null,
  enteredProvincialAt: null,
  ...over,
});

const byKind = (list: DesiredReminder[], kind: DesiredReminder['kind']) =>
  list.filter((r) => r.kind === kind);

describe('working-day offsets across the Spring Festival 2026', () => {
  it('3wd before a close on 2026-02-25 17:00 is 2026-02-13 17:00 (15-23 Feb off, Sat 14 Feb worked)', () => {
    const list = deriveReminders({
      campaign: campaign(),
      nominations: [],
      people: people({ contacts: [{ personId: 100, unionId: 1 }] }),
      now: at('2026-02-02 10:00'),
    });
    const close = byKind(list, 'close');
    expect(close.map((r) => [r.key, show(r.dueAt)])).toEqual([
      ['rem-7-close-100-1d', '2026-02-24 17:00'],
      ['rem-7-close-100-2h', '2026-02-25 15:00'],
      ['rem-7-close-100-3wd', '2026-02-13 17:00'],
    ]);
  });

  it('a make-up Saturday counts as a working day: 1wd before Monday 2026-03-02 is Saturday 2026-02-28', () => {
    const list = deriveReminders({
      campaign: campaign(
        { nominationClosesAt: at('2026-03-02 12:00') },
        { reminders: { before_close: ['1wd'] } },
      ),
      nominations: [],
      people: people({ contacts: [{ personId: 100, unionId: 1 }] }),
      now: at('2026-02-02 10:00'),
    });
    expect(list.map((r) => show(r.dueAt))).toEqual(['2026-02-28 12:00']);
  });

  it('the 30-working-day examples (day 1 = the day after payment)', () => {
    const examples: [string, string][] = [
      ['2024-01-25', '2024-03-12'],
      ['2025-01-20', '2025-03-07'],
      ['2026-01-20', '2026-03-09'],
      ['2026-02-10', '2026-03-30'],
    ];
    for (const [paid, due] of examples) {
      expect(entryDeadline(at(`${paid} 15:30`), 30, defaultCalendar)).toBe(due);
      expect(workingDaysBetween(paid, due)).toBe(30);
    }
  });
});

describe('quiet hours', () => {
  it('23:00 moves to the next day 08:00; 07:59 to 08:00; 08:00 and 21:59 stay', () => {
    expect(show(nextAllowed(at('2026-03-03 23:00'), quiet))).toBe('2026-03-04 08:00');
    expect(show(nextAllowed(at('2026-03-04 07:59'), quiet))).toBe('2026-03-04 08:00');
    expect(show(nextAllowed(at('2026-03-04 08:00'), quiet))).toBe('2026-03-04 08:00');
    expect(show(nextAllowed(at('2026-03-04 21:59'), quiet))).toBe('2026-03-04 21:59');
    expect(isQuiet(at('2026-03-04 22:00'), quiet)).toBe(true);
  });

  it('New Year’s Eve (除夕) and the first day (正月初一) come from the lunar calendar', () => {
    expect(springFestivalDays(2026)).toEqual(['2026-02-16', '2026-02-17']);
    expect(springFestivalDays(2024)).toEqual(['2024-02-09', '2024-02-10']);
    expect(springFestivalDays(2025)).toEqual(['2025-01-28', '2025-01-29']);
  });

  it('a reminder on New Year’s Eve moves to the day after the first day of the Spring Festival, 08:00', () => {
    expect(show(nextAllowed(at('2026-02-16 10:00'), quiet))).toBe('2026-02-18 08:00');
    expect(show(nextAllowed(at('2026-02-17 12:00'), quiet))).toBe('2026-02-18 08:00');
    expect(show(nextAllowed(at('2026-02-15 23:30'), quiet))).toBe('2026-02-18 08:00');
    // Other festival days are not quiet (only the night).
    expect(show(nextAllowed(at('2026-02-18 10:00'), quiet))).toBe('2026-02-18 10:00');
  });

  it('derived reminders are shifted, unless their kind is urgent', () => {
    const c = { nominationClosesAt: at('2026-02-16 23:00') };
    const input = {
      nominations: [],
      people: people({ contacts: [{ personId: 100, unionId: 1 }] }),
      now: at('2026-02-02 10:00'),
    };
    const normal = deriveReminders({
      ...input,
      campaign: campaign(c, { reminders: { before_close: ['2h'] } }),
    });
    // 21:00 on New Year's Eve → after the first day: but that is after the close, so nothing is sent.
    expect(normal).toEqual([]);
    const urgent = deriveReminders({
      ...input,
      campaign: campaign(c, { reminders: { before_close: ['2h'], urgent: ['close'] } }),
    });
    expect(urgent.map((r) => [show(r.dueAt), r.urgent])).toEqual([['2026-02-16 21:00', true]]);

    const late = deriveReminders({
      ...input,
      campaign: campaign(
        { nominationClosesAt: at('2026-03-04 09:00') },
        { reminders: { before_close: ['2h', '30m'] } },
      ),
    });
    expect(late.map((r) => [r.key, show(r.naturalAt), show(r.dueAt)])).toEqual([
      ['rem-7-close-100-2h', '2026-03-04 07:00', '2026-03-04 08:00'],
      ['rem-7-close-100-30m', '2026-03-04 08:30', '2026-03-04 08:30'],
    ]);
  });

  it('quiet hours are configurable per campaign', () => {
    const s = reminderSettingsFrom({ quietHours: { start: '21:00', end: '09:30' } });
    expect(show(nextAllowed(at('2026-03-04 21:10'), { hours: s.quietHours }))).toBe('2026-03-05 09:30');
  });
});

describe('who is reminded before the close', () => {
  it('contacts with drafts, returned items or nothing submitted; not a union that submitted everything', () => {
    const list = deriveReminders({
      campaign: campaign({}, { reminders: { before_close: ['1d'] } }),
      nominations: [
        nomination({ unionId: 1, submittedById: 101, status: 'submitted' }), // union 1: done
        nomination({ unionId: 2, submittedById: 102, status: 'submitted' }),
        nomination({ unionId: 2, submittedById: 102, status: 'draft' }), // union 2: a draft
        nomination({ unionId: 3, submittedById: 103, status: 'approved' }),
        nomination({ unionId: 3, submittedById: 103, status: 'returned' }), // union 3: returned
        nomination({ unionId: 4, submittedById: 104, status: 'withdrawn' }), // union 4: nothing submitted
        nomination({ unionId: 6, submittedById: 106, status: 'submitted' }),
        nomination({
          unionId: 6,
          submittedById: 106,
          status: 'draft',
          draftExpiresAt: at('2026-02-01 00:00'),
        }),
      ],
      people: people({
        contacts: [1, 2, 3, 4, 5, 6].map((u) => ({ personId: 100 + u, unionId: u })),
      }),
      now: at('2026-02-02 10:00'),
    });
    expect(list.map((r) => r.personId)).toEqual([102, 103, 104, 105]);
  });

  it('nothing once nominations have closed, or for an archived campaign', () => {
    const input = {
      nominations: [],
      people: people({ contacts: [{ personId: 100, unionId: 1 }] }),
    };
    expect(deriveReminders({ ...input, campaign: campaign(), now: at('2026-02-25 17:00') })).toEqual([]);
    expect(
      deriveReminders({ ...input, campaign: campaign({ status: 'archived' }), now: at('2026-02-02 10:00') }),
    ).toEqual([]);
  });
});

describe('staff reminders', () => {
  it('provincial entry deadline: 10, 5, 2, 1 working days left for a payment on 2026-01-20 (deadline 2026-03-09)', () => {
    const list = deriveReminders({
      campaign: campaign({ reviewDeadline: at('2026-01-10 17:00'), targetPaymentDate: '2026-01-20' }),
      nominations: [
        nomination({ status: 'paid', paidAt: at('2026-01-20 15:00') }),
        nomination({ status: 'paid', paidAt: at('2026-01-20 16:00') }),
        nomination({
          status: 'paid',
          paidAt: at('2026-01-20 16:00'),
          enteredProvincialAt: at('2026-01-21 10:00'),
        }),
      ],
      people: people({ finance: [300], admins: [400] }),
      now: at('2026-01-21 10:00'),
    });
    const entry = byKind(list, 'entry_due');
    expect(entry.map((r) => [r.key, show(r.dueAt)])).toEqual([
      ['rem-7-entry-300-20260309-10wd', '2026-02-24 09:00'],
      ['rem-7-entry-300-20260309-1wd', '2026-03-06 09:00'],
      ['rem-7-entry-300-20260309-2wd', '2026-03-05 09:00'],
      ['rem-7-entry-300-20260309-5wd', '2026-03-02 09:00'],
    ]);
    for (const r of entry) {
      const left = Number(/-(\d+)wd$/.exec(r.key)![1]);
      expect(workingDaysBetween(r.dueAt, '2026-03-09')).toBe(left);
    }
    expect(entryDeadlineOfKey(entry[0]!.key)).toBe('2026-03-09');
    const over = byKind(list, 'entry_overdue');
    expect(over.map((r) => [r.key, show(r.dueAt), r.personId, r.catchUp])).toEqual([
      ['rem-7-entryover-400-20260309', '2026-03-10 09:00', 400, true],
    ]);
  });

  it('entry reminders go to admins when there are no finance staff; nothing once entered', () => {
    const base = {
      campaign: campaign(),
      people: people({ admins: [400] }),
      now: at('2026-01-21 10:00'),
    };
    const paid = nomination({ status: 'paid', paidAt: at('2026-01-20 15:00') });
    expect(
      byKind(deriveReminders({ ...base, nominations: [paid] }), 'entry_due').map((r) => r.personId),
    ).toEqual([400, 400, 400, 400]);
    const entered = { ...paid, enteredProvincialAt: at('2026-01-22 10:00') };
    expect(deriveReminders({ ...base, nominations: [entered] })).toEqual([]);
  });

  it('payment date approaching while approved items are unpaid; none when everything is paid', () => {
    const base = {
      campaign: campaign(),
      people: people({ finance: [300], admins: [400] }),
      now: at('2026-03-02 10:00'),
    };
    const list = deriveReminders({ ...base, nominations: [nomination({ status: 'approved' })] });
    expect(list.map((r) => [r.key, show(r.dueAt)])).toEqual([
      ['rem-7-payment-300-1wd', '2026-03-12 09:00'],
      ['rem-7-payment-300-3wd', '2026-03-10 09:00'],
      ['rem-7-payment-400-1wd', '2026-03-12 09:00'],
      ['rem-7-payment-400-3wd', '2026-03-10 09:00'],
    ]);
    expect(deriveReminders({ ...base, nominations: [nomination({ status: 'paid', paidAt: null })] })).toEqual(
      [],
    );
  });

  it('reviewer summary on the next working days at the set hour, until the review deadline', () => {
    const list = deriveReminders({
      campaign: campaign({}, { reminders: { daily_at: '09:30' } }),
      nominations: [],
      people: people({ reviewers: [200] }),
      now: at('2026-02-13 18:00'), // Friday before the festival; 14 Feb (Sat) is a make-up working day
    });
    expect(list.map((r) => [r.key, show(r.dueAt)])).toEqual([
      ['rem-7-review-200-20260213', '2026-02-13 09:30'],
      ['rem-7-review-200-20260214', '2026-02-14 09:30'],
    ]);
    const after = deriveReminders({
      campaign: campaign(),
      nominations: [],
      people: people({ reviewers: [200] }),
      now: at('2026-02-14 12:00'),
    });
    expect(after.map((r) => r.key)).toEqual(['rem-7-review-200-20260214', 'rem-7-review-200-20260224']);
  });

  it('keys are deterministic, contain no colon and are never all digits', () => {
    const input = {
      campaign: campaign(),
      nominations: [
        nomination({ status: 'approved' }),
        nomination({ status: 'paid', paidAt: at('2026-03-02 10:00') }),
      ],
      people: people({
        contacts: [{ personId: 100, unionId: 9 }],
        reviewers: [200],
        finance: [300],
        admins: [400],
      }),
      now: at('2026-02-02 10:00'),
    };
    const a = deriveReminders(input);
    const b = deriveReminders(input);
    expect(a).toEqual(b);
    expect(new Set(a.map((r) => r.key)).size).toBe(a.length);
    for (const r of a) expect(r.key).toMatch(/^rem-[a-z0-9-]+$/);
  });
});

describe('settings', () => {
  it('reads camelCase (stored) and snake_case (file) shapes and falls back to defaults', () => {
    expect(reminderSettingsFrom({}).beforeClose.map((o) => o.spec)).toEqual(['3wd', '1d', '2h']);
    expect(
      reminderSettingsFrom({ reminders: { beforeClose: [parseOffset('2wd'), { spec: 'bad' }] } }).beforeClose,
    ).toEqual([{ spec: '2wd', amount: 2, unit: 'working_day' }]);
    const s = reminderSettingsFrom({
      reminders: { entry_days_left: [3, 'x', 1], urgent: ['entry_overdue', 'nope'] },
    });
    expect(s.entryDaysLeft).toEqual([3, 1]);
    expect(s.urgent).toEqual(['entry_overdue']);
    expect(s.quietHours).toEqual({ start: '22:00', end: '08:00' });
  });
});
