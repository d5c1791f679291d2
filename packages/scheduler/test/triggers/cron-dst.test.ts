// CronSchedule against the brute-force reference: every DST transition of 2026 and 2027 in four zones,
// a 30-day simulated span per zone, and a property over random entries, zones and start instants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/triggers/cron-schedule.js';
import { ReferenceEntry, referenceFires, transitionsOf, wallTimeline } from './reference.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const ZONES = ['Europe/Madrid', 'America/New_York', 'Australia/Sydney', 'America/Santiago'] as const;
const ENTRIES = [
  '30 2 * * *',
  '0 * * * *',
  '*/15 * * * *',
  '*/30 1-3 * * *',
  '15 1,2,3 * * *',
  '* 2 * * *',
  '0 0 * * *',
  '30 1 * * *',
  '0 2 * * 0',
  '0 3 * * *',
  '0,30 2,3 * * *',
  '30 0 * * *',
  '* 0 * * *',
  '45 23 * * *',
  '*/20 23,0,1 * * *',
];

const windows = ZONES.flatMap((zone) =>
  [2026, 2027].flatMap((year) =>
    transitionsOf(zone, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1)).map((transitionMs) => ({
      zone,
      transitionMs,
    })),
  ),
);

function all(schedule: CronSchedule, fromMs: number, toMs: number): number[] {
  return [...schedule.between(fromMs, toMs)];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('CronSchedule across DST transitions (brute-force reference)', () => {
  it('finds both transitions of 2026 and 2027 in every zone', () => {
    expect(windows).toHaveLength(ZONES.length * 4);
  });

  for (const { zone, transitionMs } of windows) {
    it(`matches the reference around ${iso(transitionMs)} in ${zone}`, () => {
      const timeline = wallTimeline(zone, transitionMs - 3 * DAY, transitionMs + 3 * DAY);
      const fromMs = transitionMs - 2 * DAY;
      const toMs = transitionMs + 2 * DAY;
      for (const expression of ENTRIES) {
        const schedule = new CronSchedule(expression, zone);
        const expected = referenceFires(new ReferenceEntry(expression), timeline).filter(
          (fire) => fire >= fromMs && fire < toMs,
        );
        const actual = all(schedule, fromMs, toMs);
        expect(actual.map(iso), `${expression} in ${zone}`).toEqual(expected.map(iso));
        // next() and previous() from every minute (and half-minute) of the hours around the transition.
        // Fires outside the compared span are the reference's blind spot: only require "outside" there.
        const mismatches: string[] = [];
        for (let t = transitionMs - 3 * HOUR; t < transitionMs + 3 * HOUR; t += 30_000) {
          const next = expected.find((fire) => fire > t);
          const previous = expected.findLast((fire) => fire < t);
          const gotNext = schedule.next(t);
          const gotPrevious = schedule.previous(t);
          const nextOk = next !== undefined ? gotNext === next : gotNext === undefined || gotNext >= toMs;
          const previousOk =
            previous !== undefined ? gotPrevious === previous : gotPrevious === undefined || gotPrevious < fromMs;
          if (!nextOk) mismatches.push(`next after ${iso(t)}: ${gotNext && iso(gotNext)}, want ${next && iso(next)}`);
          if (!previousOk) {
            mismatches.push(
              `previous before ${iso(t)}: ${gotPrevious && iso(gotPrevious)}, want ${previous && iso(previous)}`,
            );
          }
        }
        expect(mismatches, `${expression} in ${zone}`).toEqual([]);
      }
    });
  }
});

describe('CronSchedule over a 30-day simulated span per zone', () => {
  const spans: Array<[string, string]> = [
    ['Europe/Madrid', '2026-10-10T00:00:00Z'],
    ['America/New_York', '2026-10-20T00:00:00Z'],
    ['Australia/Sydney', '2026-09-20T00:00:00Z'],
    ['America/Santiago', '2026-08-25T00:00:00Z'],
  ];
  for (const [zone, start] of spans) {
    it(`misses no fire, doubles none and keeps order in ${zone}`, () => {
      const fromMs = Date.parse(start);
      const toMs = fromMs + 30 * DAY;
      const timeline = wallTimeline(zone, fromMs - DAY, toMs + DAY);
      expect(transitionsOf(zone, fromMs, toMs)).toHaveLength(1);
      for (const expression of [...ENTRIES, '* * * * *', '*/7 * * * 1-5', '5 4 * * 0,6', '0 12 1,15 * *']) {
        const schedule = new CronSchedule(expression, zone);
        const expected = referenceFires(new ReferenceEntry(expression), timeline).filter(
          (fire) => fire >= fromMs && fire < toMs,
        );
        // Simulate a scheduler: ask for the next fire after each one.
        const actual: number[] = [];
        for (let fire = schedule.next(fromMs - 1); fire !== undefined && fire < toMs; fire = schedule.next(fire)) {
          actual.push(fire);
        }
        expect(actual.length, `${expression} in ${zone}`).toBe(expected.length);
        expect(actual, `${expression} in ${zone}`).toEqual(expected);
        expect(actual.every((fire, i) => i === 0 || fire > actual[i - 1]!)).toBe(true);
      }
    });
  }
});

describe('CronSchedule property: random entries, zones and start instants', () => {
  const propertyZones = [
    ...ZONES,
    'Australia/Lord_Howe',
    'Europe/London',
    'America/Havana',
    'Africa/Casablanca',
    'Pacific/Chatham',
  ] as const;
  const propertyWindows = propertyZones.flatMap((zone) =>
    transitionsOf(zone, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1)).map((transitionMs) => ({ zone, transitionMs })),
  );
  const step = (values: number[]) => fc.constantFrom(...values);
  const minuteField = fc.oneof(
    fc.constant('*'),
    step([5, 10, 15, 20, 30, 45]).map((k) => `*/${k}`),
    fc.integer({ min: 0, max: 59 }).map(String),
    fc
      .tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }))
      .map(([a, b]) => (a === b ? `${a}` : `${Math.min(a, b)},${Math.max(a, b)}`)),
    fc
      .tuple(fc.integer({ min: 0, max: 58 }), fc.integer({ min: 1, max: 30 }), step([1, 7, 15]))
      .map(([a, span, k]) => `${a}-${Math.min(59, a + span)}/${k}`),
  );
  const hourField = fc.oneof(
    fc.constant('*'),
    step([2, 3, 6]).map((k) => `*/${k}`),
    fc.integer({ min: 0, max: 4 }).map(String),
    fc.integer({ min: 0, max: 23 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([a, span]) => `${a}-${a + span}`),
    fc
      .uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 3 })
      .map((hours) => hours.sort((a, b) => a - b).join(',')),
    fc.constant('22-23,0-2'),
  );
  const dayOfMonthField = fc.oneof(fc.constant('*'), fc.constant('*'), fc.constant('*/2'), fc.constant('1-15'));
  const dayOfWeekField = fc.oneof(fc.constant('*'), fc.constant('*'), fc.constant('0'), fc.constant('1-5'));
  const entry = fc
    .tuple(minuteField, hourField, dayOfMonthField, dayOfWeekField)
    .map(([minute, hour, dayOfMonth, dayOfWeek]) => `${minute} ${hour} ${dayOfMonth} * ${dayOfWeek}`);

  it('next() strictly increases and equals the reference; previous() walks back the same fires', () => {
    fc.assert(
      fc.property(
        entry,
        fc.integer({ min: 0, max: propertyWindows.length - 1 }),
        fc.integer({ min: -36 * 60, max: 36 * 60 }),
        fc.integer({ min: 0, max: 59_999 }),
        (expression, windowIndex, minutesFromTransition, extraMs) => {
          const { zone, transitionMs } = propertyWindows[windowIndex]!;
          const timeline = wallTimeline(zone, transitionMs - 3 * DAY, transitionMs + 3 * DAY);
          const expected = referenceFires(new ReferenceEntry(expression), timeline).filter(
            (fire) => fire >= transitionMs - 2 * DAY && fire < transitionMs + 2 * DAY,
          );
          const schedule = new CronSchedule(expression, zone);
          const start = transitionMs + minutesFromTransition * 60_000 + extraMs;
          const want = expected.filter((fire) => fire > start).slice(0, 6);
          const got: number[] = [];
          for (let t = start; got.length < want.length; ) {
            const fire = schedule.next(t);
            if (fire === undefined) break;
            expect(fire).toBeGreaterThan(t);
            got.push(fire);
            t = fire;
          }
          expect(got.map(iso), `${expression} in ${zone} after ${iso(start)}`).toEqual(want.map(iso));
          const before = expected.filter((fire) => fire < start).slice(-3);
          const back: number[] = [];
          for (let t = start; back.length < before.length; ) {
            const fire = schedule.previous(t);
            if (fire === undefined) break;
            back.unshift(fire);
            t = fire;
          }
          expect(back.map(iso), `${expression} in ${zone} before ${iso(start)}`).toEqual(before.map(iso));
        },
      ),
      { numRuns: 300 },
    );
  });
});
