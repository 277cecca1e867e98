/**
 * The reminders that SHOULD exist, derived from campaign / nomination state and the time. Pure: the sync
 * use case compares this set with the `reminder` table and the BullMQ delayed jobs, so rebuilding after
 * Redis lost its data, moving a deadline or recording a payment are all the same operation.
 *
 * Reminders are per person (one message naming everything open), never per nomination, so a county with
 * hundreds of payments on one day gets one "entry deadline" reminder per staff member, not hundreds.
 */
import { defaultCalendar } from '../calendar/index.ts';
import { addDays, type IsoDate, shanghaiDateOf, shanghaiMidnight } from '../calendar/date.ts';
import type { WorkingCalendar } from '../calendar/working-days.ts';
import type { ReminderOffset } from '../campaign/schema.ts';
import { nextAllowed, type QuietRules } from './quiet.ts';
import type { ReminderKind, ReminderSettings } from './settings.ts';

export type NominationStatusName =
  | 'draft'
  | 'submitted'
  | 'returned'
  | 'pending_second_approval'
  | 'approved'
  | 'rejected'
  | 'withdrawn'
  | 'in_batch'
  | 'paid'
  | 'payment_failed'
  | 'handed_over';

/** Waiting for a reviewer. */
export const BACKLOG_STATUSES = [
  'submitted',
  'pending_second_approval',
] as const satisfies NominationStatusName[];
/** Approved but not yet paid (or handed over): what the payment reminder is about. */
export const UNPAID_STATUSES = [
  'approved',
  'in_batch',
  'payment_failed',
] as const satisfies NominationStatusName[];
/** Statuses that do not count as "the union has submitted something". */
export const NOT_SUBMITTED_STATUSES = ['draft', 'withdrawn'] as const satisfies NominationStatusName[];
/** Delivered (paid, or goods handed over): awaiting provincial entry until `enteredProvincialAt` is set. */
export const DELIVERED_STATUSES = ['paid', 'handed_over'] as const satisfies NominationStatusName[];

export interface CampaignFacts {
  id: number;
  code: string;
  status: 'draft' | 'open' | 'closed' | 'archived';
  nominationOpensAt: Date;
  nominationClosesAt: Date;
  reviewDeadline: Date;
  /** Calendar date (Asia/Shanghai). */
  targetPaymentDate: IsoDate;
  entryWorkingDays: number;
  settings: ReminderSettings;
}

export interface NominationFacts {
  id: number;
  status: NominationStatusName;
  unionId: number;
  submittedById: number;
  draftExpiresAt?: Date | null;
  /** When the (latest) successful payment was made; null when not paid. */
  paidAt: Date | null;
  enteredProvincialAt: Date | null;
}

/** People who can be reminded (the caller leaves out anyone who blocked the bot or has no Telegram id). */
export interface PeopleFacts {
  contacts: { personId: number; unionId: number }[];
  reviewers: number[];
  admins: number[];
  finance: number[];
  /**
   * Active contacts of the unions whose allocation is not reported yet (loaded whatever the time: the
   * report is due after nominations have closed, when `contacts` is no longer loaded).
   */
  allocationContacts?: { personId: number; unionId: number }[];
}

/**
 * What the reminders need to know about a campaign's nominations: a few sets whose size depends on the
 * number of unions and days, never on the number of nominations. `summarizeNominations` builds it from
 * rows (tests, small sets); the sync use case builds the same summary with set-based SQL, for the whole
 * campaign or for the unions / delivery days a change touched.
 */
export interface NominationSummary {
  /** Unions with at least one nomination that counts as submitted. */
  submittedUnions: ReadonlySet<number>;
  /** Unions with a nomination returned for correction. */
  returnedUnions: ReadonlySet<number>;
  /** `${unionId}/${personId}` of contacts holding a live (unexpired) draft. */
  draftOwners: ReadonlySet<string>;
  /** Some approved item is not yet paid. */
  anyUnpaid: boolean;
  /** Shanghai dates on which items still awaiting provincial entry were delivered. */
  deliveredDates: ReadonlySet<IsoDate>;
  /** Unions with an allocation in the campaign whose use they have not reported yet. */
  unreportedAllocations?: ReadonlySet<number>;
}

