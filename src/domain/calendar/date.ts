/**
 * Calendar dates (`YYYY-MM-DD`) and Asia/Shanghai wall-clock times, without time-zone libraries.
 *
 * Time-zone handling: mainland China has used UTC+08:00 all year since 1991 (no DST), so Asia/Shanghai
 * is treated as a fixed +08:00 offset. Rules for `DateInput`:
 * - `'YYYY-MM-DD'` is taken literally as a calendar date (no time zone involved);
 * - `'YYYY-MM-DD HH:mm[:ss]'` / `'YYYY-MM-DDTHH:mm[:ss]'` without offset is Shanghai wall time → its date;
 * - a string with `Z` or `±HH:mm`, a `Date` or a dayjs object is an instant → its Shanghai calendar date.
 *   (A Prisma `@db.Date` value arrives as UTC midnight, which is 08:00 the same day in Shanghai.)
 * Invalid input throws a `RangeError` (programming error, not user input: validate user input first).
 */
import dayjs from 'dayjs';
import type { Dayjs } from 'dayjs';

/** A calendar date `YYYY-MM-DD`. */
export type IsoDate = string;
export type DateInput = string | Date | Dayjs;

export const SHANGHAI_OFFSET_MINUTES = 8 * 60;
const OFFSET_MS = SHANGHAI_OFFSET_MINUTES * 60_000;
const DAY_MS = 86_400_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const ZONED_DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True when y-m-d is a real calendar date (years 1–9999). */
export function isRealDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    year >= 1 &&
    year <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/** True for a well-formed, existing `YYYY-MM-DD` date. */
export function isValidIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

export function formatIsoDate(year: number, month: number, day: number): IsoDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The Shanghai calendar date of an instant. */
export function shanghaiDateOf(instant: Date | number): IsoDate {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Invalid Date');
  return new Date(ms + OFFSET_MS).toISOString().slice(0, 10);
}

let lastIsoDate: string | undefined;

/** Converts any `DateInput` to its calendar date (see the module comment for the time-zone rules). */
export function toIsoDate(input: DateInput): IsoDate {
  if (typeof input === 'string') {
    // The same "today" is converted for every row of an import: the last date checked is not checked again.
    if (input === lastIsoDate) return input;
    const s = input.trim();
    if (DATE_RE.test(s)) {
      if (!isValidIsoDate(s)) throw new RangeError(`Not a calendar date: ${input}`);
      if (s === input) lastIsoDate = s;
      return s;
    }
    const local = LOCAL_DATETIME_RE.exec(s);
    if (local) {
      const date = s.slice(0, 10);
      if (!isValidIsoDate(date)) throw new RangeError(`Not a calendar date: ${input}`);
      return date;
    }
    if (ZONED_DATETIME_RE.test(s)) return shanghaiDateOf(Date.parse(s));
    throw new RangeError(`Unrecognised date: ${input}`);
  }
  if (input instanceof Date) return shanghaiDateOf(input);
  if (dayjs.isDayjs(input)) return shanghaiDateOf(input.valueOf());
  throw new RangeError('Unrecognised date input');
}

function toUtcMs(iso: IsoDate): number {
  return Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)));
}

function fromUtcMs(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `iso` plus `n` calendar days. */
export function addDays(iso: IsoDate, n: number): IsoDate {
  return fromUtcMs(toUtcMs(iso) + n * DAY_MS);
}

/** Calendar days from `a` to `b` (positive when b is later). */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  return Math.round((toUtcMs(b) - toUtcMs(a)) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(iso: IsoDate): number {
  return new Date(toUtcMs(iso)).getUTCDay();
}

/** Completed years from `birth` to `on` (a person born on 29 Feb turns a year older on 1 Mar in non-leap years). */
export function ageOn(birth: IsoDate, on: IsoDate): number {
  const by = Number(birth.slice(0, 4));
  const oy = Number(on.slice(0, 4));
  const hadBirthday = on.slice(5) >= birth.slice(5);
  return oy - by - (hadBirthday ? 0 : 1);
}

/** Parses Shanghai wall time `YYYY-MM-DD HH:mm[:ss]` (or with `T`) to an instant; null when malformed. */
export function parseShanghaiDateTime(s: string): Date | null {
  const m = LOCAL_DATETIME_RE.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isRealDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return null;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se) - OFFSET_MS);
}

/** Formats an instant as Shanghai wall time `YYYY-MM-DD HH:mm`. */
export function formatShanghaiDateTime(instant: Date): string {
  return new Date(instant.getTime() + OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The instant of Shanghai midnight at the start of `iso`. */
export function shanghaiMidnight(iso: IsoDate): Date {
  return new Date(toUtcMs(iso) - OFFSET_MS);
}
