/**
 * Mainland-China working-day calendar (工作日), for deadlines such as "enter the recipients into the
 * provincial system within 30 working days of payment".
 *
 * Sources, in order of precedence:
 * 1. a local override table (`config/calendar-overrides.json`, or one passed to `createWorkingCalendar`):
 *    single dates declared holiday or working day, for corrections and for years not yet in the package;
 * 2. the `chinese-days` package (official State Council schedules, 2004–2026 in version 1.5.7), including
 *    weekend make-up working days (调休);
 * 3. otherwise Monday–Friday. `coverage(year)` says which applies so callers can warn
 *    ("the 2027 holiday schedule is not loaded; Saturdays/Sundays assumed off").
 *
 * Dates: see `./date.ts` for how strings, `Date` and dayjs inputs map to Asia/Shanghai calendar dates.
 * Results are always `YYYY-MM-DD` strings.
 */
import chineseDays from 'chinese-days';
import { z } from 'zod';
import { addDays, type DateInput, dayOfWeek, type IsoDate, isValidIsoDate, toIsoDate } from './date.ts';

/** Where a year's schedule comes from. */
export type CoverageSource = 'official' | 'override' | 'fallback';

export interface YearCoverage {
  year: number;
  /**
   * `official`: chinese-days has the State Council schedule (overrides may still correct single days);
   * `override`: the override file declares the whole year (`complete_years`);
   * `fallback`: Monday–Friday, plus whatever single override days exist — callers should warn.
   */
  source: CoverageSource;
  /** Number of override entries (holidays + working days) in that year. */
  overrideDays: number;
  /** False only for `fallback`. */
  reliable: boolean;
}

export interface DayInfo {
  date: IsoDate;
  working: boolean;
  /** Which rule decided: `override` entry, `official` schedule, or plain weekday/weekend rule (`weekday`). */
  decidedBy: 'override' | 'official' | 'weekday';
  /** Holiday / make-up day name when known, e.g. `{ zh: '春节', en: 'Spring Festival' }` or the override's text. */
  name?: { zh?: string; en?: string };
}

export interface CalendarOverrides {
  /** Years whose complete schedule is in `holidays` / `workdays` (coverage becomes `override`). */
  completeYears: number[];
  /** Days off that would otherwise be working days (value: a label such as "春节"). */
  holidays: Record<IsoDate, string>;
  /** Working days that would otherwise be off, e.g. make-up Saturdays/Sundays (value: a label). */
  workdays: Record<IsoDate, string>;
}

export const EMPTY_OVERRIDES: CalendarOverrides = { completeYears: [], holidays: {}, workdays: {} };

const isoDateKey = z.string().refine(isValidIsoDate, { message: 'expected a date YYYY-MM-DD' });

/** Schema of the override JSON file (snake_case keys as written in the file). */
export const calendarOverridesFileSchema = z
  .strictObject({
    $comment: z.union([z.string(), z.array(z.string())]).optional(),
    complete_years: z.array(z.int().min(1900).max(2200)).default([]),
    holidays: z.record(isoDateKey, z.string()).default({}),
    workdays: z.record(isoDateKey, z.string()).default({}),
  })
  .superRefine((v, ctx) => {
    for (const d of Object.keys(v.holidays)) {
      if (d in v.workdays) {
        ctx.addIssue({
          code: 'custom',
          path: ['workdays', d],
          message: `${d} is both a holiday and a workday`,
        });
      }
    }
  });

export type CalendarOverridesResult =
  | { ok: true; overrides: CalendarOverrides }
  | { ok: false; problems: { path: string; message: string }[] };

/** Validates the parsed JSON of an override file. */
export function parseCalendarOverrides(json: unknown): CalendarOverridesResult {
  const r = calendarOverridesFileSchema.safeParse(json);
  if (!r.success) {
    return {
      ok: false,
      problems: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    };
  }
  return {
    ok: true,
    overrides: { completeYears: r.data.complete_years, holidays: r.data.holidays, workdays: r.data.workdays },
  };
}

export interface WorkingCalendar {
  isWorkingDay(date: DateInput): boolean;
  dayInfo(date: DateInput): DayInfo;
  /** First working day strictly after `date`. */
  nextWorkingDay(date: DateInput): IsoDate;
  /** Last working day strictly before `date`. */
  previousWorkingDay(date: DateInput): IsoDate;
  /**
   * The `n`-th working day after `start` (start itself is not counted: n = 1 is the next working day).
   * n = 0 returns `start` unchanged (even if it is not a working day); negative n counts backwards
   * (n = -1 is the previous working day). Example: 30 working days after payment on 2024-01-25 → 2024-03-12.
   */
  addWorkingDays(start: DateInput, n: number): IsoDate;
  /**
   * Working days in the half-open interval (a, b]: after `a`, up to and including `b`.
   * 0 when a = b; antisymmetric: workingDaysBetween(b, a) = -workingDaysBetween(a, b), so the result is
   * negative when b is before a. Inverse of `addWorkingDays`: workingDaysBetween(a, addWorkingDays(a, n)) = n.
   */
  workingDaysBetween(a: DateInput, b: DateInput): number;
  coverage(year: number): YearCoverage;
}

