// Event intake: one run per event per listening DAG, a page per stream and store call, a payload that
// breaks the params recorded as a failed run, and a restarted intake that creates nothing twice.
import { describe, expect, it } from 'vitest';
import { EventIntake, eventStream } from '../../src/daemon/event-intake.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { eventRunId } from '../../src/triggers/run-ids.js';
import { byId, dagOf, recordingLog, START } from './helpers.js';

describe('EventIntake', () => {
  it('queues one run per event for every DAG listening, with the payload as its conf', async () => {
    const store = new MemoryStateStore();
    const dags = byId(
      dagOf('first', { schedule: { events: ['ready'] } }),
      dagOf('second', { schedule: { events: ['ready', 'other'] } }),
      dagOf('deaf'),
    );
    const ids = [
      await store.appendEvent(eventStream('ready'), 'event', { batch: 1 }, START),
      await store.appendEvent(eventStream('ready'), 'event', { batch: 2 }, START),
    ];
    const { events, log } = recordingLog();
    await new EventIntake({ store, log }).read(dags, START + 1);
    const runs = await store.listRuns({});
    expect(runs).toHaveLength(4);
    for (const dagId of ['first', 'second']) {
      for (const [i, eventId] of ids.entries()) {
        const run = await store.getRun(eventRunId(dagId, 'ready', eventId));
        expect(run).toMatchObject({ dagId, kind: 'event', state: 'queued', conf: { batch: i + 1 } });
      }
    }
    expect(events.filter((e) => e.event === 'run_created')).toHaveLength(4);
  });

  it('records a payload that breaks the params as a failed run, with the reason, and logs it', async () => {
    const store = new MemoryStateStore();
    const dags = byId(
      dagOf('typed', { schedule: { events: ['upload'] }, params: { path: { type: 'string', required: true } } }),
    );
    await store.appendEvent(eventStream('upload'), 'event', { path: 42 }, START);
    await store.appendEvent(eventStream('upload'), 'event', 'not an object', START);
    const { events, log } = recordingLog();
    await new EventIntake({ store, log }).read(dags, START);
    const runs = await store.listRuns({});
    expect(runs.map((r) => r.state)).toEqual(['failed', 'failed']);
    expect(runs.find((r) => r.conf.payload === 'not an object')).toBeDefined();
    expect(events.map((e) => e.event)).toEqual(['event_rejected', 'event_rejected']);
    expect(String(events[0]!.reason)).toMatch(/payload\.path/);
  });

  it('reads each stream from where it left off, and a restarted intake creates nothing twice', async () => {
    const store = new MemoryStateStore();
    const dags = byId(dagOf('listener', { schedule: { events: ['tick'] } }));
    const first = recordingLog();
    const intake = new EventIntake({ store, log: first.log });
    await store.appendEvent(eventStream('tick'), 'event', {}, START);
    await intake.read(dags, START);
    await store.appendEvent(eventStream('tick'), 'event', {}, START + 1);
    await intake.read(dags, START + 1);
    await intake.read(dags, START + 2);
    expect(first.events).toHaveLength(2);
    const restarted = recordingLog();
    await new EventIntake({ store, log: restarted.log }).read(dags, START + 3);
    expect(restarted.events).toHaveLength(0);
    expect(await store.listRuns({})).toHaveLength(2);
  });
});
