// Dataset intake: one run once every dataset a DAG waits for moved on, updates in between collapsed, and
// a restarted intake that remembers (from the store) what the last dataset run consumed.
import { describe, expect, it } from 'vitest';
import { DatasetIntake } from '../../src/daemon/dataset-intake.js';
import { datasetStream } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { byId, dagOf, recordingLog, START } from './helpers.js';

describe('DatasetIntake', () => {
  it('queues one run per round of updates of every dataset, and none while a dataset is still behind', async () => {
    const store = new MemoryStateStore();
    const dags = byId(dagOf('consumer', { schedule: { datasets: ['s3://a', 's3://b'] } }));
    const { events, log } = recordingLog();
    const intake = new DatasetIntake({ store, log });
    await store.appendEvent(datasetStream('s3://a'), 'updated', {}, START);
    await store.appendEvent(datasetStream('s3://a'), 'updated', {}, START + 1);
    await intake.read(dags, START + 2);
    expect(await store.listRuns({})).toHaveLength(0);
    const b = await store.appendEvent(datasetStream('s3://b'), 'updated', {}, START + 3);
    await intake.read(dags, START + 4);
    await intake.read(dags, START + 5);
    const runs = await store.listRuns({});
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: 'dataset', state: 'queued' });
    expect((runs[0]!.conf.datasetEventIds as Record<string, string>)['s3://b']).toBe(b);
    expect(events.map((e) => e.event)).toEqual(['run_created']);
    await store.applyTransition(runs[0]!.runId, { run: { patch: { state: 'success' } } });
    const restarted = new DatasetIntake({ store, log });
    await restarted.read(dags, START + 6);
    expect(await store.listRuns({})).toHaveLength(1);
  });

  it('creates no dataset run while its DAG is paused', async () => {
    const store = new MemoryStateStore();
    const dags = byId(dagOf('consumer', { schedule: { datasets: ['s3://a'] } }));
    await store.setDagPaused('consumer', true);
    await store.appendEvent(datasetStream('s3://a'), 'updated', {}, START);
    await new DatasetIntake({ store, log: () => {} }).read(dags, START + 1);
    expect(await store.listRuns({})).toHaveLength(0);
  });
});
