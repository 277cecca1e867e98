/**
 * Reminder settings of a campaign, read from the stored `Campaign.settings` JSON. The JSON is written by
 * campaign loading (camelCase `CampaignSettings`, offsets as `{ spec, amount, unit }`); snake_case keys as
 * in the YAML file and plain offset strings ('3wd') are accepted too, and anything missing or malformed
 * falls back to the defaults below, so a reminder never fails because of an older settings shape.
 */
import type { ReminderOffset, ReminderUnit } from '../campaign/schema.ts';

import { REMINDER_KINDS, type ReminderKind } from './kinds.ts';

export { REMINDER_KINDS, type ReminderKind };

export interface QuietHours {
  /** 'HH:mm' Asia/Shanghai; the window may wrap midnight (22:00 → 08:00). Equal start and end = none. */
  start: string;
  end: string;
}

export interface ReminderSettings {
  beforeClose: ReminderOffset[];
  beforePayment: ReminderOffset[];
  /** Working days left before an entry deadline at which staff are reminded. */
  entryDaysLeft: number[];
  /** Allocation reports are due this many working days after the target payment date. */
  allocationReportWorkingDays: number;
  /** Working days left before the allocation report deadline at which unions are reminded (0: that day). */
  allocationDaysLeft: number[];
  /** Wall-clock time (Asia/Shanghai) of day-based reminders: reviewer summary, payment, entry. */
  dailyAt: string;
  quietHours: QuietHours;
  /** Kinds sent even in quiet hours and on New Year's Eve / the first day of the Spring Festival. */
  urgent: ReminderKind[];
}

export const REMINDER_DEFAULTS = {
  beforeClose: ['3wd', '1d', '2h'],
  beforePayment: ['3wd', '1wd'],
  entryDaysLeft: [10, 5, 2, 1],
  allocationReportWorkingDays: 10,
  allocationDaysLeft: [5, 2, 0],
  dailyAt: '09:00',
  quietHours: { start: '22:00', end: '08:00' },
  urgent: [] as ReminderKind[],
} as const;

const UNITS: Record<string, ReminderUnit> = { wd: 'working_day', d: 'day', h: 'hour', m: 'minute' };
const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

/** '3wd' → { spec, amount: 3, unit: 'working_day' }; null when malformed. */
export function parseOffset(spec: string): ReminderOffset | null {
  const m = /^(\d{1,4})(wd|d|h|m)$/.exec(spec.trim());
  if (!m || Number(m[1]) === 0) return null;
  return { spec: spec.trim(), amount: Number(m[1]), unit: UNITS[m[2]!]! };
}

function offsets(raw: unknown, fallback: readonly string[]): ReminderOffset[] {
  if (!Array.isArray(raw)) return fallback.map((s) => parseOffset(s)!);
  const out: ReminderOffset[] = [];
  for (const item of raw) {
    const spec =
      typeof item === 'string'
        ? item
        : item && typeof item === 'object' && typeof (item as { spec?: unknown }).spec === 'string'
          ? (item as { spec: string }).spec
          : null;
    const parsed = spec === null ? null : parseOffset(spec);
    if (parsed && !out.some((o) => o.spec === parsed.spec)) out.push(parsed);
  }
  return out;
}

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const pick = (o: Record<string, unknown>, ...keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
};
const time = (v: unknown, fallback: string): string =>
  typeof v === 'string' && TIME_RE.test(v) ? v : fallback;

/** Reminder settings from `Campaign.settings` (any of the shapes described in the module comment). */
export function reminderSettingsFrom(json: unknown): ReminderSettings {
  const s = obj(json);
  const r = obj(s['reminders']);
  const q = obj(pick(s, 'quietHours', 'quiet_hours'));
  const days = pick(r, 'entryDaysLeft', 'entry_days_left');
  const urgent = pick(r, 'urgent');
  const allocDays = pick(r, 'allocationReportWorkingDays', 'allocation_report_working_days');
  const allocLeft = pick(r, 'allocationDaysLeft', 'allocation_days_left');
  return {
    beforeClose: offsets(pick(r, 'beforeClose', 'before_close'), REMINDER_DEFAULTS.beforeClose),
    beforePayment: offsets(pick(r, 'beforePayment', 'before_payment'), REMINDER_DEFAULTS.beforePayment),
    entryDaysLeft: Array.isArray(days)
      ? [...new Set(days.filter((d): d is number => Number.isInteger(d) && d > 0 && d <= 365))]
      : [...REMINDER_DEFAULTS.entryDaysLeft],
    allocationReportWorkingDays:
      Number.isInteger(allocDays) && (allocDays as number) > 0 && (allocDays as number) <= 365
        ? (allocDays as number)
        : REMINDER_DEFAULTS.allocationReportWorkingDays,
    allocationDaysLeft: Array.isArray(allocLeft)
      ? [...new Set(allocLeft.filter((d): d is number => Number.isInteger(d) && d >= 0 && d <= 365))]
      : [...REMINDER_DEFAULTS.allocationDaysLeft],
    dailyAt: time(pick(r, 'dailyAt', 'daily_at'), REMINDER_DEFAULTS.dailyAt),
    quietHours: {
      start: time(q['start'], REMINDER_DEFAULTS.quietHours.start),
      end: time(q['end'], REMINDER_DEFAULTS.quietHours.end),
    },
    urgent: Array.isArray(urgent)
      ? urgent.filter((k): k is ReminderKind => (REMINDER_KINDS as readonly unknown[]).includes(k))
      : [],
  };
}
