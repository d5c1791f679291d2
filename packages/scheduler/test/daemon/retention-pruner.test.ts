// Retention (issue #10, point 7): ended runs older than the retention go in the background, a bounded
// batch per pass; runs in flight and recent runs stay. Time is a number the test moves.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RetentionPruner } from '../../src/daemon/retention-pruner.js';
import { SchedulerDaemon } from '../../src/daemon/scheduler-daemon.js';
import { MemoryLogStore } from '../../src/logs/memory-log-store.js';
import { RunCoordinator } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { recordingLog, runRecord, START, silentExecutor } from './helpers.js';

const DAY = 86_400_000;

async function endedRuns(store: MemoryStateStore, count: number, atMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const runId = `old-${String(i).padStart(3, '0')}`;
    await store.createRun(runRecord(runId, 'etl', { state: 'success', logicalDateMs: atMs, endMs: atMs + 1 }));
  }
}

describe('RetentionPruner', () => {
  it('removes ended runs older than the retention, one bounded batch per due pass, and keeps the rest', async () => {
    const store = new MemoryStateStore();
    await endedRuns(store, 5, START);
    await store.createRun(runRecord('running', 'etl', { state: 'running', logicalDateMs: START }));
    await store.createRun(
      runRecord('recent', 'etl', { state: 'failed', logicalDateMs: START + 29 * DAY, endMs: START + 29 * DAY }),
    );
    const { events, log } = recordingLog();
    const pruner = new RetentionPruner({ store, policy: { runsMs: 30 * DAY, batchSize: 2, everyMs: 60_000 }, log });
    const now = START + 31 * DAY;
    expect((await pruner.prune(now)).map((r) => r.runId)).toEqual(['old-000', 'old-001']);
    // A full batch means more waits: the next pass prunes at once rather than after everyMs.
    expect((await pruner.prune(now + 1)).map((r) => r.runId)).toEqual(['old-002', 'old-003']);
    expect((await pruner.prune(now + 2)).map((r) => r.runId)).toEqual(['old-004']);
    expect(await pruner.prune(now + 3)).toEqual([]);
    expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(['recent', 'running']);
    expect(events.filter((e) => e.event === 'runs_pruned').map((e) => e.count)).toEqual([2, 2, 1]);
  });

  it("removes a pruned run's task logs with it, and keeps the logs of runs it keeps", async () => {
    const store = new MemoryStateStore();
    const logStore = new MemoryLogStore();
    await endedRuns(store, 1, START);
    await store.createRun(runRecord('running', 'etl', { state: 'running', logicalDateMs: START }));
    const line = { atMs: START, stream: 'stdout' as const, text: 'hello' };
    for (const runId of ['old-000', 'running']) {
      await logStore.append({ runId, taskId: 't', mapIndex: -1, tryNumber: 1 }, [line]);
    }
    const pruner = new RetentionPruner({
      store,
      policy: { runsMs: 30 * DAY, everyMs: 0 },
      log: recordingLog().log,
      logStore,
    });
    expect((await pruner.prune(START + 31 * DAY)).map((r) => r.runId)).toEqual(['old-000']);
    expect(await logStore.tries('old-000', 't', -1)).toEqual([]);
    expect(await logStore.tries('running', 't', -1)).toEqual([1]);
  });

  it('is wired into the scheduler daemon: a pass prunes when the daemon has a retention policy', async () => {
    const store = new MemoryStateStore();
    await endedRuns(store, 3, START - 40 * DAY);
    const clock = new ManualClock(START);
    const coordinator = new RunCoordinator({ store, executor: silentExecutor, clock });
    const daemon = new SchedulerDaemon({
      store,
      coordinator,
      clock,
      dags: () => new Map(),
      retention: { runsMs: 30 * DAY },
    });
    await daemon.pass();
    expect(await store.listRuns()).toEqual([]);
  });
});