export const draftOwnerKey = (unionId: number, personId: number) => `${unionId}/${personId}`;

export function isLiveDraft(n: Pick<NominationFacts, 'status' | 'draftExpiresAt'>, now: Date): boolean {
  return n.status === 'draft' && (!n.draftExpiresAt || n.draftExpiresAt.getTime() > now.getTime());
}

/** Delivered and not yet entered provincially: what the entry-deadline reminders are about. */
export function awaitsEntry(n: Pick<NominationFacts, 'status' | 'paidAt' | 'enteredProvincialAt'>): boolean {
  return (DELIVERED_STATUSES as readonly string[]).includes(n.status) && !!n.paidAt && !n.enteredProvincialAt;
}

export function summarizeNominations(nominations: NominationFacts[], now: Date): NominationSummary {
  const submittedUnions = new Set<number>();
  const returnedUnions = new Set<number>();
  const draftOwners = new Set<string>();
  const deliveredDates = new Set<IsoDate>();
  let anyUnpaid = false;
  for (const n of nominations) {
    if (!(NOT_SUBMITTED_STATUSES as readonly string[]).includes(n.status)) submittedUnions.add(n.unionId);
    if (n.status === 'returned') returnedUnions.add(n.unionId);
    if (isLiveDraft(n, now)) draftOwners.add(draftOwnerKey(n.unionId, n.submittedById));
    if ((UNPAID_STATUSES as readonly string[]).includes(n.status)) anyUnpaid = true;
    if (awaitsEntry(n) && n.paidAt) deliveredDates.add(shanghaiDateOf(n.paidAt));
  }
  return { submittedUnions, returnedUnions, draftOwners, anyUnpaid, deliveredDates };
}

/**
 * The delivery dates whose entry deadline is the same as that of `deliveredOn` (a contiguous range: the
 * deadline never moves back as the delivery date moves on), and that deadline.
 */
export function deliveryDatesSharingDeadline(
  deliveredOn: IsoDate,
  workingDays: number,
  calendar: WorkingCalendar,
): { first: IsoDate; last: IsoDate; deadline: IsoDate } {
  const deadlineOf = (d: IsoDate) => entryDeadlineOn(d, workingDays, calendar);
  const deadline = deadlineOf(deliveredOn);
  let first = deliveredOn;
  while (deadlineOf(addDays(first, -1)) === deadline) first = addDays(first, -1);
  let last = deliveredOn;
  while (deadlineOf(addDays(last, 1)) === deadline) last = addDays(last, 1);
  return { first, last, deadline };
}

interface DeriveCommon {
  campaign: CampaignFacts;
  people: PeopleFacts;
  now: Date;
  calendar?: WorkingCalendar;
  /** Override the whole-day quiet rule (default: 除夕 and 正月初一 from chinese-days). */
  quietDay?: QuietRules['quietDay'];
}

export interface DeriveInput extends DeriveCommon {
  nominations: NominationFacts[];
}

export interface DeriveFromSummaryInput extends DeriveCommon {
  summary: NominationSummary;
}

export interface DesiredReminder {
  /** Deterministic; also the BullMQ job id (no ':' and never all digits). */
  key: string;
  kind: ReminderKind;
  campaignId: number;
  personId: number;
  nominationId: number | null;
  /** When to send: the natural time moved out of quiet hours (unless urgent). */
  dueAt: Date;
  /** The natural time before quiet-hour shifting. */
  naturalAt: Date;
  urgent: boolean;
  /** After this the reminder is pointless (deadline passed); null = no expiry. */
  expiresAt: Date | null;
  /** Still created when first derived after its due time (escalations); others are not created late. */
  catchUp: boolean;
}

const DAY_MS = 86_400_000;

/** Calendar date of `date` at Shanghai wall time `hhmm`. */
export function atWallTime(date: IsoDate, hhmm: string): Date {
  const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return new Date(shanghaiMidnight(date).getTime() + minutes * 60_000);
}

