// Run ids: deterministic where the scheduler may compute them twice, distinct across kinds and DAGs.
import { describe, expect, it } from 'vitest';
import { BatutaError } from '../../src/errors.js';
import { backfillRunId, datasetRunId, eventRunId, manualRunId, scheduledRunId } from '../../src/triggers/run-ids.js';

const date = Date.parse('2026-03-29T01:00:00Z');

describe('run ids', () => {
  it('derives the scheduled id from the DAG id and the logical date only', () => {
    expect(scheduledRunId('etl', date)).toBe('scheduled__2026-03-29T01:00:00.000Z__etl');
    expect(scheduledRunId('etl', date)).toBe(scheduledRunId('etl', date));
    expect(scheduledRunId('etl', date)).not.toBe(scheduledRunId('etl2', date));
    expect(scheduledRunId('etl', date)).not.toBe(scheduledRunId('etl', date + 1));
  });

  it('never gives a manual, event, dataset or backfill run the scheduled id of the same date', () => {
    const scheduled = scheduledRunId('etl', date);
    const others = [
      manualRunId('etl', date, 'a1b2c3d4'),
      eventRunId('etl', 'file-arrived', '1774746000000-0'),
      datasetRunId('etl', date, { 's3://raw': '0001' }),
      backfillRunId('etl', date, 2),
    ];
    expect(others).not.toContain(scheduled);
    expect(new Set(others).size).toBe(others.length);
    expect(others).toEqual([
      'manual__2026-03-29T01:00:00.000Z__etl__a1b2c3d4',
      'event__file-arrived__1774746000000-0__etl',
      expect.stringMatching(/^dataset__2026-03-29T01:00:00\.000Z__etl__[0-9a-f]{8}$/),
      'backfill__2026-03-29T01:00:00.000Z__etl__2',
    ]);
  });

  it('separates two manual triggers in the same millisecond by their nonce', () => {
    expect(manualRunId('etl', date, 'x')).not.toBe(manualRunId('etl', date, 'y'));
  });

  it('derives the dataset id from the consumed updates, whatever their order', () => {
    const a = datasetRunId('etl', date, { one: '1-0', two: '2-0' });
    expect(datasetRunId('etl', date, { two: '2-0', one: '1-0' })).toBe(a);
    expect(datasetRunId('etl', date, { one: '1-0', two: '3-0' })).not.toBe(a);
  });

  it('rejects an invalid logical date', () => {
    expect(() => scheduledRunId('etl', Number.NaN)).toThrow(BatutaError);
    expect(() => scheduledRunId('etl', 9e15)).toThrow(/valid time/);
  });
});
