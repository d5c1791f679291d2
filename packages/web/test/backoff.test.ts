// The UI's reconnect delays for a dropped event stream: doubling, capped, jittered in the upper half.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../ui/src/backoff.js';

describe('reconnectDelayMs', () => {
  it.each([
    [0, 0, 500],
    [0, 0.999_999, 1_000],
    [1, 0, 1_000],
    [3, 0, 4_000],
    [5, 0.999_999, 30_000],
    [50, 0, 15_000],
  ])('after %i failures with random %f waits %i ms', (failures, random, expected) => {
    expect(reconnectDelayMs(failures, random)).toBe(expected);
  });

  it('never waits less than half the ceiling nor more than 30 s, and never shrinks as failures grow', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, random) => {
        const delay = reconnectDelayMs(failures, random);
        expect(delay).toBeGreaterThanOrEqual(500);
        expect(delay).toBeLessThanOrEqual(30_000);
        expect(reconnectDelayMs(failures + 1, random)).toBeGreaterThanOrEqual(delay);
      }),
    );
  });
});
