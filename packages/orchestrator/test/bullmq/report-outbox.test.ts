// The report outbox on a real Redis: a batch Redis refuses is kept and sent again until it is taken
// (never dropped), a report whose lock was lost still goes out (marked late), and a stopped outbox gives
// up what it still holds.
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { ReportOutbox } from '../../src/bullmq/report-outbox.js';
import { decodeReports, REPORT_HASH_FIELD, type WorkerReport } from '../../src/bullmq/wire.js';
import { eventually } from './harness.js';

const harness = useRedisServer();

function setUp() {
  const namespace = harness.namespace('outbox');
  const stream = `batuta:${namespace}:orch:results`;
  const jobKey = `batuta:${namespace}:pool:cpu:job1`;
  const errors: unknown[] = [];
  const outbox = new ReportOutbox(harness.redis, stream, (error) => errors.push(error));
  const finished: WorkerReport = {
    kind: 'finished',
    jobId: 'job1',
    outcome: { status: 'success', output: 1 },
    startedMs: 1,
    endedMs: 2,
    worker: 'w',
  };
  const streamReports = async () =>
    (await harness.redis.xrange(stream, '-', '+')).flatMap(([, fields]) => decodeReports(fields[1] ?? ''));
  return { outbox, errors, stream, jobKey, finished, streamReports };
}

/** Makes Redis refuse every write (as a full disk or a lost replica does) until `allowWrites`. */
async function refuseWrites(): Promise<void> {
  await harness.redis.config('SET', 'min-replicas-to-write', '1');
}
async function allowWrites(): Promise<void> {
  await harness.redis.config('SET', 'min-replicas-to-write', '0');
}

describe('ReportOutbox', () => {
  it('keeps a report Redis refused and sends it again once Redis takes writes', async () => {
    const { outbox, errors, jobKey, finished, streamReports } = setUp();
    await harness.redis.set(`${jobKey}:lock`, 'token');
    await harness.redis.hset(jobKey, 'name', 'job');
    await refuseWrites();
    let answer: string | undefined;
    try {
      void outbox.postLocked(finished, jobKey, 'token').then((appended) => {
        answer = appended;
      });
      await eventually(() => errors.length >= 2, 'the report to be refused and tried again');
      expect(answer).toBeUndefined();
      expect(outbox.pendingCount).toBe(1);
    } finally {
      await allowWrites();
    }
    await eventually(() => answer !== undefined, 'the report to be taken');
    expect(answer).toBe('locked');
    expect(await streamReports()).toEqual([finished]);
    expect(decodeReports((await harness.redis.hget(jobKey, REPORT_HASH_FIELD)) ?? '')).toEqual([finished]);
  });

  it('appends a report whose lock another token holds, and says it went out late', async () => {
    const { outbox, jobKey, finished, streamReports } = setUp();
    await harness.redis.set(`${jobKey}:lock`, 'someone-else');
    expect(await outbox.postLocked(finished, jobKey, 'token')).toBe('late');
    expect(await streamReports()).toEqual([finished]);
  });

  it('gives up what it still holds when stopped (the post rejects)', async () => {
    const { outbox, jobKey, finished, streamReports } = setUp();
    await refuseWrites();
    try {
      const posted = outbox.postLocked(finished, jobKey, 'token');
      await eventually(() => outbox.pendingCount === 1, 'the report to wait for Redis');
      outbox.stop();
      await expect(posted).rejects.toThrow(/closed before Redis took/);
    } finally {
      await allowWrites();
    }
    expect(await streamReports()).toEqual([]);
  });
});
