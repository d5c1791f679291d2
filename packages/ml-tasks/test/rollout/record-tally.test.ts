// RecordTally: what `batuta serve` sums between two writes of its figures. Written with recordTally, it
// must give the counters and the log entry's counts that recordMany gives for the same requests (the
// figures the guards and the SRM check read), with a bounded, evenly spaced sample of assignments.
import { useRedisServer } from '@batuta/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RecordOutcome, RecordTally, RolloutStore } from '../../src/rollout/rollout-store.js';
import type { Route } from '../../src/rollout/router.js';

const harness = useRedisServer();

const routes: Route[] = [
  { arm: 'holdout' },
  { arm: 'baseline', version: 'v1' },
  { arm: 'candidate', version: 'v2' },
  { arm: 'baseline', version: 'v1', shadow: 'v2' },
];

const entry = fc.record({
  route: fc.constantFrom(...routes),
  error: fc.boolean(),
  compared: fc.boolean(),
  disagreed: fc.boolean(),
  key: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
});

type Entry = RecordOutcome & { route: Route };
const withoutUndefined = (e: object): Entry =>
  Object.fromEntries(Object.entries(e).filter(([, value]) => value !== undefined)) as Entry;

async function assignedEntry(store: RolloutStore) {
  const [newest] = await store.recentLog({ count: 1, withAssignments: true });
  return newest?.fields;
}

describe('RecordTally', () => {
  it('writes the same counters and assignment counts as recordMany for the same requests', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 120 }), async (raw) => {
        const entries = raw.map(withoutUndefined);
        run++;
        const direct = new RolloutStore(harness.redis, { model: 'm', namespace: harness.namespace(`direct-${run}`) });
        const summed = new RolloutStore(harness.redis, { model: 'm', namespace: harness.namespace(`summed-${run}`) });
        await direct.recordMany(entries);
        const tally = summed.tally();
        for (const e of entries) tally.add(e);
        expect(tally.requests).toBe(entries.length);
        await summed.recordTally(tally);
        expect(await summed.figures()).toEqual(await direct.figures());
        const [a, b] = [await assignedEntry(direct), await assignedEntry(summed)];
        expect(b?.n).toBe(a?.n);
        expect(b?.arms === undefined ? undefined : JSON.parse(b.arms)).toEqual(
          a?.arms === undefined ? undefined : JSON.parse(a.arms),
        );
      }),
      { numRuns: 40 },
    );
  });

  it('keeps an evenly spaced sample of the assignments in bounded memory', () => {
    const tally = new RecordTally(20);
    for (let i = 0; i < 10_000; i++) tally.add({ route: routes[1]!, key: `k${i}` });
    const sample = tally.sample();
    expect(sample.length).toBeGreaterThanOrEqual(10);
    expect(sample.length).toBeLessThanOrEqual(20);
    const indexes = sample.map(([key]) => Number(key.slice(1)));
    // In order, from the whole range, and evenly spaced (equal steps between neighbours).
    expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
    expect(indexes[0]).toBe(0);
    expect(indexes.at(-1)!).toBeGreaterThan(9_000);
    // Whatever the count, never more than the sample size, each step the same.
    for (const count of [19, 20, 21, 39, 40, 41, 333, 5_000]) {
      const t = new RecordTally(20);
      for (let i = 0; i < count; i++) t.add({ route: routes[1]!, key: `c${i}` });
      const picked = t.sample().map(([key]) => Number(key.slice(1)));
      expect(picked.length, String(count)).toBeLessThanOrEqual(20);
      expect(picked.length, String(count)).toBeGreaterThanOrEqual(Math.min(count, 10));
      expect(new Set(picked.slice(1).map((value, i) => value - picked[i]!)).size, String(count)).toBeLessThanOrEqual(1);
    }
    const steps = new Set(indexes.slice(1).map((value, i) => value - indexes[i]!));
    expect(steps.size).toBe(1);
    expect(sample.every(([, arm]) => arm === 'v1')).toBe(true);
    // Fewer keyed requests than the sample size: every one of them.
    const small = new RecordTally(20);
    for (let i = 0; i < 7; i++) small.add({ route: routes[2]!, key: `s${i}` });
    small.add({ route: routes[0]! });
    expect(small.sample().map(([key]) => key)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(small.keyed).toBe(7);
    expect(small.assigned).toEqual({ v2: 7 });
  });

  it('writes nothing for an empty tally', async () => {
    const store = new RolloutStore(harness.redis, { model: 'm', namespace: harness.namespace('empty') });
    await store.recordTally(store.tally());
    expect((await store.figures()).arms).toEqual({});
    expect(await assignedEntry(store)).toBeUndefined();
  });
});
