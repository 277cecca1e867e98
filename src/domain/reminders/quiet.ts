/**
 * Quiet hours: no proactive message between `start` and `end` (Asia/Shanghai wall time, may wrap midnight),
 * nor on the whole of Chinese New Year's Eve (除夕) and the first day of the Spring Festival (正月初一).
 * A reminder due in a quiet period moves to the next allowed instant; urgent ones are not moved.
 */
import chineseDays from 'chinese-days';
import {
  addDays,
  type IsoDate,
  SHANGHAI_OFFSET_MINUTES,
  shanghaiDateOf,
  shanghaiMidnight,
} from '../calendar/date.ts';
import type { QuietHours } from './settings.ts';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

const springCache = new Map<number, readonly [IsoDate, IsoDate]>();

/** [New Year's Eve, first day of the Spring Festival] of the lunar year starting in Gregorian `year`. */
export function springFestivalDays(year: number): readonly [IsoDate, IsoDate] {
  let days = springCache.get(year);
  if (!days) {
    // 正月初一 of lunar year `year` always falls in January or February of Gregorian `year`.
    const first = chineseDays.getSolarDateFromLunar(`${year}-01-01`).date;
    days = [addDays(first, -1), first] as const;
    springCache.set(year, days);
  }
  return days;
}

/** True on 除夕 and 正月初一. */
export function isSpringFestivalQuietDay(date: IsoDate): boolean {
  const days = springFestivalDays(Number(date.slice(0, 4)));
  return days.includes(date);
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since Shanghai midnight. */
function wallMinutes(t: Date): number {
  const m = Math.floor(t.getTime() / MINUTE_MS) + SHANGHAI_OFFSET_MINUTES;
  return ((m % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
}

function inQuietHours(minutes: number, q: QuietHours): boolean {
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === end) return false;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

export interface QuietRules {
  hours: QuietHours;
  /** Whole days without messages; default 除夕 and 正月初一. */
  quietDay?: (date: IsoDate) => boolean;
}

/** True when nothing non-urgent may be sent at `t`. */
export function isQuiet(t: Date, rules: QuietRules): boolean {
  const quietDay = rules.quietDay ?? isSpringFestivalQuietDay;
  return quietDay(shanghaiDateOf(t)) || inQuietHours(wallMinutes(t), rules.hours);
}

/** `t` itself when allowed, else the first allowed instant after it. */
export function nextAllowed(t: Date, rules: QuietRules): Date {
  const quietDay = rules.quietDay ?? isSpringFestivalQuietDay;
  let at = t;
  for (let i = 0; i < 400; i++) {
    const date = shanghaiDateOf(at);
    if (quietDay(date)) {
      at = shanghaiMidnight(addDays(date, 1));
      continue;
    }
    const minutes = wallMinutes(at);
    if (!inQuietHours(minutes, rules.hours)) return at;
    const end = minutesOf(rules.hours.end);
    // The quiet window ends today at `end`, or tomorrow when we are in its evening part.
    const endDate = minutes >= end ? addDays(date, 1) : date;
    at = new Date(shanghaiMidnight(endDate).getTime() + end * MINUTE_MS);
  }
  throw new RangeError(`no allowed time within 400 days of ${t.toISOString()}`);
}
