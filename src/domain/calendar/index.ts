/**
 * Default working-day calendar: chinese-days + the bundled `config/calendar-overrides.json`.
 * For another override table (e.g. reloaded at runtime) use `createWorkingCalendar(parseCalendarOverrides(json))`.
 */
import bundledOverrides from '../../../config/calendar-overrides.json' with { type: 'json' };
import type { DateInput, IsoDate } from './date.ts';
import {
  createWorkingCalendar,
  parseCalendarOverrides,
  type WorkingCalendar,
  type YearCoverage,
} from './working-days.ts';

export * from './date.ts';
export * from './working-days.ts';

function loadBundled(): WorkingCalendar {
  const parsed = parseCalendarOverrides(bundledOverrides);
  if (!parsed.ok) {
    const details = parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new Error(`config/calendar-overrides.json is invalid: ${details}`);
  }
  return createWorkingCalendar(parsed.overrides);
}

export const defaultCalendar: WorkingCalendar = loadBundled();

export const isWorkingDay = (date: DateInput): boolean => defaultCalendar.isWorkingDay(date);
export const nextWorkingDay = (date: DateInput): IsoDate => defaultCalendar.nextWorkingDay(date);
export const previousWorkingDay = (date: DateInput): IsoDate => defaultCalendar.previousWorkingDay(date);
export const addWorkingDays = (start: DateInput, n: number): IsoDate =>
  defaultCalendar.addWorkingDays(start, n);
export const workingDaysBetween = (a: DateInput, b: DateInput): number =>
  defaultCalendar.workingDaysBetween(a, b);
export const coverage = (year: number): YearCoverage => defaultCalendar.coverage(year);
