// The reminder kinds, in one place: the campaign file's schema (domain/campaign/schema.ts) and the
// reminder settings (settings.ts) both read them from here (a module of its own, so the two need not
// import each other).

export const REMINDER_KINDS = [
  'close',
  'review_summary',
  'payment_due',
  'entry_due',
  'entry_overdue',
  'allocation_report_due',
] as const;
/**
 * - `close`: contacts, before nominations close (only those with drafts, returned items or nothing submitted);
 * - `review_summary`: reviewers, daily backlog summary on working days until the review deadline;
 * - `payment_due`: finance staff and admins, before the target payment date while approved items are unpaid;
 * - `entry_due`: finance staff (admins when there are none), N working days left to enter paid items into
 *   the provincial assistance system;
 * - `entry_overdue`: admins, escalation the working day after an entry deadline passed with items not entered;
 * - `allocation_report_due`: the active contacts of a grassroots union that has an allocation and has not
 *   reported how it was spent, N working days before the report deadline and the working day after it.
 */
export type ReminderKind = (typeof REMINDER_KINDS)[number];
