// Which attempts a cancel names: a clear stops one attempt (its try number), so the instance's next try,
// submitted right after, is not refused by a worker that remembers the cancellation.
import type { TaskJob } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { RecentCancels } from '../../src/bullmq/recent-cancels.js';
import { cancelMatches, decodeCancel } from '../../src/bullmq/wire.js';
import { makeJob } from '../local/harness.js';

const attempt = (tryNumber: number): TaskJob => ({ ...makeJob('each', { runId: 'r1' }), mapIndex: 1, tryNumber });

describe('cancel filters', () => {
  it.each([
    [{ runId: 'r1' }, [true, true]],
    [{ runId: 'r1', taskId: 'each', mapIndex: 1 }, [true, true]],
    [{ runId: 'r1', taskId: 'each', mapIndex: 1, tryNumber: 1 }, [true, false]],
    [{ runId: 'r2' }, [false, false]],
  ])('%j matches tries 1 and 2: %j', (filter, expected) => {
    expect([cancelMatches(filter, attempt(1)), cancelMatches(filter, attempt(2))]).toEqual(expected);
  });

  it('keeps the try number through the wire, and a remembered cancel of try 1 does not refuse try 2', () => {
    const message = decodeCancel(
      JSON.stringify({ runId: 'r1', taskId: 'each', mapIndex: 1, tryNumber: 1, reason: 'clear' }),
    );
    expect(message?.tryNumber).toBe(1);
    const recent = new RecentCancels(60_000);
    recent.remember(message!, 0);
    expect(recent.find(attempt(1), 10)).toBeDefined();
    expect(recent.find(attempt(2), 10)).toBeUndefined();
  });
});
