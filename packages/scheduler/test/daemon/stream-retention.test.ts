// Streams stay bounded (issue #10, point 7): event streams are trimmed behind a cursor persisted in the
// store (so a restarted scheduler does not reread them), dataset streams keep their latest update, and
// control requests go once every scheduler has long passed them. Time is a number the test moves.
import { describe, expect, it } from 'vitest';
import { CONTROL_KEEP_MS, CONTROL_STREAM, ControlReader } from '../../src/daemon/control-reader.js';
import { DatasetIntake } from '../../src/daemon/dataset-intake.js';
import { EventIntake, eventStream } from '../../src/daemon/event-intake.js';
import { datasetStream } from '../../src/runner/dataset-stream.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { byId, dagOf, recordingLog, START } from './helpers.js';

describe('stream retention', () => {
  it('persists how far an event stream was turned into runs, so a restarted intake rereads nothing', async () => {
    const store = new MemoryStateStore();
    const dags = byId(dagOf('listener', { schedule: { events: ['ready'] } }));
    for (let i = 0; i < 3; i++) await store.appendEvent(eventStream('ready'), 'event', { i }, START);
    await new EventIntake({ store, log: recordingLog().log }).read(dags, START + 1);
    expect(await store.listRuns()).toHaveLength(3);
    expect(await store.readEvents(eventStream('ready'))).toEqual([]);

    let createCalls = 0;
    const createRuns = store.createRuns.bind(store);
    store.createRuns = async (runs) => {
      createCalls++;
      return createRuns(runs);
    };
    const restarted = new EventIntake({ store, log: recordingLog().log });
    await restarted.read(dags, START + 2);
    expect(createCalls).toBe(0);
    await store.appendEvent(eventStream('ready'), 'event', { i: 3 }, START + 3);
    await restarted.read(dags, START + 4);
    expect(createCalls).toBe(1);
    expect(await store.listRuns()).toHaveLength(4);
  });

  it('keeps only the latest update of a dataset stream', async () => {
    const store = new MemoryStateStore();
    const dags = byId(dagOf('consumer', { schedule: { datasets: ['s3://lake/sales'] } }));
    for (let i = 0; i < 5; i++)
      await store.appendEvent(datasetStream('s3://lake/sales'), 'dataset-updated', { i }, START);
    await new DatasetIntake({ store, log: recordingLog().log }).read(dags, START + 1);
    expect((await store.readEvents(datasetStream('s3://lake/sales'))).map((e) => e.payload)).toEqual([{ i: 4 }]);
    expect(await store.listRuns({ dagId: 'consumer' })).toHaveLength(1);
  });

  it('trims control requests once they are older than CONTROL_KEEP_MS, not before', async () => {
    const store = new MemoryStateStore();
    const coordinator = { cancelRun: async () => false };
    const reader = new ControlReader({ store, coordinator, log: recordingLog().log });
    await store.appendEvent(CONTROL_STREAM, 'cancel', { runId: 'a' }, START);
    await store.appendEvent(CONTROL_STREAM, 'cancel', { runId: 'b' }, START + 60_000);
    await reader.read(START + 60_001);
    expect(await store.readEvents(CONTROL_STREAM)).toHaveLength(2);
    await reader.read(START + CONTROL_KEEP_MS + 30_000);
    expect((await store.readEvents(CONTROL_STREAM)).map((e) => e.payload)).toEqual([{ runId: 'b' }]);
    await reader.read(START + 60_000 + CONTROL_KEEP_MS + 1);
    expect(await store.readEvents(CONTROL_STREAM)).toEqual([]);
  });
});
