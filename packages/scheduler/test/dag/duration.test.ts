import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationProblem, formatDuration, parseDuration } from '../../src/dag/duration.js';
import { BatutaError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['0s', 0],
    ['1.5h', 5_400_000],
    ['0.1s', 100],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'cannot be empty'],
    ['30', "has no unit; write e.g. '30s' for seconds or '30ms' for milliseconds"],
    ['10x', "unknown unit 'x'; use ms, s, m, h or d"],
    ['2w', "weeks are not a unit; write days, e.g. '7d'"],
    ['5M', "'M' is ambiguous"],
    ['5H', "units are lower case: 'h'"],
    ['30m1h', 'units go from largest to smallest'],
    ['1h1h', 'units go from largest to smallest'],
    ['1h 30m', 'contains spaces'],
    ['-5s', 'is negative'],
    ['1h30', 'ends with a number without a unit'],
    ['0.5ms', 'not a whole number of milliseconds'],
    ['soon', 'is not a duration'],
  ])('refuses %j: %s', (text, fragment) => {
    expect(durationProblem(text)).toContain(fragment);
    expect(() => parseDuration(text)).toThrow(BatutaError);
  });

  it('refuses a number at run time with a pointer to the string form', () => {
    expect(() => parseDuration(30 as unknown as string)).toThrow("expected a duration string such as '30s'");
  });

  it('reads back what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });
});