/** `base` moved back by `offset`; working days keep the wall-clock time of `base`. */
export function offsetBefore(base: Date, offset: ReminderOffset, calendar: WorkingCalendar): Date {
  switch (offset.unit) {
    case 'working_day': {
      const date = shanghaiDateOf(base);
      const timeOfDay = base.getTime() - shanghaiMidnight(date).getTime();
      return new Date(shanghaiMidnight(calendar.addWorkingDays(date, -offset.amount)).getTime() + timeOfDay);
    }
    case 'day':
      return new Date(base.getTime() - offset.amount * DAY_MS);
    case 'hour':
      return new Date(base.getTime() - offset.amount * 3_600_000);
    case 'minute':
      return new Date(base.getTime() - offset.amount * 60_000);
  }
}

/** Provincial-entry deadline (a date) for a payment made at `paidAt`: N working days later, start day not counted. */
export function entryDeadline(paidAt: Date, workingDays: number, calendar: WorkingCalendar): IsoDate {
  return entryDeadlineOn(shanghaiDateOf(paidAt), workingDays, calendar);
}

/** The entry deadline for items delivered on the Shanghai date `deliveredOn`. */
export function entryDeadlineOn(
  deliveredOn: IsoDate,
  workingDays: number,
  calendar: WorkingCalendar,
): IsoDate {
  return calendar.addWorkingDays(deliveredOn, workingDays);
}

const compact = (date: IsoDate) => date.replaceAll('-', '');

export function reminderKey(
  campaignId: number,
  kind: ReminderKind,
  personId: number,
  ...parts: (string | number)[]
): string {
  const short: Record<ReminderKind, string> = {
    close: 'close',
    review_summary: 'review',
    payment_due: 'payment',
    entry_due: 'entry',
    entry_overdue: 'entryover',
    allocation_report_due: 'alloc',
  };
  return ['rem', campaignId, short[kind], personId, ...parts].join('-');
}

