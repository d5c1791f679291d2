// A cron entry's five fields as lookup tables, and the search for matching wall-clock minutes.
// cron-parser parses and expands the fields; this file only reads its expanded values. Wall-clock times
// are "local milliseconds": the local date and time written as if it were UTC, so arithmetic on them is
// plain calendar arithmetic with no time zone involved.
import type { CronFieldCollection } from 'cron-parser';
import {
  civilFromDays,
  DAY_MS,
  daysFromCivil,
  daysInMonth,
  MINUTE_MS,
  MINUTES_PER_DAY,
  weekdayOfDays,
} from './calendar.js';

/** How far a search for a matching minute looks before giving up (an entry may match only in rare years). */
const SEARCH_SPAN_MS = 400 * 366 * DAY_MS;

/** The five fields of a cron entry, compiled for fast matching on local (wall-clock) times. */
export class CronFieldMatcher {
  /** For each minute of the day, the first matching minute of the day at or after it (−1: none left). */
  private readonly nextMinuteOfDay = new Int16Array(MINUTES_PER_DAY).fill(-1);
  /** For each minute of the day, the last matching minute of the day at or before it (−1: none). */
  private readonly previousMinuteOfDay = new Int16Array(MINUTES_PER_DAY).fill(-1);
  private readonly months: boolean[] = new Array(13).fill(false);
  private readonly daysOfMonth: boolean[] = new Array(32).fill(false);
  private readonly lastDayOfMonth: boolean;
  private readonly weekdays: boolean[] = new Array(7).fill(false);
  /** `5L`: the last Friday of the month. */
  private readonly lastWeekdays: boolean[] = new Array(7).fill(false);
  /** `5#3`: the third Friday (0: no `#`). */
  private readonly nthWeekday: number;
  private readonly dayOfMonthRestricted: boolean;
  private readonly dayOfWeekRestricted: boolean;

  constructor(fields: CronFieldCollection) {
    const hours = new Set<number>(fields.hour.values as number[]);
    const minutes = fields.minute.values as number[];
    const matching = new Array<boolean>(MINUTES_PER_DAY).fill(false);
    for (const hour of hours) for (const minute of minutes) matching[hour * 60 + minute] = true;
    let next = -1;
    for (let m = MINUTES_PER_DAY - 1; m >= 0; m--) {
      if (matching[m]) next = m;
      this.nextMinuteOfDay[m] = next;
    }
    let previous = -1;
    for (let m = 0; m < MINUTES_PER_DAY; m++) {
      if (matching[m]) previous = m;
      this.previousMinuteOfDay[m] = previous;
    }
    for (const month of fields.month.values as number[]) this.months[month] = true;
    let lastDay = false;
    for (const day of fields.dayOfMonth.values) {
      if (day === 'L') lastDay = true;
      else this.daysOfMonth[day] = true;
    }
    this.lastDayOfMonth = lastDay;
    for (const weekday of fields.dayOfWeek.values) {
      if (typeof weekday === 'number') this.weekdays[weekday % 7] = true;
      else this.lastWeekdays[Number.parseInt(String(weekday), 10) % 7] = true;
    }
    this.nthWeekday = fields.dayOfWeek.nthDay;
    // cron-parser's reading (croniter's too): a day field is "restricted" unless written `*` or `?`, and
    // when both are restricted a day matching either one matches.
    this.dayOfMonthRestricted = !fields.dayOfMonth.isWildcard;
    this.dayOfWeekRestricted = !fields.dayOfWeek.isWildcard;
  }