/** chinese-days holiday names look like "Spring Festival,春节,4". */
function parseOfficialName(name: string): DayInfo['name'] {
  const parts = name.split(',');
  if (parts.length < 2) return undefined;
  return { en: parts[0], zh: parts[1] };
}

const MAX_SPAN_DAYS = 366 * 20;

export function createWorkingCalendar(overrides: CalendarOverrides = EMPTY_OVERRIDES): WorkingCalendar {
  const officialYears = new Map<number, boolean>();
  const officialCache = new Map<IsoDate, { work: boolean; name: string }>();
  const completeYears = new Set(overrides.completeYears);

  function hasOfficialYear(year: number): boolean {
    let known = officialYears.get(year);
    if (known === undefined) {
      // Any statutory holiday on a weekday that year means the package has that year's schedule.
      known = chineseDays.getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0;
      officialYears.set(year, known);
    }
    return known;
  }

  function official(date: IsoDate): { work: boolean; name: string } {
    let d = officialCache.get(date);
    if (!d) {
      const detail = chineseDays.getDayDetail(date);
      d = { work: detail.work, name: detail.name };
      officialCache.set(date, d);
    }
    return d;
  }

  function info(date: IsoDate): DayInfo {
    const holiday = overrides.holidays[date];
    if (holiday !== undefined) return { date, working: false, decidedBy: 'override', name: { zh: holiday } };
    const workday = overrides.workdays[date];
    if (workday !== undefined) return { date, working: true, decidedBy: 'override', name: { zh: workday } };
    const year = Number(date.slice(0, 4));
    if (!completeYears.has(year) && hasOfficialYear(year)) {
      const o = official(date);
      const name = parseOfficialName(o.name);
      const dow = dayOfWeek(date);
      const weekdayRule = dow !== 0 && dow !== 6;
      if (name) return { date, working: o.work, decidedBy: 'official', name };
      return { date, working: o.work, decidedBy: o.work === weekdayRule ? 'weekday' : 'official' };
    }
    const dow = dayOfWeek(date);
    return { date, working: dow !== 0 && dow !== 6, decidedBy: 'weekday' };
  }

  const working = (date: IsoDate): boolean => info(date).working;

  function step(from: IsoDate, direction: 1 | -1): IsoDate {
    let d = from;
    for (let i = 0; i < MAX_SPAN_DAYS; i++) {
      d = addDays(d, direction);
      if (working(d)) return d;
    }
    throw new RangeError(`No working day within ${MAX_SPAN_DAYS} days of ${from}`);
  }

  function countBetween(a: IsoDate, b: IsoDate): number {
    if (a === b) return 0;
    if (b < a) return -countBetween(b, a);
    let n = 0;
    let d = a;
    for (let i = 0; i < MAX_SPAN_DAYS && d < b; i++) {
      d = addDays(d, 1);
      if (working(d)) n++;
    }
    if (d < b) throw new RangeError(`Range too long: ${a} .. ${b}`);
    return n;
  }

  return {
    isWorkingDay: (date) => working(toIsoDate(date)),
    dayInfo: (date) => info(toIsoDate(date)),
    nextWorkingDay: (date) => step(toIsoDate(date), 1),
    previousWorkingDay: (date) => step(toIsoDate(date), -1),
    addWorkingDays(start, n) {
      if (!Number.isInteger(n)) throw new RangeError(`Working-day count must be an integer: ${n}`);
      let d = toIsoDate(start);
      const direction = n < 0 ? -1 : 1;
      for (let i = 0; i < Math.abs(n); i++) d = step(d, direction);
      return d;
    },
    workingDaysBetween: (a, b) => countBetween(toIsoDate(a), toIsoDate(b)),
    coverage(year) {
      const prefix = `${year}-`;
      const overrideDays =
        Object.keys(overrides.holidays).filter((d) => d.startsWith(prefix)).length +
        Object.keys(overrides.workdays).filter((d) => d.startsWith(prefix)).length;
      const source: CoverageSource = completeYears.has(year)
        ? 'override'
        : hasOfficialYear(year)
          ? 'official'
          : 'fallback';
      return { year, source, overrideDays, reliable: source !== 'fallback' };
    },
  };
}
