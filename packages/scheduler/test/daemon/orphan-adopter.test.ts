// Orphan adoption: a running run nobody holds the lease of is resumed here; a run with a live driver, a
// run too young to be under its creator's lease yet, and this scheduler's own runs are left alone.
import { describe, expect, it } from 'vitest';
import { OrphanAdopter } from '../../src/daemon/orphan-adopter.js';
import { RunLeases } from '../../src/daemon/run-leases.js';
import type { DagSpec } from '../../src/dag/model.js';
import type { RunHandle } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { byId, dagOf, recordingLog, runRecord, START } from './helpers.js';

const TTL = 30_000;

describe('OrphanAdopter', () => {
  it('resumes only the running runs whose driver is gone', async () => {
    const store = new MemoryStateStore();
    const running = (runId: string, startMs: number) =>
      store.createRun(runRecord(runId, 'etl', { state: 'running', startMs }));
    await running('orphan', START);
    await running('driven', START);
    await running('young', START + TTL);
    await running('mine', START);
    await new RunLeases({ store, schedulerId: 'b', ttlMs: TTL }).acquire('driven', START + TTL);
    const resumed: string[] = [];
    const coordinator = {
      activeRunIds: () => ['mine'],
      async resumeRun(_dag: DagSpec, runId: string): Promise<RunHandle> {
        resumed.push(runId);
        return { runId, done: new Promise(() => {}) };
      },
    };
    const leases = new RunLeases({ store, schedulerId: 'a', ttlMs: TTL });
    const { events, log } = recordingLog();
    const adopter = new OrphanAdopter({ store, coordinator, leases, leaseTtlMs: TTL, log });
    await adopter.adopt(byId(dagOf('etl')), START + TTL + 1);
    expect(resumed).toEqual(['orphan']);
    expect(await leases.ownerOf('orphan', START + TTL + 1)).toBe('a');
    expect(events).toEqual([{ event: 'run_adopted', dagId: 'etl', runId: 'orphan' }]);
  });

  it('leaves the runs of a DAG it does not know to a scheduler that does', async () => {
    const store = new MemoryStateStore();
    await store.createRun(runRecord('stranger', 'elsewhere', { state: 'running', startMs: START }));
    const resumed: string[] = [];
    const coordinator = {
      activeRunIds: () => [],
      async resumeRun(_dag: DagSpec, runId: string): Promise<RunHandle> {
        resumed.push(runId);
        return { runId, done: new Promise(() => {}) };
      },
    };
    const leases = new RunLeases({ store, schedulerId: 'a', ttlMs: TTL });
    await new OrphanAdopter({ store, coordinator, leases, leaseTtlMs: TTL, log: () => {} }).adopt(
      byId(dagOf('etl')),
      START + TTL + 1,
    );
    expect(resumed).toEqual([]);
    expect(await leases.ownerOf('stranger', START + TTL + 1)).toBeUndefined();
  });

  it('adopts a run a stopping peer released at once, however young, and leaves one another peer holds', async () => {
    const store = new MemoryStateStore();
    await store.createRun(runRecord('released', 'etl', { state: 'running', startMs: START }));
    await store.createRun(runRecord('retaken', 'etl', { state: 'running', startMs: START }));
    await store.createRun(runRecord('ended', 'etl', { state: 'success', startMs: START }));
    await new RunLeases({ store, schedulerId: 'c', ttlMs: TTL }).acquire('retaken', START);
    const resumed: string[] = [];
    const coordinator = {
      activeRunIds: () => [],
      async resumeRun(_dag: DagSpec, runId: string): Promise<RunHandle> {
        resumed.push(runId);
        return { runId, done: new Promise(() => {}) };
      },
    };
    const leases = new RunLeases({ store, schedulerId: 'a', ttlMs: TTL });
    const { events, log } = recordingLog();
    const adopter = new OrphanAdopter({ store, coordinator, leases, leaseTtlMs: TTL, log });
    // One millisecond after the run started: `adopt` would call it too young to be an orphan.
    await adopter.adoptReleased(byId(dagOf('etl')), ['released', 'retaken', 'ended'], START + 1);
    expect(resumed).toEqual(['released']);
    expect(await leases.ownerOf('released', START + 1)).toBe('a');
    expect(events).toEqual([{ event: 'run_adopted', dagId: 'etl', runId: 'released', handedOver: true }]);
  });
});