  /** The first matching whole minute (local ms) at or after `fromWallMs` and before `limitWallMs`. */
  nextMatch(fromWallMs: number, limitWallMs: number = fromWallMs + SEARCH_SPAN_MS): number | undefined {
    const first = Math.ceil(fromWallMs / MINUTE_MS);
    let days = Math.floor(first / MINUTES_PER_DAY);
    let minuteOfDay = first - days * MINUTES_PER_DAY;
    let { year, month, day } = civilFromDays(days);
    let weekday = weekdayOfDays(days);
    let monthLength = daysInMonth(year, month);
    while (days * DAY_MS < limitWallMs) {
      if (!this.months[month]) {
        // Jump to the first day of the next allowed month.
        do {
          month++;
          if (month > 12) {
            month = 1;
            year++;
          }
        } while (!this.months[month]);
        days = daysFromCivil(year, month, 1);
        day = 1;
        weekday = weekdayOfDays(days);
        monthLength = daysInMonth(year, month);
        minuteOfDay = 0;
        continue;
      }
      if (this.dayMatches(day, weekday, monthLength)) {
        const minute = this.nextMinuteOfDay[minuteOfDay]!;
        if (minute >= 0) {
          const wallMs = (days * MINUTES_PER_DAY + minute) * MINUTE_MS;
          return wallMs < limitWallMs ? wallMs : undefined;
        }
      }
      days++;
      minuteOfDay = 0;
      weekday = weekday === 6 ? 0 : weekday + 1;
      day++;
      if (day > monthLength) {
        day = 1;
        month++;
        if (month > 12) {
          month = 1;
          year++;
        }
        monthLength = daysInMonth(year, month);
      }
    }
    return undefined;
  }

  /** The last matching whole minute (local ms) at or before `toWallMs` and at or after `floorWallMs`. */
  previousMatch(toWallMs: number, floorWallMs: number = toWallMs - SEARCH_SPAN_MS): number | undefined {
    const last = Math.floor(toWallMs / MINUTE_MS);
    let days = Math.floor(last / MINUTES_PER_DAY);
    let minuteOfDay = last - days * MINUTES_PER_DAY;
    let { year, month, day } = civilFromDays(days);
    let weekday = weekdayOfDays(days);
    let monthLength = daysInMonth(year, month);
    while ((days + 1) * DAY_MS > floorWallMs) {
      if (!this.months[month]) {
        // Jump to the last day of the previous allowed month.
        do {
          month--;
          if (month < 1) {
            month = 12;
            year--;
          }
        } while (!this.months[month]);
        monthLength = daysInMonth(year, month);
        day = monthLength;
        days = daysFromCivil(year, month, day);
        weekday = weekdayOfDays(days);
        minuteOfDay = MINUTES_PER_DAY - 1;
        continue;
      }
      if (this.dayMatches(day, weekday, monthLength)) {
        const minute = this.previousMinuteOfDay[minuteOfDay]!;
        if (minute >= 0) {
          const wallMs = (days * MINUTES_PER_DAY + minute) * MINUTE_MS;
          return wallMs >= floorWallMs ? wallMs : undefined;
        }
      }
      days--;
      minuteOfDay = MINUTES_PER_DAY - 1;
      weekday = weekday === 0 ? 6 : weekday - 1;
      day--;
      if (day < 1) {
        month--;
        if (month < 1) {
          month = 12;
          year--;
        }
        monthLength = daysInMonth(year, month);
        day = monthLength;
      }
    }
    return undefined;
  }

  private dayMatches(day: number, weekday: number, monthLength: number): boolean {
    if (!this.dayOfMonthRestricted && !this.dayOfWeekRestricted) return true;
    const dayOfMonth = this.daysOfMonth[day] === true || (this.lastDayOfMonth && day === monthLength);
    if (!this.dayOfWeekRestricted) return dayOfMonth;
    const dayOfWeek =
      (this.weekdays[weekday] === true && (this.nthWeekday <= 0 || Math.ceil(day / 7) === this.nthWeekday)) ||
      (this.lastWeekdays[weekday] === true && day + 7 > monthLength);
    if (!this.dayOfMonthRestricted) return dayOfWeek;
    return dayOfMonth || dayOfWeek;
  }
}
