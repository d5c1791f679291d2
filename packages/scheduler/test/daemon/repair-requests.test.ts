// Clear/mark requests from the control stream: the run's lease decides which scheduler applies one, a
// lease held by a dead scheduler makes the request wait until it lapses, and each applies exactly once.
import { describe, expect, it } from 'vitest';
import { CONTROL_STREAM, ControlReader } from '../../src/daemon/control-reader.js';
import { REPAIR_DONE, REPAIR_REQUEST, type RepairDoneEvent, RepairRequests } from '../../src/daemon/repair-requests.js';
import { RunLeases, runLease } from '../../src/daemon/run-leases.js';
import type { DagSpec } from '../../src/dag/model.js';
import type { RepairRequest } from '../../src/run/repair.js';
import type { RepairOutcome } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { dag, task } from '../run/helpers.js';
import { recordingLog, START } from './helpers.js';

const spec: DagSpec = dag([task('a')], 'repaired');
const dags = new Map([[spec.id, spec]]);
const TTL = 1_000;

/** A scheduler's reader with a coordinator that records what it was asked to apply. */
function reader(store: MemoryStateStore, schedulerId: string, driving: string[] = []) {
  const applied: Array<{ runId: string; request: RepairRequest }> = [];
  const coordinator = {
    activeRunIds: () => driving,
    cancelRun: async () => false,
    async repairRun(_dag: DagSpec, runId: string, request: RepairRequest): Promise<RepairOutcome> {
      applied.push({ runId, request });
      const plan = { request, taskIds: ['a'], changes: [], runReason: '', aggregates: [] };
      return { runId, applied: true, plan };
    },
  };
  const leases = new RunLeases({ store, schedulerId, ttlMs: TTL });
  const { log } = recordingLog();
  const repairs = new RepairRequests({ store, coordinator, leases, schedulerId, log });
  return { control: new ControlReader({ store, coordinator, log, repairs }), applied };
}

async function failedRun(store: MemoryStateStore): Promise<string> {
  const runId = 'manual__r1';
  await store.createRun({
    runId,
    dagId: spec.id,
    kind: 'manual',
    state: 'failed',
    logicalDateMs: START,
    conf: {},
    createdMs: START,
  });
  return runId;
}

async function acks(store: MemoryStateStore): Promise<RepairDoneEvent[]> {
  return (await store.readEvents(CONTROL_STREAM))
    .filter((event) => event.type === REPAIR_DONE)
    .map((event) => event.payload as RepairDoneEvent);
}

const clear: RepairRequest = { action: 'clear', taskIds: ['a'] };

describe('RepairRequests', () => {
  it('is applied by the scheduler driving the run, not by the others', async () => {
    const store = new MemoryStateStore();
    const runId = await failedRun(store);
    await store.acquireLease(runLease(runId), 'a', TTL, START);
    const a = reader(store, 'a', [runId]);
    const b = reader(store, 'b');
    await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, { requestId: 'q1', runId, request: clear }, START);
    await b.control.read(START, dags);
    await a.control.read(START, dags);
    await b.control.read(START + 100, dags);
    expect(a.applied).toEqual([{ runId, request: clear }]);
    expect(b.applied).toEqual([]);
    expect(await acks(store)).toMatchObject([{ requestId: 'q1', schedulerId: 'a', applied: true }]);
  });

  it('waits while a dead scheduler still holds the run lease, then the live one applies it once', async () => {
    const store = new MemoryStateStore();
    const runId = await failedRun(store);
    await store.acquireLease(runLease(runId), 'dead', TTL, START);
    const b = reader(store, 'b');
    const c = reader(store, 'c');
    await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, { requestId: 'q2', runId, request: clear }, START);
    await b.control.read(START + 10, dags);
    await c.control.read(START + 10, dags);
    expect([...b.applied, ...c.applied]).toEqual([]);
    // The lease lapses: both retry their pending request; exactly one applies it.
    await Promise.all([b.control.read(START + TTL + 50, dags), c.control.read(START + TTL + 50, dags)]);
    await Promise.all([b.control.read(START + TTL + 100, dags), c.control.read(START + TTL + 100, dags)]);
    expect(b.applied.length + c.applied.length).toBe(1);
    expect(await acks(store)).toHaveLength(1);
    // Later passes find it claimed and do nothing more.
    await b.control.read(START + 10 * TTL, dags);
    await c.control.read(START + 10 * TTL, dags);
    expect(b.applied.length + c.applied.length).toBe(1);
  });

  it('ignores requests for unknown runs and for DAGs this scheduler does not have', async () => {
    const store = new MemoryStateStore();
    const runId = await failedRun(store);
    const b = reader(store, 'b');
    await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, { requestId: 'q3', runId: 'nope', request: clear }, START);
    await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, { requestId: 'q4', runId, request: clear }, START);
    await b.control.read(START, new Map());
    expect(b.applied).toEqual([]);
    expect(await acks(store)).toEqual([]);
  });
});
