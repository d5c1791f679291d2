// The fire runner on a memory store and a real coordinator (with an executor that runs nothing): a fire
// creates its due runs in one call and starts them under lease, logs the fire and each run's lateness,
// records a run its params reject, and forgets a new DAG whose first fire failed.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { FireRunner } from '../../src/daemon/fire-runner.js';
import { PeerDirectory } from '../../src/daemon/peer-directory.js';
import { RunLeases } from '../../src/daemon/run-leases.js';
import { RunCoordinator } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import type { DagRunRecord } from '../../src/store/state-store.js';
import { FirePlanner } from '../../src/triggers/fire-planner.js';
import { scheduledRunId } from '../../src/triggers/run-ids.js';
import { byId, dagOf, MINUTE, recordingLog, START, silentExecutor } from './helpers.js';

function runnerFor(store: MemoryStateStore, clock: ManualClock) {
  const schedulerId = 'a';
  const coordinator = new RunCoordinator({ store, executor: silentExecutor, clock });
  const planner = new FirePlanner({ pollMs: 1_000 });
  const peers = new PeerDirectory({ store, schedulerId, leaseTtlMs: 30_000, shareGraceMs: 2_000 });
  const leases = new RunLeases({ store, schedulerId, ttlMs: 30_000 });
  const { events, log } = recordingLog();
  const runner = new FireRunner({ store, coordinator, planner, peers, leases, clock, pollMs: 1_000, log });
  return { runner, planner, leases, events };
}

describe('FireRunner', () => {
  it('creates the due runs of a fire, starts them under lease and logs the fire and each run', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock(START + 5);
    const dags = byId(
      dagOf('one', { schedule: '* * * * *' }),
      dagOf('two', { schedule: '* * * * *' }),
      dagOf('manual'),
    );
    const { runner, leases, events } = runnerFor(store, clock);
    await runner.fire(dags, clock.now());
    const runs = await store.listRuns({});
    expect(runs.map((r) => r.runId).sort()).toEqual([scheduledRunId('one', START), scheduledRunId('two', START)]);
    expect(runs.every((r) => r.state === 'running')).toBe(true);
    expect(await leases.ownerOf(scheduledRunId('one', START), clock.now())).toBe('a');
    const created = events.filter((e) => e.event === 'run_created');
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({
      kind: 'scheduled',
      logicalDateMs: START,
      latenessMs: 5,
      confirmedLatenessMs: 5,
    });
    const fire = events.find((e) => e.event === 'fire');
    expect(fire).toMatchObject({ fireMs: clock.now(), dagsDue: 2, runsCreated: 2, passLateMs: 0, createMs: 0 });
    clock.set(START + MINUTE + 40);
    await runner.fire(dags, clock.now());
    expect(events.filter((e) => e.event === 'fire').at(-1)).toMatchObject({ fireMs: START + MINUTE, passLateMs: 40 });
  });

  it('records a scheduled run its params reject as failed, once, and moves the DAG on', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock(START);
    const needy = dagOf('needy', { schedule: '* * * * *', params: { region: { type: 'string', required: true } } });
    const { runner, planner, events } = runnerFor(store, clock);
    await runner.fire(byId(needy), START);
    await runner.fire(byId(needy), START + 1);
    const [run] = await store.listRuns({});
    expect(run).toMatchObject({ state: 'failed', logicalDateMs: START, dataIntervalEndMs: START });
    expect(run!.reason).toMatch(/^scheduled run rejected: .*region/);
    expect(events.filter((e) => e.event === 'run_rejected')).toHaveLength(1);
    expect(planner.nextFires().get('needy')).toBe(START + MINUTE);
  });

  it('forgets a new DAG whose first fire failed, so the next pass plans it afresh', async () => {
    class FailingStore extends MemoryStateStore {
      failing = true;
      override async createRuns(runs: readonly DagRunRecord[]) {
        if (this.failing) throw new Error('store hiccup');
        return super.createRuns(runs);
      }
    }
    const store = new FailingStore();
    const clock = new ManualClock(START);
    const dags = byId(dagOf('fresh', { schedule: '* * * * *' }));
    const { runner, planner } = runnerFor(store, clock);
    await expect(runner.fire(dags, START)).rejects.toThrow('store hiccup');
    expect(planner.nextFires().has('fresh')).toBe(false);
    store.failing = false;
    await runner.fire(dags, START + 1_000);
    expect((await store.listRuns({})).map((r) => r.logicalDateMs)).toEqual([START]);
  });

  it('after a store outage, logs the fires a DAG without catchup skips and creates them all with catchup', async () => {
    class FailingStore extends MemoryStateStore {
      failing = false;
      override async createRuns(runs: readonly DagRunRecord[]) {
        if (this.failing) throw new Error('Redis is away');
        return super.createRuns(runs);
      }
    }
    const store = new FailingStore();
    const clock = new ManualClock(START);
    const dags = byId(
      dagOf('latest_only', { schedule: '* * * * *' }),
      dagOf('every_fire', { schedule: '* * * * *', catchup: true }),
    );
    const { runner, events } = runnerFor(store, clock);
    await runner.fire(dags, START);
    store.failing = true;
    for (const minute of [1, 2, 3]) {
      clock.set(START + minute * MINUTE);
      await expect(runner.fire(dags, clock.now())).rejects.toThrow('Redis is away');
    }
    store.failing = false;
    clock.set(START + 3 * MINUTE + 5);
    await runner.fire(dags, clock.now());
    const dates = async (dagId: string) =>
      (await store.listRuns({ dagId })).map((run) => run.logicalDateMs).sort((a, b) => a - b);
    expect(await dates('latest_only')).toEqual([START, START + 3 * MINUTE]);
    expect(await dates('every_fire')).toEqual([0, 1, 2, 3].map((minute) => START + minute * MINUTE));
    const skipped = events.filter((e) => e.event === 'fire_skipped');
    expect(skipped).toEqual([
      expect.objectContaining({
        dagId: 'latest_only',
        logicalDatesMs: [START + MINUTE, START + 2 * MINUTE],
        more: false,
        instead: START + 3 * MINUTE,
      }),
    ]);
  });

  it('creates no run of a paused DAG', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock(START);
    await store.setDagPaused('resting', true);
    const { runner, planner } = runnerFor(store, clock);
    await runner.fire(byId(dagOf('resting', { schedule: '* * * * *' })), START);
    expect(await store.listRuns({})).toEqual([]);
    expect(planner.nextFires().get('resting')).toBe(START + MINUTE);
  });
});
