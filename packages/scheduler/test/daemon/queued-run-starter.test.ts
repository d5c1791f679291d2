// Starting queued runs: oldest first, within maxActiveRuns, never while paused, and never a run whose
// lease another scheduler holds; a run another scheduler started first gives its lease back.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { QueuedRunStarter } from '../../src/daemon/queued-run-starter.js';
import { RunLeases } from '../../src/daemon/run-leases.js';
import type { DagSpec } from '../../src/dag/model.js';
import { BatutaError } from '../../src/errors.js';
import type { RunHandle } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { byId, dagOf, recordingLog, runRecord, START } from './helpers.js';

/** A coordinator that starts a queued run by marking it running (or refuses, for the ids in `taken`). */
function fakeCoordinator(store: MemoryStateStore, taken = new Set<string>()) {
  const started: string[] = [];
  return {
    started,
    async startQueuedRun(_dag: DagSpec, runId: string): Promise<RunHandle | undefined> {
      if (taken.has(runId)) return undefined;
      await store.applyTransition(runId, { run: { patch: { state: 'running' }, expectState: 'queued' } });
      started.push(runId);
      return { runId, done: new Promise(() => {}) };
    },
  };
}

async function queue(store: MemoryStateStore, dagId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.createRun(runRecord(`${dagId}_${i}`, dagId, { logicalDateMs: START + i, createdMs: START + i }));
  }
}

function starterFor(store: MemoryStateStore, coordinator: ReturnType<typeof fakeCoordinator>, schedulerId = 'a') {
  const clock = new ManualClock(START);
  const leases = new RunLeases({ store, schedulerId, ttlMs: 30_000 });
  const { events, log } = recordingLog();
  return { events, leases, starter: new QueuedRunStarter({ store, coordinator, leases, clock, log }) };
}

describe('QueuedRunStarter', () => {
  it('starts the oldest queued runs up to maxActiveRuns, under this scheduler lease', async () => {
    const store = new MemoryStateStore();
    await queue(store, 'capped', 4);
    const coordinator = fakeCoordinator(store);
    const { starter, events, leases } = starterFor(store, coordinator);
    await starter.start(byId(dagOf('capped', { maxActiveRuns: 2 })));
    expect(coordinator.started).toEqual(['capped_0', 'capped_1']);
    expect(await leases.ownerOf('capped_0', START)).toBe('a');
    expect(events.map((e) => e.event)).toEqual(['run_started', 'run_started']);
    await starter.start(byId(dagOf('capped', { maxActiveRuns: 2 })));
    expect(coordinator.started).toHaveLength(2);
  });

  it('starts nothing of a paused DAG, nor of a DAG it does not know', async () => {
    const store = new MemoryStateStore();
    await queue(store, 'paused', 2);
    await queue(store, 'unknown', 2);
    await store.setDagPaused('paused', true);
    const coordinator = fakeCoordinator(store);
    await starterFor(store, coordinator).starter.start(byId(dagOf('paused')));
    expect(coordinator.started).toEqual([]);
  });

  it('leaves a run whose lease another scheduler holds, and gives back the lease of a run started elsewhere', async () => {
    const store = new MemoryStateStore();
    await queue(store, 'shared', 3);
    await new RunLeases({ store, schedulerId: 'b', ttlMs: 30_000 }).acquire('shared_0', START);
    const coordinator = fakeCoordinator(store, new Set(['shared_1']));
    const { starter, leases } = starterFor(store, coordinator);
    await starter.start(byId(dagOf('shared', { maxActiveRuns: 1 })));
    expect(coordinator.started).toEqual(['shared_2']);
    expect(await leases.ownerOf('shared_1', START)).toBeUndefined();
  });

  it('fails a run that cannot be started, with its reason, and starts the runs queued after it', async () => {
    const store = new MemoryStateStore();
    await queue(store, 'poisoned', 1);
    await queue(store, 'healthy', 2);
    const inner = fakeCoordinator(store);
    const coordinator = {
      started: inner.started,
      async startQueuedRun(dag: DagSpec, runId: string): Promise<RunHandle | undefined> {
        if (runId === 'poisoned_0') throw new Error('conf is not JSON-serializable');
        return inner.startQueuedRun(dag, runId);
      },
    };
    const { starter, events, leases } = starterFor(store, coordinator);
    await starter.start(byId(dagOf('poisoned'), dagOf('healthy')));
    expect(coordinator.started).toEqual(['healthy_0', 'healthy_1']);
    const poisoned = await store.getRun('poisoned_0');
    expect(poisoned?.state).toBe('failed');
    expect(poisoned?.reason).toContain('conf is not JSON-serializable');
    expect(await leases.ownerOf('poisoned_0', START)).toBeUndefined();
    expect(events.find((e) => e.event === 'run_rejected')).toMatchObject({ runId: 'poisoned_0', level: 'warn' });
  });

  it('leaves a run queued when the store is out of reach: an outage is no fault of the run', async () => {
    const store = new MemoryStateStore();
    await queue(store, 'outage', 1);
    const coordinator = {
      started: [] as string[],
      async startQueuedRun(): Promise<RunHandle | undefined> {
        throw new BatutaError('STORE_UNAVAILABLE', 'Redis at 127.0.0.1:1 is unreachable');
      },
    };
    const { starter } = starterFor(store, coordinator);
    await expect(starter.start(byId(dagOf('outage')))).rejects.toThrow(/unreachable/);
    expect((await store.getRun('outage_0'))?.state).toBe('queued');
  });
});
