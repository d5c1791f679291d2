// DagRegistrar: a DAG takes part in a pass only once the store has recorded it (and paused it, when new
// and pausedOnCreation); a store that refuses keeps the unregistered DAGs out until it answers again.
import { describe, expect, it } from 'vitest';
import { DagRegistrar } from '../../src/daemon/dag-registrar.js';
import type { SchedulerLogEvent } from '../../src/daemon/scheduler-log-event.js';
import { defineDag } from '../../src/dag/define-dag.js';
import type { DagSpec } from '../../src/dag/model.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';

function dag(id: string, pausedOnCreation?: boolean): DagSpec {
  const defined = defineDag({
    id,
    schedule: '@daily',
    ...(pausedOnCreation === undefined ? {} : { pausedOnCreation }),
  });
  defined.task('only', { run: () => 1 });
  return defined.spec;
}

/** A memory store whose registerDags fails while `down` is set, and counts its calls. */
class FlakyStore extends MemoryStateStore {
  down = false;
  calls = 0;
  override async registerDags(dags: ReadonlyArray<{ dagId: string; pausedOnCreation: boolean }>): Promise<string[]> {
    this.calls++;
    if (this.down) throw new Error('store unavailable');
    return super.registerDags(dags);
  }
}

describe('DagRegistrar', () => {
  it('registers each DAG once, pausing the new ones as configured, and asks nothing for the same map again', async () => {
    const store = new FlakyStore();
    const events: SchedulerLogEvent[] = [];
    const registrar = new DagRegistrar({ store, pausedOnCreation: true, log: (e) => void events.push(e) });
    const dags = new Map([
      ['a', dag('a')],
      ['b', dag('b', false)],
    ]);
    expect(await registrar.admit(dags)).toBe(dags);
    expect(await store.isDagPaused('a')).toBe(true);
    expect(await store.isDagPaused('b')).toBe(false);
    expect(events).toEqual([
      { event: 'dag_first_seen', dagId: 'a', pausedOnCreation: true },
      { event: 'dag_first_seen', dagId: 'b', pausedOnCreation: false },
    ]);
    await registrar.admit(dags);
    expect(store.calls).toBe(1);
    // A new map with one more DAG: only that one is sent.
    await registrar.admit(new Map([...dags, ['c', dag('c')]]));
    expect(store.calls).toBe(2);
    expect(await store.isDagPaused('c')).toBe(true);
  });

  it('leaves a DAG out while the store cannot record it, and lets it in once the store answers', async () => {
    const store = new FlakyStore();
    const events: SchedulerLogEvent[] = [];
    const registrar = new DagRegistrar({ store, pausedOnCreation: true, log: (e) => void events.push(e) });
    const first = new Map([['known', dag('known')]]);
    await registrar.admit(first);
    store.down = true;
    const both = new Map([...first, ['fresh', dag('fresh')]]);
    expect([...(await registrar.admit(both)).keys()]).toEqual(['known']);
    expect(events.at(-1)).toMatchObject({ event: 'dag_register_failed', level: 'error', message: 'store unavailable' });
    store.down = false;
    expect(await registrar.admit(both)).toBe(both);
    expect(await store.isDagPaused('fresh')).toBe(true);
  });
});
