import { describe, expect, it } from 'vitest';
import {
  CRON_PRESETS,
  cronProblem,
  isValidTimezone,
  parseSchedule,
  scheduleSpecIssues,
  timezoneProblem,
} from '../../src/dag/schedule.js';
import { DagValidationError } from '../../src/errors.js';

describe('cron checks', () => {
  it('maps the presets to the expressions AIRFLOW.md lists', () => {
    expect(CRON_PRESETS).toEqual({
      '@hourly': '0 * * * *',
      '@daily': '0 0 * * *',
      '@weekly': '0 0 * * 0',
      '@monthly': '0 0 1 * *',
      '@quarterly': '0 0 1 */3 *',
      '@yearly': '0 0 1 1 *',
    });
  });

  it.each([
    '0 */4 * * *',
    '*/15 9-17 * * 1-5',
    '30 2 * * *',
    '0 0 1 JAN,JUL *',
    '0 0 * * SUN',
    '@daily',
    ' 0  6 * * * ',
  ])('accepts %j', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['', 'cannot be empty'],
    ['* * *', 'has 3 fields; a cron expression has 5'],
    ['0 0 * * * *', 'a seconds field is not supported'],
    ['H * * * *', "uses 'H' (hashed values)"],
    ['0 24 * * *', 'expected range 0-23'],
    ['0 0 31 2 *', 'is not a valid cron expression'],
    ['@weekdays', "unknown preset '@weekdays'"],
    ['@hourli', "did you mean '@hourly'?"],
    ['@once', "'@once' is not a cron expression"],
  ])('refuses %j: %s', (expression, fragment) => {
    expect(cronProblem(expression)).toContain(fragment);
  });
});

describe('time zone checks', () => {
  it.each(['UTC', 'Europe/Madrid', 'America/Argentina/Buenos_Aires', 'Etc/GMT+3'])('accepts %s', (zone) => {
    expect(isValidTimezone(zone)).toBe(true);
    expect(timezoneProblem(zone)).toBeUndefined();
  });

  it.each([
    ['Mars/Olympus_Mons', "unknown time zone 'Mars/Olympus_Mons'; write an IANA name"],
    ['Europe/Madird', "did you mean 'Europe/Madrid'?"],
    ['+03:00', 'unknown time zone'],
    ['', 'cannot be empty'],
  ])('refuses %j', (zone, fragment) => {
    expect(isValidTimezone(zone)).toBe(false);
    expect(timezoneProblem(zone)).toContain(fragment);
  });
});

describe('parseSchedule', () => {
  it('turns each written form into a ScheduleSpec', () => {
    expect(parseSchedule('@once')).toEqual({ kind: 'once' });
    expect(parseSchedule('@daily')).toEqual({ kind: 'cron', cron: '0 0 * * *', timezone: 'UTC' });
    expect(parseSchedule({ cron: '0 6 * * *', timezone: 'Asia/Tokyo' })).toEqual({
      kind: 'cron',
      cron: '0 6 * * *',
      timezone: 'Asia/Tokyo',
    });
    expect(parseSchedule({ every: '15m' })).toEqual({ kind: 'every', everyMs: 900_000 });
    expect(parseSchedule({ event: 'ready' })).toEqual({ kind: 'events', events: ['ready'] });
    expect(parseSchedule({ datasets: ['d'], cron: '@hourly' })).toEqual({
      kind: 'datasets',
      datasets: ['d'],
      orCron: { cron: '0 * * * *', timezone: 'UTC' },
    });
    expect(parseSchedule(null)).toBeUndefined();
    expect(parseSchedule(undefined)).toBeUndefined();
  });

  it('throws every problem of a schedule map with its field', () => {
    try {
      parseSchedule({ cron: '0 0 * *', timezone: 'Nowhere/City', every: '1h' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DagValidationError);
      expect((error as DagValidationError).issues.map((issue) => [issue.code, issue.field])).toEqual([
        ['INVALID_VALUE', 'schedule.every'],
        ['BAD_CRON', 'schedule.cron'],
        ['BAD_TIMEZONE', 'schedule.timezone'],
      ]);
    }
  });

  it('checks a ScheduleSpec built in code', () => {
    expect(scheduleSpecIssues({ kind: 'events', events: ['a', 'a'] })).toEqual([
      { code: 'INVALID_VALUE', message: "'a' is listed twice", path: ['schedule', 'events', 1] },
    ]);
    expect(
      scheduleSpecIssues({ kind: 'datasets', datasets: ['d'], orCron: { cron: '@daily', timezone: 'UTC' } }),
    ).toEqual([]);
  });
});
