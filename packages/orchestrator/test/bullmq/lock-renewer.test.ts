import { describe, expect, it } from 'vitest';
import { LockRenewer } from '../../src/bullmq/lock-renewer.js';

/** A renewer whose `extend` records its calls and fails the ids in `failing`. */
function renewerWith(failing: Set<string>, options: { throws?: boolean } = {}) {
  const calls: Array<{ jobIds: string[]; tokens: string[]; durationMs: number }> = [];
  const lost: string[] = [];
  const errors: unknown[] = [];
  const renewer = new LockRenewer({
    lockDurationMs: 30_000,
    extend: async (jobIds, tokens, durationMs) => {
      calls.push({ jobIds, tokens, durationMs });
      if (options.throws) throw new Error('redis is down');
      return jobIds.filter((id) => failing.has(id));
    },
    onLost: (jobId) => lost.push(jobId),
    onError: (error) => errors.push(error),
  });
  return { renewer, calls, lost, errors };
}

describe('LockRenewer', () => {
  it('extends every tracked lock in one call, with its token and the lock duration', async () => {
    const { renewer, calls } = renewerWith(new Set());
    renewer.track('a', 'ta');
    renewer.track('b', 'tb');
    renewer.untrack('a');
    await renewer.renew();
    expect(calls).toEqual([{ jobIds: ['b'], tokens: ['tb'], durationMs: 30_000 }]);
  });

  it('makes no call when nothing is tracked', async () => {
    const { renewer, calls } = renewerWith(new Set());
    await renewer.renew();
    expect(calls).toEqual([]);
  });

  it('reports a lock it could not extend once, and stops renewing it', async () => {
    const { renewer, calls, lost } = renewerWith(new Set(['b']));
    renewer.track('a', 'ta');
    renewer.track('b', 'tb');
    await renewer.renew();
    await renewer.renew();
    expect(lost).toEqual(['b']);
    expect(calls[1]?.jobIds).toEqual(['a']);
  });

  it('renews the leases held beside a kept lock, not beside a lost one', async () => {
    const { renewer } = renewerWith(new Set(['lost']));
    const renewed: string[] = [];
    renewer.track('kept', 't1', async () => {
      renewed.push('kept');
    });
    renewer.track('lost', 't2', async () => {
      renewed.push('lost');
    });
    await renewer.renew();
    expect(renewed).toEqual(['kept']);
  });

  it('reports a failed call as an error and loses no lock over it', async () => {
    const { renewer, lost, errors } = renewerWith(new Set(), { throws: true });
    renewer.track('a', 'ta');
    await renewer.renew();
    expect(lost).toEqual([]);
    expect(errors).toHaveLength(1);
  });
});
