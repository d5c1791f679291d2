import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, type RetryPolicy } from '../../src/dag/model.js';
import { fnv1a32, MAX_RETRY_DELAY_MS, retryDelayMs, shouldRetry } from '../../src/run/retry.js';

const policy = (overrides: Partial<RetryPolicy>): RetryPolicy => ({ ...DEFAULT_RETRY, ...overrides });
const at = (tryNumber: number, taskId = 'extract') => ({ runId: 'run_1', taskId, mapIndex: -1, tryNumber });

describe('retryDelayMs', () => {
  it('waits delayMs every time with fixed backoff', () => {
    const fixed = policy({ backoff: 'fixed', delayMs: 300_000 });
    expect([1, 2, 5].map((n) => retryDelayMs(fixed, at(n)))).toEqual([300_000, 300_000, 300_000]);
  });

  it('doubles from delayMs with exponential backoff and no jitter', () => {
    const exponential = policy({ backoff: 'exponential', delayMs: 1000, jitter: false });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(exponential, at(n)))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(policy({ backoff: 'exponential', delayMs: 1.5, jitter: false }), at(1))).toBe(2);
  });

  it('keeps jittered delays in [m, 2m), the same for the same attempt and spread across attempts', () => {
    const jittered = policy({ backoff: 'exponential', delayMs: 1000, jitter: true });
    const seen = new Set<number>();
    for (let task = 0; task < 200; task++) {
      for (let tryNumber = 1; tryNumber <= 4; tryNumber++) {
        const m = 1000 * 2 ** (tryNumber - 1);
        const delay = retryDelayMs(jittered, at(tryNumber, `task_${task}`));
        expect(delay).toBeGreaterThanOrEqual(m);
        expect(delay).toBeLessThan(2 * m);
        expect(retryDelayMs(jittered, at(tryNumber, `task_${task}`))).toBe(delay);
        if (tryNumber === 1) seen.add(delay);
      }
    }
    expect(seen.size).toBeGreaterThan(150);
    const other = { ...at(1), mapIndex: 3 };
    expect(retryDelayMs(jittered, other)).toBe(retryDelayMs(jittered, { ...other }));
  });

  it('caps every delay at maxDelayMs and never above 24 h', () => {
    const capped = policy({ backoff: 'exponential', delayMs: 1000, jitter: true, maxDelayMs: 5000 });
    expect(retryDelayMs(capped, at(10))).toBe(5000);
    const huge = policy({
      backoff: 'exponential',
      delayMs: 60_000,
      jitter: false,
      maxDelayMs: 10 * MAX_RETRY_DELAY_MS,
    });
    expect(retryDelayMs(huge, at(60))).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(huge, at(5000))).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(policy({ backoff: 'fixed', delayMs: 90_000, maxDelayMs: 60_000 }), at(1))).toBe(60_000);
  });

  it('hashes with 32-bit FNV-1a', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('shouldRetry', () => {
  const threeRetries = policy({ retries: 3, nonRetryable: ['ValidationError', 'E_BAD_INPUT'] });

  it('retries until retries + 1 attempts have run', () => {
    expect(shouldRetry(threeRetries, 1, { message: 'x' })).toEqual({
      retry: true,
      reason: 'try 1 of 4 failed; 3 left',
    });
    expect(shouldRetry(threeRetries, 3, { message: 'x' }).retry).toBe(true);
    expect(shouldRetry(threeRetries, 4, { message: 'x' })).toEqual({
      retry: false,
      reason: 'not retried: all 4 tries used (retries: 3)',
    });
    expect(shouldRetry(policy({ retries: 0 }), 1, { message: 'x' }).reason).toBe(
      'not retried: the task has no retries',
    );
  });

  it('does not retry an error marked not retryable', () => {
    expect(shouldRetry(threeRetries, 1, { message: 'x', retryable: false })).toEqual({
      retry: false,
      reason: 'not retried: the error is marked not retryable',
    });
    expect(shouldRetry(threeRetries, 1, { message: 'x', retryable: true }).retry).toBe(true);
  });

  it('does not retry errors whose code or name is listed in nonRetryable', () => {
    expect(shouldRetry(threeRetries, 1, { message: 'x', name: 'ValidationError' }).retry).toBe(false);
    const byCode = shouldRetry(threeRetries, 1, { message: 'x', code: 'E_BAD_INPUT' });
    expect(byCode).toEqual({ retry: false, reason: "not retried: 'E_BAD_INPUT' is in the task's nonRetryable list" });
    expect(shouldRetry(threeRetries, 1, { message: 'x', code: 'TASK_TIMEOUT' }).retry).toBe(true);
  });
});
