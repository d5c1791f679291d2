// CronSchedule on explicit, hand-checked values: the DST rule's examples from AIRFLOW.md, month ends,
// leap days, presets, L and #, and the errors a user sees.
import { describe, expect, it } from 'vitest';
import { BatutaError } from '../../src/errors.js';
import { CronSchedule } from '../../src/triggers/cron-schedule.js';
import { TimeZone } from '../../src/triggers/time-zone.js';

const DAY = 86_400_000;
const at = (text: string): number => Date.parse(text);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Fires in `[from, to)`, as ISO strings. */
function fires(expression: string, zone: string, from: string, to: string): string[] {
  return [...new CronSchedule(expression, zone).between(at(from), at(to))].map(iso);
}

/** Local wall-clock times of the fires, for readable expectations. */
function localFires(expression: string, zone: string, from: string, to: string): string[] {
  const format = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    dateStyle: 'short',
    timeStyle: 'short',
    hourCycle: 'h23',
  });
  return fires(expression, zone, from, to).map((fire) => format.format(at(fire)));
}

describe('the DST rule (AIRFLOW.md examples)', () => {
  it('fires a skipped fixed time once, at the jump, and the next day at its time again (Madrid, spring)', () => {
    expect(fires('30 2 * * *', 'Europe/Madrid', '2026-03-28T00:00Z', '2026-03-31T00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST, the first instant after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('fires a repeated fixed time only the first time (New York, fall)', () => {
    expect(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00Z', '2026-11-02T12:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; 01:30 EST an hour later does not fire
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('fires an hourly entry on every real hour: 23 times on the spring day, 25 on the autumn day', () => {
    // Local days in Madrid: 2026-03-29 runs 23:00Z→22:00Z, 2026-10-25 runs 22:00Z→23:00Z.
    expect(fires('0 * * * *', 'Europe/Madrid', '2026-03-28T23:00Z', '2026-03-29T22:00Z')).toHaveLength(23);
    expect(fires('0 * * * *', 'Europe/Madrid', '2026-10-24T22:00Z', '2026-10-25T23:00Z')).toHaveLength(25);
  });

  it('follows the new wall clock for wildcard-minute entries: none in the gap, twice in the repeated hour', () => {
    expect(fires('* 2 * * *', 'Europe/Madrid', '2026-03-28T23:00Z', '2026-03-29T22:00Z')).toEqual([]);
    expect(fires('* 2 * * *', 'Europe/Madrid', '2026-10-24T22:00Z', '2026-10-25T23:00Z')).toHaveLength(120);
    expect(fires('*/30 1-3 * * *', 'Europe/Madrid', '2026-10-24T22:00Z', '2026-10-25T23:00Z')).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z', // 02:00 CET, again
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('keeps the catch-up fire of a skipped time distinct from the next listed time (15 1,2,3)', () => {
    expect(fires('15 1,2,3 * * *', 'America/New_York', '2026-03-08T05:00Z', '2026-03-08T12:00Z')).toEqual([
      '2026-03-08T06:15:00.000Z', // 01:15 EST
      '2026-03-08T07:00:00.000Z', // 02:15 skipped → 03:00 EDT
      '2026-03-08T07:15:00.000Z', // 03:15 EDT
    ]);
  });

  it('collapses several skipped fixed times into one fire at the jump', () => {
    expect(fires('0,30 2 * * *', 'Europe/Madrid', '2026-03-29T00:00Z', '2026-03-29T12:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
    ]);
    // 02:00, 02:30 and 03:00 all land on 03:00 CEST: one fire; 03:30 follows.
    expect(fires('0,30 2,3 * * *', 'Europe/Madrid', '2026-03-29T00:00Z', '2026-03-29T12:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('fires a skipped midnight at 01:00 and keeps the weekday of the skipped date (Santiago)', () => {
    // Chile springs forward at 00:00 on Sunday 2026-09-06: 00:00–00:59 does not exist.
    expect(localFires('0 0 * * *', 'America/Santiago', '2026-09-05T00:00Z', '2026-09-08T00:00Z')).toEqual([
      '2026-09-05 00:00',
      '2026-09-06 01:00',
      '2026-09-07 00:00',
    ]);
    expect(localFires('0 0 * * 0', 'America/Santiago', '2026-09-01T00:00Z', '2026-09-20T00:00Z')).toEqual([
      '2026-09-06 01:00',
      '2026-09-13 00:00',
    ]);
  });

  it('steps strictly forward from inside the repeated hour', () => {
    const schedule = new CronSchedule('30 1 * * *', 'America/New_York');
    // 01:40 EST, the second pass through 01:xx: 01:30 EST must not fire, the next fire is tomorrow.
    expect(iso(schedule.next(at('2026-11-01T06:40Z'))!)).toBe('2026-11-02T06:30:00.000Z');
    expect(iso(schedule.next(at('2026-11-01T06:00Z'))!)).toBe('2026-11-02T06:30:00.000Z');
    expect(iso(schedule.previous(at('2026-11-01T06:40Z'))!)).toBe('2026-11-01T05:30:00.000Z');
  });

  it('handles a 30-minute DST shift (Lord Howe Island)', () => {
    // Lord Howe goes from +10:30 to +11 at 02:00 local on 2026-10-04: 02:00–02:29 is skipped.
    expect(localFires('15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T12:00Z', '2026-10-05T12:00Z')).toEqual([
      '2026-10-03 02:15',
      '2026-10-04 02:30',
      '2026-10-05 02:15',
    ]);
  });
});

describe('calendar', () => {
  it('fires on month ends: day 31 only in 31-day months, L on every last day', () => {
    expect(fires('0 0 31 * *', 'UTC', '2026-01-01T00:00Z', '2027-01-01T00:00Z').map((f) => f.slice(0, 10))).toEqual([
      '2026-01-31',
      '2026-03-31',
      '2026-05-31',
      '2026-07-31',
      '2026-08-31',
      '2026-10-31',
      '2026-12-31',
    ]);
    expect(fires('0 0 L * *', 'Europe/Madrid', '2027-12-01T00:00Z', '2028-04-01T00:00Z')).toEqual([
      '2027-12-30T23:00:00.000Z', // 2027-12-31 00:00 CET
      '2028-01-30T23:00:00.000Z',
      '2028-02-28T23:00:00.000Z', // 2028-02-29, leap year
      '2028-03-30T22:00:00.000Z', // 2028-03-31 00:00 CEST
    ]);
  });

  it('fires on leap days only, over eight years and across a skipped leap year (2100)', () => {
    expect(fires('0 0 29 2 *', 'America/New_York', '2024-01-01T00:00Z', '2032-12-31T00:00Z')).toEqual([
      '2024-02-29T05:00:00.000Z',
      '2028-02-29T05:00:00.000Z',
      '2032-02-29T05:00:00.000Z',
    ]);
    const schedule = new CronSchedule('0 0 29 2 *', 'UTC');
    expect(iso(schedule.next(at('2096-03-01T00:00Z'))!)).toBe('2104-02-29T00:00:00.000Z');
    expect(iso(schedule.previous(at('2104-02-01T00:00Z'))!)).toBe('2096-02-29T00:00:00.000Z');
  });

  it('fires @yearly at local midnight on January 1st, year after year', () => {
    expect(fires('@yearly', 'Australia/Sydney', '2025-06-01T00:00Z', '2031-06-01T00:00Z')).toEqual([
      '2025-12-31T13:00:00.000Z',
      '2026-12-31T13:00:00.000Z',
      '2027-12-31T13:00:00.000Z',
      '2028-12-31T13:00:00.000Z',
      '2029-12-31T13:00:00.000Z',
      '2030-12-31T13:00:00.000Z',
    ]);
  });

  it('expands every preset', () => {
    const first = (preset: string) => iso(new CronSchedule(preset, 'UTC').next(at('2026-05-15T10:20Z'))!);
    expect(first('@hourly')).toBe('2026-05-15T11:00:00.000Z');
    expect(first('@daily')).toBe('2026-05-16T00:00:00.000Z');
    expect(first('@weekly')).toBe('2026-05-17T00:00:00.000Z');
    expect(first('@monthly')).toBe('2026-06-01T00:00:00.000Z');
    expect(first('@quarterly')).toBe('2026-07-01T00:00:00.000Z');
    expect(first('@yearly')).toBe('2027-01-01T00:00:00.000Z');
    expect(new CronSchedule('@hourly', 'UTC').fixedTime).toBe(false);
    expect(new CronSchedule('@daily', 'UTC').fixedTime).toBe(true);
  });

  it('supports # (nth weekday) and nL (last weekday of the month)', () => {
    const days = (expression: string) =>
      fires(expression, 'UTC', '2026-01-01T00:00Z', '2026-05-01T00:00Z').map((f) => f.slice(0, 10));
    expect(days('0 12 * * 5#3')).toEqual(['2026-01-16', '2026-02-20', '2026-03-20', '2026-04-17']);
    expect(days('0 12 * * 5L')).toEqual(['2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24']);
  });

  it('matches either day field when both are restricted, and Sunday as 0 or 7', () => {
    const days = (expression: string) =>
      fires(expression, 'UTC', '2026-06-01T00:00Z', '2026-06-16T00:00Z').map((f) => f.slice(0, 10));
    expect(days('0 0 1,15 * 1')).toEqual(['2026-06-01', '2026-06-08', '2026-06-15']);
    expect(days('0 0 * * 7')).toEqual(days('0 0 * * 0'));
    expect(days('0 0 * * SUN')).toEqual(['2026-06-07', '2026-06-14']);
  });

  it('finds rare dates far ahead and says when there is none before a bound', () => {
    // February with five Mondays: a leap year whose February starts on a Monday.
    expect(iso(new CronSchedule('0 0 * 2 1#5', 'UTC').next(at('2026-01-01T00:00Z'))!)).toBe('2044-02-29T00:00:00.000Z');
    expect(new CronSchedule('0 0 1 1 *', 'UTC').previous(at('1970-01-01T00:00Z'))).toBe(at('1969-01-01T00:00:00.000Z'));
    expect(new CronSchedule('0 0 * * *', 'UTC').next(Number.NaN)).toBeUndefined();
  });

  it('answers undefined beyond the instants a Date can hold, and keeps historic offsets (LMT)', () => {
    const schedule = new CronSchedule('0 0 * * *', 'Europe/Madrid');
    expect(schedule.next(8.64e15)).toBeUndefined();
    expect(schedule.next(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(schedule.previous(-8e15)).toBeUndefined();
    // Madrid kept local mean time (−0:14:44) until 1901.
    expect(iso(schedule.next(at('1850-01-01T00:00Z'))!)).toBe('1850-01-01T00:14:44.000Z');
  });
});

describe('errors', () => {
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      return error instanceof BatutaError ? `${error.code}: ${error.message}` : String(error);
    }
    return undefined;
  };

  it.each([
    ['0 0 15W * *', /BAD_CRON: .*'W' \(nearest weekday\)/],
    ['0 0 LW * *', /BAD_CRON: .*'W'/],
    ['0 0 0 * * *', /BAD_CRON: .*seconds field is not supported/],
    ['@once', /BAD_CRON: .*not a cron expression/],
    ['61 * * * *', /BAD_CRON/],
    ['0 0 31 2 *', /BAD_CRON/],
    ['H * * * *', /BAD_CRON: .*'H'/],
  ])('rejects %s', (expression, message) => {
    expect(codeOf(() => new CronSchedule(expression, 'UTC'))).toMatch(message);
  });

  it('rejects an unknown time zone with a suggestion', () => {
    expect(codeOf(() => new CronSchedule('0 0 * * *', 'Europe/Madird'))).toMatch(/BAD_TIMEZONE: .*Europe\/Madrid/);
  });
});

describe('TimeZone', () => {
  it('finds the exact transition instants and offsets', () => {
    const madrid = TimeZone.of('Europe/Madrid');
    const spring = madrid.segmentAt(at('2026-06-01T00:00Z'));
    expect(iso(spring.startMs)).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(spring.endMs)).toBe('2026-10-25T01:00:00.000Z');
    expect(spring.offsetMs).toBe(2 * 3_600_000);
    expect(spring.previousOffsetMs).toBe(3_600_000);
    expect(madrid.offsetAt(at('2026-03-29T00:59:59Z'))).toBe(3_600_000);
    expect(madrid.offsetAt(at('2026-03-29T01:00:00Z'))).toBe(7_200_000);
  });

  it('has no transition in UTC or in zones without DST', () => {
    for (const name of ['UTC', 'Asia/Kolkata']) {
      const zone = TimeZone.of(name);
      const segment = zone.segmentAt(at('2026-06-01T00:00Z'));
      expect(segment.offsetMs).toBe(segment.previousOffsetMs);
      expect(segment.endMs - segment.startMs).toBeGreaterThan(365 * DAY);
    }
    expect(TimeZone.of('Asia/Kolkata').offsetAt(at('2026-06-01T00:00Z'))).toBe(5.5 * 3_600_000);
  });

  it('caches one instance per zone name', () => {
    expect(TimeZone.of('Europe/Madrid')).toBe(TimeZone.of('Europe/Madrid'));
  });
});
