// Dataset schedules: when a run is due, which updates it consumes, dataset-or-time schedules and slots.
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/dag/model.js';
import {
  compareEventIds,
  type DatasetState,
  datasetRunsDue,
  evaluateDatasetTrigger,
} from '../../src/triggers/datasets.js';
import type { TimedDag } from '../../src/triggers/timetable.js';

const at = (text: string): number => Date.parse(text);
const datasets = ['s3://raw/orders', 's3://raw/customers'];
const [orders, customers] = datasets as [string, string];

describe('evaluateDatasetTrigger', () => {
  it.each<[string, DatasetState, string[]]>([
    ['nothing updated yet', { lastConsumedEventIds: {}, latestUpdates: {} }, [orders, customers]],
    [
      'one of two updated',
      { lastConsumedEventIds: {}, latestUpdates: { [orders]: { eventId: '1-0', atMs: 1 } } },
      [customers],
    ],
    [
      'an update already consumed by the last run',
      {
        lastConsumedEventIds: { [orders]: '5-0', [customers]: '3-0' },
        latestUpdates: { [orders]: { eventId: '5-0', atMs: 5 }, [customers]: { eventId: '4-0', atMs: 4 } },
      },
      [orders],
    ],
  ])('waits: %s', (_name, state, waitingFor) => {
    const decision = evaluateDatasetTrigger(datasets, state);
    expect(decision).toMatchObject({ due: false, waitingFor });
  });

  it('explains what it waits for', () => {
    const decision = evaluateDatasetTrigger(datasets, {
      lastConsumedEventIds: {},
      latestUpdates: { [orders]: { eventId: '1-0', atMs: 1 } },
    });
    expect(decision.reason).toBe('waiting: 1 of 2 datasets updated since the last run; not yet s3://raw/customers');
  });

  it('is due once every dataset has a newer update; several updates collapse into one run', () => {
    const decision = evaluateDatasetTrigger(datasets, {
      // orders was updated four times since the last run (3 → 7): one run consumes them all.
      lastConsumedEventIds: { [orders]: '1714000000000-3', [customers]: '1714000000000-1' },
      latestUpdates: {
        [orders]: { eventId: '1714000000000-7', atMs: at('2026-05-01T10:07Z') },
        [customers]: { eventId: '1714000000000-2', atMs: at('2026-05-01T10:02Z') },
      },
    });
    expect(decision).toEqual({
      due: true,
      consumes: {
        [orders]: { eventId: '1714000000000-7', atMs: at('2026-05-01T10:07Z') },
        [customers]: { eventId: '1714000000000-2', atMs: at('2026-05-01T10:02Z') },
      },
      logicalDateMs: at('2026-05-01T10:07Z'),
      dataIntervalStartMs: at('2026-05-01T10:02Z'),
      dataIntervalEndMs: at('2026-05-01T10:07Z'),
      reason: 'all 2 datasets updated since the last run',
    });
  });

  it('is never due for an empty list', () => {
    expect(evaluateDatasetTrigger([], { lastConsumedEventIds: {}, latestUpdates: {} }).due).toBe(false);
  });
});

describe('datasetRunsDue', () => {
  const schedule: ScheduleSpec = { kind: 'datasets', datasets, orCron: { cron: '0 0 * * *', timezone: 'UTC' } };
  const dag: TimedDag = { id: 'report', schedule, catchup: false, maxActiveRuns: 2 };
  const updated: DatasetState = {
    lastConsumedEventIds: {},
    latestUpdates: {
      [orders]: { eventId: '0007', atMs: at('2026-05-01T09:00Z') },
      [customers]: { eventId: '0002', atMs: at('2026-05-01T08:00Z') },
    },
  };

  it('creates the cron run and the dataset run, with deterministic ids', () => {
    const input = {
      dag,
      nowMs: at('2026-05-01T10:00Z'),
      lastScheduledFireMs: undefined,
      activeRunCount: 0,
      ...updated,
    };
    const result = datasetRunsDue(input);
    expect(result.timeRuns.map((run) => run.runId)).toEqual(['scheduled__2026-05-01T00:00:00.000Z__report']);
    expect(result.datasetRun).toMatchObject({
      logicalDateMs: at('2026-05-01T09:00Z'),
      dataIntervalStartMs: at('2026-05-01T08:00Z'),
      dataIntervalEndMs: at('2026-05-01T09:00Z'),
      consumes: updated.latestUpdates,
    });
    expect(result.datasetRun?.runId).toMatch(/^dataset__2026-05-01T09:00:00\.000Z__report__[0-9a-f]{8}$/);
    // A second scheduler evaluating the same state computes the same run.
    expect(datasetRunsDue(input).datasetRun?.runId).toBe(result.datasetRun?.runId);
  });

  it('keeps a due dataset run waiting, unconsumed, while no run slot is free', () => {
    const result = datasetRunsDue({
      dag,
      nowMs: at('2026-05-01T10:00Z'),
      lastScheduledFireMs: undefined,
      activeRunCount: 1, // one slot left, taken by the cron run
      ...updated,
    });
    expect(result.timeRuns).toHaveLength(1);
    expect(result.datasetRun).toBeUndefined();
    expect(result.decision.reason).toBe('due, but waiting for a free run slot (maxActiveRuns 2)');
  });

  it('does nothing for a DAG not scheduled on datasets', () => {
    const result = datasetRunsDue({
      dag: { ...dag, schedule: { kind: 'cron', cron: '0 0 * * *', timezone: 'UTC' } },
      nowMs: at('2026-05-01T10:00Z'),
      lastScheduledFireMs: undefined,
      activeRunCount: 0,
      ...updated,
    });
    expect(result).toMatchObject({ timeRuns: [], datasetRun: undefined, decision: { due: false } });
  });
});

describe('compareEventIds', () => {
  it.each([
    ['1714000000000-1', '1714000000000-10', -1],
    ['999-0', '1000-0', -1],
    ['1000-0', '1000-0', 0],
    ['1000', '1000-0', 0],
    ['0009', '0010', -1],
    ['0010', '0009', 1],
    ['b', 'a', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareEventIds(a, b))).toBe(sign);
  });
});
