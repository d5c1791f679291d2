// Backfill planning: the dates, the reprocess modes, the ids (shared with the scheduler), order and limits.
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/dag/model.js';
import { BatutaError } from '../../src/errors.js';
import { type BackfillRequest, type ExistingRun, planBackfill } from '../../src/triggers/backfill.js';
import { dueRuns } from '../../src/triggers/timetable.js';

const at = (text: string): number => Date.parse(text);
const daily: ScheduleSpec = { kind: 'cron', cron: '0 0 * * *', timezone: 'UTC' };
const dag = { id: 'etl', schedule: daily };

function plan(overrides: Partial<BackfillRequest> = {}) {
  return planBackfill({
    dag,
    fromMs: at('2026-01-01T00:00Z'),
    toMs: at('2026-01-05T00:00Z'),
    reprocess: 'none',
    existing: [],
    ...overrides,
  });
}

const summary = (items: Array<{ logicalDateMs: number; action: string; runId: string }>) =>
  items.map((item) => `${new Date(item.logicalDateMs).toISOString().slice(0, 10)} ${item.action} ${item.runId}`);

const existing: ExistingRun[] = [
  { logicalDateMs: at('2026-01-02T00:00Z'), state: 'success', kind: 'scheduled' },
  { logicalDateMs: at('2026-01-03T00:00Z'), state: 'failed', kind: 'scheduled' },
  { logicalDateMs: at('2026-01-04T00:00Z'), state: 'running', kind: 'scheduled' },
  // A manual run on a scheduled date never stands in for it.
  { logicalDateMs: at('2026-01-05T00:00Z'), state: 'failed', kind: 'manual' },
];

