// The shared FNV-1a: its values are persisted (dataset run ids) and compared across processes (scheduler
// shares, retry jitter), so they are pinned here against the values the three former copies produced.
import { describe, expect, it } from 'vitest';
import { datasetRunId } from '../../src/triggers/run-ids.js';
import { fnv1a32 } from '../../src/util/fnv1a.js';

describe('fnv1a32', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
    ['dag_0', 0xb14b2c4c],
    ['share_7', 0x15ef7e56],
    ['ñandú→λ', 0x25566d8a],
  ])('hashes %j to the published 32-bit FNV-1a value', (text, expected) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (const text of ['x', 'scheduler-a', 'run|task|0|3']) {
      const hash = fnv1a32(text);
      expect(Number.isInteger(hash)).toBe(true);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThan(2 ** 32);
    }
  });

  it('keeps the dataset run ids that stores already hold', () => {
    const date = Date.parse('2026-03-29T01:00:00Z');
    expect(datasetRunId('consumer', date, { 's3://lake/b': '17-0', 's3://lake/a': '12-3' })).toBe(
      'dataset__2026-03-29T01:00:00.000Z__consumer__bc1f448a',
    );
    expect(datasetRunId('x', 0, {})).toBe('dataset__1970-01-01T00:00:00.000Z__x__811c9dc5');
  });
});
