import { main } from '@batuta/cli';
import { describe, expect, it, vi } from 'vitest';
import { stallDetectionOf } from '../src/commands/worker-stall-detection.js';

describe('worker stall detection settings', () => {
  it.each([
    [{}, {}, {}],
    [{ 'lock-duration': '6s', 'stalled-interval': '4s' }, {}, { lockDurationMs: 6_000, stalledIntervalMs: 4_000 }],
    [{}, { BATUTA_WORKER_LOCK_DURATION: '8s' }, { lockDurationMs: 8_000 }],
    [{}, { BATUTA_WORKER_STALLED_INTERVAL: '1500ms' }, { stalledIntervalMs: 1_500 }],
    [{ 'lock-duration': '10s' }, { BATUTA_WORKER_LOCK_DURATION: '1m' }, { lockDurationMs: 10_000 }],
    [{ 'outage-grace': '2m' }, { BATUTA_OUTAGE_GRACE: '10m' }, { outageGraceMs: 120_000 }],
    [{}, { BATUTA_OUTAGE_GRACE: '0s' }, { outageGraceMs: 0 }],
  ])('reads flags %j over environment %j', (flags, env, expected) => {
    expect(stallDetectionOf(flags, env)).toEqual(expected);
  });

  it.each([
    [{ 'lock-duration': '10' }, /not a duration/],
    [{ 'lock-duration': '1s' }, /below the minimum/],
    [{ 'stalled-interval': '100ms' }, /below the minimum/],
    [{ 'outage-grace': 'soon' }, /--outage-grace .*not a duration/],
  ])('refuses %j', (flags, message) => {
    expect(() => stallDetectionOf(flags, {})).toThrow(message);
  });

  it('is accepted by `batuta worker` and a bad value is a usage error (exit 2)', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = await main(['worker', '--pool', 'default', '--lock-duration', '1s', '--stalled-interval', '2s']);
      expect(code).toBe(2);
      expect(errors.mock.calls.flat().join('\n')).toMatch(/--lock-duration .*below the minimum/);
    } finally {
      errors.mockRestore();
    }
  });
});