describe('planBackfill', () => {
  it('plans every fire time in [from, to], both inclusive, oldest first, under the scheduled ids', () => {
    const result = plan();
    expect(summary(result.runs)).toEqual([
      '2026-01-01 create scheduled__2026-01-01T00:00:00.000Z__etl',
      '2026-01-02 create scheduled__2026-01-02T00:00:00.000Z__etl',
      '2026-01-03 create scheduled__2026-01-03T00:00:00.000Z__etl',
      '2026-01-04 create scheduled__2026-01-04T00:00:00.000Z__etl',
      '2026-01-05 create scheduled__2026-01-05T00:00:00.000Z__etl',
    ]);
    expect(result.runs[0]).toMatchObject({
      dataIntervalStartMs: at('2025-12-31T00:00Z'),
      dataIntervalEndMs: at('2026-01-01T00:00Z'),
      reason: 'no run for this date yet',
    });
    expect(result.skipped).toEqual([]);
  });

  it('lists newest first on request', () => {
    expect(plan({ newestFirst: true }).runs.map((run) => new Date(run.logicalDateMs).getUTCDate())).toEqual([
      5, 4, 3, 2, 1,
    ]);
  });

  it('reprocess none: leaves every date that has a run alone, and says why', () => {
    const result = plan({ existing });
    expect(summary(result.runs)).toEqual([
      '2026-01-01 create scheduled__2026-01-01T00:00:00.000Z__etl',
      '2026-01-05 create scheduled__2026-01-05T00:00:00.000Z__etl',
    ]);
    expect(result.skipped.map((item) => item.reason)).toEqual([
      'it already has a success run; --reprocess completed runs it again',
      'it already has a failed run; --reprocess failed|completed runs it again',
      'a run of this date is queued or running',
    ]);
  });

  it('reprocess failed: re-runs failed dates under a new backfill id', () => {
    expect(summary(plan({ existing, reprocess: 'failed' }).runs)).toEqual([
      '2026-01-01 create scheduled__2026-01-01T00:00:00.000Z__etl',
      '2026-01-03 rerun backfill__2026-01-03T00:00:00.000Z__etl__2',
      '2026-01-05 create scheduled__2026-01-05T00:00:00.000Z__etl',
    ]);
  });

  it('reprocess completed: re-runs failed and succeeded dates, never a running one', () => {
    const result = plan({ existing, reprocess: 'completed' });
    expect(summary(result.runs)).toEqual([
      '2026-01-01 create scheduled__2026-01-01T00:00:00.000Z__etl',
      '2026-01-02 rerun backfill__2026-01-02T00:00:00.000Z__etl__2',
      '2026-01-03 rerun backfill__2026-01-03T00:00:00.000Z__etl__2',
      '2026-01-05 create scheduled__2026-01-05T00:00:00.000Z__etl',
    ]);
    expect(summary(result.skipped)).toEqual(['2026-01-04 skip backfill__2026-01-04T00:00:00.000Z__etl__2']);
  });

  it('judges a date by its best run: a failure fixed by a later success is not re-run as failed', () => {
    const date = at('2026-01-03T00:00Z');
    const runs: ExistingRun[] = [
      { logicalDateMs: date, state: 'failed' },
      { logicalDateMs: date, state: 'success', kind: 'backfill' },
    ];
    const result = plan({ existing: runs, reprocess: 'failed', fromMs: date, toMs: date });
    expect(result.runs).toEqual([]);
    // A second re-run of the date would be its third run.
    expect(plan({ existing: runs, reprocess: 'completed', fromMs: date, toMs: date }).runs[0]?.runId).toBe(
      'backfill__2026-01-03T00:00:00.000Z__etl__3',
    );
  });

  it('is idempotent: planning again after the runs exist creates nothing new', () => {
    const first = plan({ reprocess: 'failed', existing });
    const afterwards: ExistingRun[] = [
      ...existing,
      ...first.runs.map((run) => ({
        logicalDateMs: run.logicalDateMs,
        state: 'running' as const,
        kind: 'backfill' as const,
      })),
    ];
    expect(plan({ reprocess: 'failed', existing: afterwards }).runs).toEqual([]);
  });

  it('gives a backfilled date the id the scheduler would give it, so catching up cannot create it twice', () => {
    const backfilled = plan({ fromMs: at('2026-01-04T00:00Z'), toMs: at('2026-01-04T00:00Z') }).runs[0]!;
    const scheduled = dueRuns({
      dag: { ...dag, catchup: true, maxActiveRuns: 16, startDateMs: at('2026-01-01T00:00Z') },
      nowMs: at('2026-01-05T12:00Z'),
      lastScheduledFireMs: at('2026-01-03T00:00Z'),
      activeRunCount: 0,
    });
    expect(scheduled.map((run) => run.runId)).toContain(backfilled.runId);
  });

  it('follows the DST rule: a skipped fixed time is backfilled at the jump', () => {
    const result = planBackfill({
      dag: { id: 'nightly', schedule: { kind: 'cron', cron: '30 2 * * *', timezone: 'Europe/Madrid' } },
      fromMs: at('2026-03-28T00:00Z'),
      toMs: at('2026-03-30T23:59Z'),
      reprocess: 'none',
      existing: [],
    });
    expect(result.runs.map((run) => new Date(run.logicalDateMs).toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('backfills `every` schedules from their start date', () => {
    const result = planBackfill({
      dag: { id: 'poll', schedule: { kind: 'every', everyMs: 6 * 3_600_000 }, startDateMs: at('2026-01-01T03:00Z') },
      fromMs: at('2026-01-02T00:00Z'),
      toMs: at('2026-01-02T23:59Z'),
      reprocess: 'none',
      existing: [],
    });
    expect(result.runs.map((run) => new Date(run.logicalDateMs).toISOString().slice(11, 16))).toEqual([
      '03:00',
      '09:00',
      '15:00',
      '21:00',
    ]);
  });

  it.each([
    ['BACKFILL_BAD_RANGE', { fromMs: at('2026-02-01T00:00Z'), toMs: at('2026-01-01T00:00Z') }],
    ['BACKFILL_NO_SCHEDULE', { dag: { id: 'etl', schedule: { kind: 'events', events: ['x'] } as ScheduleSpec } }],
    ['BACKFILL_NO_SCHEDULE', { dag: { id: 'etl' } }],
    ['BACKFILL_TOO_LARGE', { maxRuns: 3 }],
  ] as const)('throws %s', (code, overrides) => {
    try {
      plan(overrides);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BatutaError);
      expect((error as BatutaError).code).toBe(code);
      expect((error as BatutaError).message).toContain("backfill of 'etl'");
    }
  });
});
