// The embedded executor writes each attempt's lines to its LogStore, stamped by its injected clock, and
// stores the last ones with the end mark before it reports the attempt.
import { ManualClock, MemoryLogStore, type TaskResult } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/local/local-executor.js';
import { makeJob, RecordingListener } from './harness.js';

describe('LocalExecutor logs', () => {
  it('stores every line with its stream and the end mark before finished is reported', async () => {
    const clock = new ManualClock(1_000);
    const logStore = new MemoryLogStore();
    const job = makeJob('talk');
    const attempt = { runId: job.runId, taskId: job.taskId, mapIndex: job.mapIndex, tryNumber: job.tryNumber };
    let seenAtFinish: { lines: number; ended: boolean } | undefined;
    class Probe extends RecordingListener {
      override finished(result: TaskResult): void {
        super.finished(result);
        void logStore.read(attempt).then((page) => {
          seenAtFinish = { lines: page.lines.length, ended: page.ended };
        });
      }
    }
    const listener = new Probe();
    const executor = new LocalExecutor({
      capacity: { cpu: 1, memoryMb: 1024, gpu: 0, custom: {} },
      clock,
      logStore,
      invoke: async (_job, _signal, report) => {
        report.log('out', 'stdout');
        clock.advance(5);
        report.log('err', 'stderr');
        report.log('note');
        return 1;
      },
    });
    await executor.start(listener);
    await executor.submit(job);
    await listener.waitFor(() => listener.results().length > 0);
    for (let spins = 0; seenAtFinish === undefined && spins < 1_000; spins++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(seenAtFinish).toEqual({ lines: 3, ended: true });
    expect((await logStore.read(attempt)).lines).toEqual([
      { atMs: 1_000, stream: 'stdout', text: 'out' },
      { atMs: 1_005, stream: 'stderr', text: 'err' },
      { atMs: 1_005, stream: 'log', text: 'note' },
    ]);
    await executor.close();
  });
});