/** The entry deadline date encoded in an `entry_due` / `entry_overdue` key (null for other kinds). */
export function entryDeadlineOfKey(key: string): IsoDate | null {
  const m = /^rem-\d+-entry(?:over)?-\d+-(\d{4})(\d{2})(\d{2})(?:-|$)/.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** The allocation report deadline: N working days after the target payment date (start day not counted). */
export function allocationReportDeadline(
  targetPaymentDate: IsoDate,
  workingDays: number,
  calendar: WorkingCalendar,
): IsoDate {
  return calendar.addWorkingDays(targetPaymentDate, workingDays);
}

/** The deadline encoded in an `allocation_report_due` key (null for other kinds). */
export function allocationDeadlineOfKey(key: string): IsoDate | null {
  const m = /^rem-\d+-alloc-\d+-(\d{4})(\d{2})(\d{2})(?:-|$)/.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export function deriveReminders(input: DeriveInput): DesiredReminder[] {
  const { nominations, ...rest } = input;
  return deriveFromSummary({ ...rest, summary: summarizeNominations(nominations, input.now) });
}

/** The reminders for the facts in `summary` (a whole campaign, or the part of it a change touched). */
export function deriveFromSummary(input: DeriveFromSummaryInput): DesiredReminder[] {
  const { campaign, summary, people, now } = input;
  if (campaign.status === 'archived') return [];
  const calendar = input.calendar ?? defaultCalendar;
  const s = campaign.settings;
  const quiet: QuietRules = { hours: s.quietHours, ...(input.quietDay ? { quietDay: input.quietDay } : {}) };
  const out = new Map<string, DesiredReminder>();

  const add = (
    kind: ReminderKind,
    personId: number,
    naturalAt: Date,
    keyParts: (string | number)[],
    opts: { expiresAt: Date | null; notBefore?: Date; catchUp?: boolean },
  ) => {
    const urgent = s.urgent.includes(kind);
    const dueAt = urgent ? naturalAt : nextAllowed(naturalAt, quiet);
    if (opts.expiresAt && dueAt.getTime() >= opts.expiresAt.getTime()) return;
    if (opts.notBefore && naturalAt.getTime() < opts.notBefore.getTime()) return;
    const key = reminderKey(campaign.id, kind, personId, ...keyParts);
    out.set(key, {
      key,
      kind,
      campaignId: campaign.id,
      personId,
      nominationId: null,
      dueAt,
      naturalAt,
      urgent,
      expiresAt: opts.expiresAt,
      catchUp: opts.catchUp ?? false,
    });
  };

  // 1. Contacts, before nominations close.
  const closes = campaign.nominationClosesAt;
  if (now.getTime() < closes.getTime() && s.beforeClose.length > 0) {
    const needs = new Set<number>();
    for (const c of people.contacts) {
      if (
        !summary.submittedUnions.has(c.unionId) ||
        summary.returnedUnions.has(c.unionId) ||
        summary.draftOwners.has(draftOwnerKey(c.unionId, c.personId))
      )
        needs.add(c.personId);
    }
    for (const personId of needs) {
      for (const off of s.beforeClose) {
        add('close', personId, offsetBefore(closes, off, calendar), [off.spec], {
          expiresAt: closes,
          notBefore: campaign.nominationOpensAt,
        });
      }
    }
  }

  // 2. Reviewers: a daily summary on working days until the review deadline (backlog checked at send time).
  if (now.getTime() < campaign.reviewDeadline.getTime() && people.reviewers.length > 0) {
    const today = shanghaiDateOf(now);
    const firstDay = calendar.isWorkingDay(today) ? today : calendar.nextWorkingDay(today);
    for (const date of [firstDay, calendar.nextWorkingDay(firstDay)]) {
      const at = atWallTime(date, s.dailyAt);
      if (at.getTime() > campaign.reviewDeadline.getTime()) continue;
      for (const personId of people.reviewers) {
        add('review_summary', personId, at, [compact(date)], {
          expiresAt: campaign.reviewDeadline,
          notBefore: campaign.nominationOpensAt,
        });
      }
    }
  }

  // 3. Staff: target payment date approaching while approved items are unpaid.
  if (summary.anyUnpaid) {
    const base = atWallTime(campaign.targetPaymentDate, s.dailyAt);
    const expiresAt = shanghaiMidnight(addDays(campaign.targetPaymentDate, 1));
    for (const personId of new Set([...people.finance, ...people.admins])) {
      for (const off of s.beforePayment) {
        add('payment_due', personId, offsetBefore(base, off, calendar), [off.spec], { expiresAt });
      }
    }
  }

  // 4. Staff: provincial system entry deadline, N working days after each payment; escalation when overdue.
  const deadlines = new Set<IsoDate>();
  for (const paidOn of summary.deliveredDates) {
    deadlines.add(entryDeadlineOn(paidOn, campaign.entryWorkingDays, calendar));
  }
  const entryStaff = people.finance.length > 0 ? people.finance : people.admins;
  for (const deadline of [...deadlines].sort()) {
    const expiresAt = shanghaiMidnight(addDays(deadline, 1));
    for (const left of s.entryDaysLeft) {
      const at = atWallTime(calendar.addWorkingDays(deadline, -left), s.dailyAt);
      for (const personId of entryStaff) {
        add('entry_due', personId, at, [compact(deadline), `${left}wd`], { expiresAt });
      }
    }
    const overdueAt = atWallTime(calendar.nextWorkingDay(deadline), s.dailyAt);
    for (const personId of people.admins) {
      add('entry_overdue', personId, overdueAt, [compact(deadline)], { expiresAt: null, catchUp: true });
    }
  }

  // 5. Contacts of grassroots unions that have not reported how their allocation was spent: before the
  // report deadline (working days left) and once the working day after it; stopped once reported.
  const unreported = summary.unreportedAllocations;
  if (unreported && unreported.size > 0 && people.allocationContacts) {
    const deadline = allocationReportDeadline(
      campaign.targetPaymentDate,
      s.allocationReportWorkingDays,
      calendar,
    );
    const expiresAt = shanghaiMidnight(addDays(deadline, 1));
    const persons = new Set(
      people.allocationContacts.filter((c) => unreported.has(c.unionId)).map((c) => c.personId),
    );
    for (const personId of persons) {
      for (const left of s.allocationDaysLeft) {
        const at = atWallTime(calendar.addWorkingDays(deadline, -left), s.dailyAt);
        add('allocation_report_due', personId, at, [compact(deadline), `${left}wd`], { expiresAt });
      }
      const overdueAt = atWallTime(calendar.nextWorkingDay(deadline), s.dailyAt);
      add('allocation_report_due', personId, overdueAt, [compact(deadline), 'over'], {
        expiresAt: null,
        catchUp: true,
      });
    }
  }

  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
