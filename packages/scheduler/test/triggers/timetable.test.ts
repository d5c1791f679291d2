// Timetables and dueRuns: catchup, start and end dates, maxActiveRuns, restarts after downtime, and two
// schedulers computing the same runs; plus the interval and once schedules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/dag/model.js';
import { IntervalSchedule } from '../../src/triggers/interval-schedule.js';
import { OnceSchedule } from '../../src/triggers/once-schedule.js';
import { dueRuns, type TimedDag, Timetable } from '../../src/triggers/timetable.js';

const HOUR = 3_600_000;
const at = (text: string): number => Date.parse(text);
const iso = (ms: number): string => new Date(ms).toISOString();
const hourly: ScheduleSpec = { kind: 'cron', cron: '0 * * * *', timezone: 'UTC' };

function dag(overrides: Partial<TimedDag> = {}): TimedDag {
  return { id: 'etl', schedule: hourly, catchup: false, maxActiveRuns: 16, ...overrides };
}

/** A DAG without a schedule (triggered only). */
function unscheduled(): TimedDag {
  const { schedule: _schedule, ...rest } = dag();
  return rest;
}

/** The logical dates dueRuns returns, as ISO strings. */
function due(overrides: Partial<TimedDag>, now: string, last: string | undefined, activeRunCount = 0): string[] {
  return dueRuns({
    dag: dag(overrides),
    nowMs: at(now),
    lastScheduledFireMs: last === undefined ? undefined : at(last),
    activeRunCount,
  }).map((run) => iso(run.logicalDateMs));
}

describe('dueRuns', () => {
  it('creates the latest due fire with its deterministic id and data interval', () => {
    expect(
      dueRuns({ dag: dag(), nowMs: at('2026-05-01T10:30Z'), lastScheduledFireMs: undefined, activeRunCount: 0 }),
    ).toEqual([
      {
        runId: 'scheduled__2026-05-01T10:00:00.000Z__etl',
        logicalDateMs: at('2026-05-01T10:00Z'),
        dataIntervalStartMs: at('2026-05-01T09:00Z'),
        dataIntervalEndMs: at('2026-05-01T10:00Z'),
      },
    ]);
  });

  it.each([
    ['catchup off: only the latest missed fire, no burst', {}, '2026-05-01T10:30Z', '2026-05-01T05:00Z', 0, ['10:00']],
    ['catchup off: nothing between fires', {}, '2026-05-01T10:59Z', '2026-05-01T10:00Z', 0, []],
    ['a fire exactly at now is due', {}, '2026-05-01T11:00Z', '2026-05-01T10:00Z', 0, ['11:00']],
    [
      'catchup on: every missed fire, oldest first',
      { catchup: true },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      0,
      ['06:00', '07:00', '08:00', '09:00', '10:00'],
    ],
    [
      'catchup on: bounded by maxActiveRuns − active runs',
      { catchup: true, maxActiveRuns: 3 },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      1,
      ['06:00', '07:00'],
    ],
    [
      'catchup on: no free slot, nothing',
      { catchup: true, maxActiveRuns: 3 },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      3,
      [],
    ],
    ['catchup off: no free slot, nothing', { maxActiveRuns: 1 }, '2026-05-01T10:30Z', '2026-05-01T05:00Z', 1, []],
    [
      'catchup on: from the start date when there is no run yet',
      { catchup: true, startDateMs: at('2026-05-01T07:30Z') },
      '2026-05-01T10:30Z',
      undefined,
      0,
      ['08:00', '09:00', '10:00'],
    ],
    [
      'catchup on: the start date is inclusive',
      { catchup: true, startDateMs: at('2026-05-01T08:00Z') },
      '2026-05-01T09:10Z',
      undefined,
      0,
      ['08:00', '09:00'],
    ],
    [
      'catchup on without a start date or a run: nothing to catch up from, the latest only',
      { catchup: true },
      '2026-05-01T10:30Z',
      undefined,
      0,
      ['10:00'],
    ],
    [
      'catchup off with a start date: the latest fire after it',
      { startDateMs: at('2026-05-01T07:30Z') },
      '2026-05-01T10:30Z',
      undefined,
      0,
      ['10:00'],
    ],
    [
      'a start date in the future: nothing',
      { startDateMs: at('2026-05-02T00:00Z') },
      '2026-05-01T10:30Z',
      undefined,
      0,
      [],
    ],
    [
      'catchup on: the end date is inclusive and stops the runs',
      { catchup: true, endDateMs: at('2026-05-01T08:00Z') },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      0,
      ['06:00', '07:00', '08:00'],
    ],
    [
      'catchup off after the end date: the last fire before it',
      { endDateMs: at('2026-05-01T08:30Z') },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      0,
      ['08:00'],
    ],
    [
      'after the end date, once its last fire ran: nothing',
      { endDateMs: at('2026-05-01T08:30Z') },
      '2026-05-01T10:30Z',
      '2026-05-01T08:00Z',
      0,
      [],
    ],
    [
      'a start date moved past the last run: fires before it are not created',
      { catchup: true, startDateMs: at('2026-05-01T09:00Z') },
      '2026-05-01T10:30Z',
      '2026-05-01T05:00Z',
      0,
      ['09:00', '10:00'],
    ],
  ] as const)('%s', (_name, overrides, now, last, active, expected) => {
    expect(due(overrides, now, last, active).map((date) => date.slice(11, 16))).toEqual(expected);
  });

  it('drains a catchup backlog in maxActiveRuns-sized steps as runs finish', () => {
    const created: string[] = [];
    let last: number | undefined = at('2026-05-01T00:00Z');
    for (let round = 0; round < 10; round++) {
      const runs = dueRuns({
        dag: dag({ catchup: true, maxActiveRuns: 4 }),
        nowMs: at('2026-05-01T10:30Z'),
        lastScheduledFireMs: last,
        activeRunCount: 0, // the previous round's runs finished
      });
      expect(runs.length).toBeLessThanOrEqual(4);
      for (const run of runs) created.push(iso(run.logicalDateMs).slice(11, 16));
      last = runs.at(-1)?.logicalDateMs ?? last;
    }
    expect(created).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'].map((h) => `${h}:00`));
  });

  it('after downtime, creates what catchup says and no more', () => {
    // A scheduler ticks each minute from 00:00 to 03:00, is down until 09:30, then ticks again.
    const run = (catchup: boolean): string[] => {
      const created: number[] = [];
      const tick = (nowMs: number) => {
        const runs = dueRuns({
          dag: dag({ catchup, startDateMs: at('2026-05-01T00:00Z') }),
          nowMs,
          lastScheduledFireMs: created.at(-1),
          activeRunCount: 0,
        });
        created.push(...runs.map((r) => r.logicalDateMs));
      };
      for (let t = at('2026-05-01T00:00Z'); t <= at('2026-05-01T03:00Z'); t += 60_000) tick(t);
      tick(at('2026-05-01T09:30Z'));
      return created.map((ms) => iso(ms).slice(11, 16));
    };
    expect(run(false)).toEqual(['00:00', '01:00', '02:00', '03:00', '09:00']);
    expect(run(true)).toEqual([
      '00:00',
      '01:00',
      '02:00',
      '03:00',
      '04:00',
      '05:00',
      '06:00',
      '07:00',
      '08:00',
      '09:00',
    ]);
  });

  it('gives two schedulers ticking at different moments the same runs, each exactly once', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 400 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (catchup, ticks) => {
          // A shared store: run ids are unique; each scheduler reads the latest scheduled run before deciding.
          const store = new Map<string, number>();
          const startMs = at('2026-03-27T00:00Z');
          const schedule: ScheduleSpec = { kind: 'cron', cron: '*/20 1-3 * * *', timezone: 'Europe/Madrid' };
          const clocks = [startMs, startMs];
          let attempts = 0;
          for (const [scheduler, stepMinutes] of ticks) {
            clocks[scheduler]! += stepMinutes * 60_000;
            const values = [...store.values()];
            const last = values.length > 0 ? Math.max(...values) : undefined;
            const runs = dueRuns({
              dag: dag({ schedule, catchup, startDateMs: startMs }),
              nowMs: clocks[scheduler]!,
              lastScheduledFireMs: last,
              activeRunCount: 0,
            });
            for (const run of runs) {
              attempts++;
              if (!store.has(run.runId)) store.set(run.runId, run.logicalDateMs);
              expect(store.get(run.runId)).toBe(run.logicalDateMs);
            }
          }
          const logicalDates = [...store.values()].sort((a, b) => a - b);
          expect(new Set(logicalDates).size).toBe(logicalDates.length);
          expect(attempts).toBeGreaterThanOrEqual(store.size);
          if (catchup) {
            // Nothing missed: every fire up to the furthest clock exists.
            const timetable = Timetable.of({ schedule, startDateMs: startMs })!;
            const expected = [...timetable.schedule.between(startMs, Math.max(...clocks) + 1)];
            expect(logicalDates).toEqual(expected);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('creates nothing for event-, dataset-only and unscheduled DAGs; the cron of a dataset-or-time schedule', () => {
    const now = '2026-05-01T10:30Z';
    expect(due({ schedule: { kind: 'events', events: ['file-arrived'] } }, now, undefined)).toEqual([]);
    expect(due({ schedule: { kind: 'datasets', datasets: ['s3://raw'] } }, now, undefined)).toEqual([]);
    expect(dueRuns({ dag: unscheduled(), nowMs: at(now), lastScheduledFireMs: undefined, activeRunCount: 0 })).toEqual(
      [],
    );
    const orCron: ScheduleSpec = {
      kind: 'datasets',
      datasets: ['s3://raw'],
      orCron: { cron: '0 0 * * *', timezone: 'UTC' },
    };
    expect(due({ schedule: orCron }, now, undefined)).toEqual(['2026-05-01T00:00:00.000Z']);
  });

  it('runs @once exactly once, at the start date', () => {
    const once: Partial<TimedDag> = { schedule: { kind: 'once' }, startDateMs: at('2026-05-01T08:00Z') };
    expect(due(once, '2026-05-01T07:00Z', undefined)).toEqual([]);
    expect(due(once, '2026-05-01T10:00Z', undefined)).toEqual(['2026-05-01T08:00:00.000Z']);
    expect(due({ ...once, catchup: true }, '2026-05-09T10:00Z', '2026-05-01T08:00Z')).toEqual([]);
    // Without a start date, the epoch stands in, so every scheduler still computes the same run id.
    expect(due({ schedule: { kind: 'once' } }, '2026-05-01T10:00Z', undefined)).toEqual(['1970-01-01T00:00:00.000Z']);
  });

  it('spaces `every` schedules from the start date in fixed UTC steps', () => {
    const every4h: Partial<TimedDag> = {
      schedule: { kind: 'every', everyMs: 4 * HOUR },
      startDateMs: at('2026-03-28T01:15Z'),
      catchup: true,
    };
    expect(due(every4h, '2026-03-29T10:00Z', undefined)).toEqual([
      '2026-03-28T01:15:00.000Z',
      '2026-03-28T05:15:00.000Z',
      '2026-03-28T09:15:00.000Z',
      '2026-03-28T13:15:00.000Z',
      '2026-03-28T17:15:00.000Z',
      '2026-03-28T21:15:00.000Z',
      '2026-03-29T01:15:00.000Z',
      '2026-03-29T05:15:00.000Z',
      '2026-03-29T09:15:00.000Z',
    ]);
  });
});

describe('Timetable', () => {
  it('gives a daily run the whole local day as its data interval, 23 h long across spring-forward', () => {
    const timetable = Timetable.of({ schedule: { kind: 'cron', cron: '0 0 * * *', timezone: 'Europe/Madrid' } })!;
    const fire = at('2026-03-29T22:00Z'); // 2026-03-30 00:00 CEST
    expect(timetable.dataInterval(fire)).toEqual({ startMs: at('2026-03-28T23:00Z'), endMs: fire });
  });

  it("starts the first run's data interval at the schedule's previous fire, not at the start date", () => {
    const timetable = Timetable.of({ schedule: hourly, startDateMs: at('2026-05-01T10:00Z') })!;
    expect(timetable.dataInterval(at('2026-05-01T10:00Z')).startMs).toBe(at('2026-05-01T09:00Z'));
  });

  it('bounds nextFire and previousFire by the start and end dates (inclusive)', () => {
    const timetable = Timetable.of({
      schedule: hourly,
      startDateMs: at('2026-05-01T10:00Z'),
      endDateMs: at('2026-05-01T12:00Z'),
    })!;
    expect(iso(timetable.nextFire(at('2026-05-01T00:00Z'))!)).toBe('2026-05-01T10:00:00.000Z');
    expect(timetable.nextFire(at('2026-05-01T12:00Z'))).toBeUndefined();
    expect(iso(timetable.previousFire(at('2026-05-02T00:00Z'))!)).toBe('2026-05-01T12:00:00.000Z');
    expect(timetable.previousFire(at('2026-05-01T10:00Z'))).toBeUndefined();
  });
});

describe('IntervalSchedule and OnceSchedule', () => {
  it('steps from its anchor in both directions, strictly', () => {
    const every = new IntervalSchedule(15 * 60_000, at('2026-01-01T00:05Z'));
    expect(iso(every.next(at('2026-01-01T00:05Z'))!)).toBe('2026-01-01T00:20:00.000Z');
    expect(iso(every.next(at('2025-12-31T23:59Z'))!)).toBe('2026-01-01T00:05:00.000Z');
    expect(iso(every.previous(at('2026-01-01T00:05Z'))!)).toBe('2025-12-31T23:50:00.000Z');
    expect([...every.between(at('2026-01-01T00:05Z'), at('2026-01-01T00:50Z'))].map(iso)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:20:00.000Z',
      '2026-01-01T00:35:00.000Z',
    ]);
    expect(() => new IntervalSchedule(0)).toThrow(/above 0/);
  });

  it('fires once', () => {
    const once = new OnceSchedule(1000);
    expect(once.next(999)).toBe(1000);
    expect(once.next(1000)).toBeUndefined();
    expect(once.previous(1001)).toBe(1000);
    expect(once.previous(1000)).toBeUndefined();
    expect([...once.between(0, 2000)]).toEqual([1000]);
    expect([...once.between(0, 1000)]).toEqual([]);
  });
});
