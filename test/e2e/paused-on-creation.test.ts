// pausedOnCreation (Airflow's dags_are_paused_at_creation) through the Redis store, on an injected clock:
// a DAG new to the store is stored paused and creates no run; unpaused, it runs; a second scheduler start
// (or a second scheduler) does not pause it again; a DAG's own setting overrides the scheduler's.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagOptions,
  type DagSpec,
  defineDag,
  ManualClock,
  RedisStateStore,
  RunCoordinator,
  SchedulerDaemon,
  type SchedulerLogEvent,
  type StateStore,
} from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';

const START = Date.UTC(2026, 2, 1, 12, 0, 30);
const MINUTE = 60_000;
const redis = useRedisServer();

function minutely(id: string, options: Partial<DagOptions> = {}): DagSpec {
  const dag = defineDag({ id, schedule: '* * * * *', ...options });
  dag.task('work', { run: () => 1 });
  return dag.spec;
}

/** A daemon on the local executor; `close` stops it and its coordinator (the store stays open). */
function daemonFor(
  dags: DagSpec[],
  store: StateStore,
  clock: ManualClock,
  schedulerId: string,
  pausedOnCreation: boolean,
  events: SchedulerLogEvent[] = [],
) {
  const byId = new Map(dags.map((d) => [d.id, d]));
  const executor = new LocalExecutor({
    capacity: { cpu: 8, memoryMb: 8192, gpu: 0, custom: {} },
    invoke: createTaskInvoker({ resolveDag: (id) => byId.get(id), store, operators: createOperatorRegistry() }),
    clock,
  });
  const coordinator = new RunCoordinator({ store, executor, clock });
  const daemon = new SchedulerDaemon({
    store,
    coordinator,
    dags: () => byId,
    clock,
    schedulerId,
    pollMs: 1_000,
    leaseTtlMs: 30_000,
    pausedOnCreation,
    log: (event) => void events.push(event),
  });
  return {
    daemon,
    close: async () => {
      await daemon.stop();
      await coordinator.close();
    },
  };
}

/** Moves the clock in steps, letting the daemon finish its pass at each step. */
async function runFor(clock: ManualClock, daemon: SchedulerDaemon, untilMs: number) {
  while (clock.now() < untilMs) {
    clock.set(Math.min(untilMs, clock.now() + 1_000));
    for (let i = 0; i < 3; i++) await daemon.pass();
  }
}

async function scheduledRunsOf(store: StateStore, dagId: string): Promise<number> {
  return (await store.listRuns({ dagId })).filter((run) => run.kind === 'scheduled').length;
}

describe('pausedOnCreation, through the Redis store', () => {
  it('stores a new DAG paused (no run), runs it once unpaused, and a restart does not pause it again', async () => {
    const store = await RedisStateStore.connect({ url: redis.url, namespace: redis.namespace('paused-creation') });
    const clock = new ManualClock(START);
    const dags = [minutely('fresh')];
    try {
      const events: SchedulerLogEvent[] = [];
      const first = daemonFor(dags, store, clock, 'first', true, events);
      await first.daemon.start();
      await runFor(clock, first.daemon, START + 3 * MINUTE);
      expect(await store.isDagPaused('fresh')).toBe(true);
      expect(await scheduledRunsOf(store, 'fresh')).toBe(0);
      expect(events.filter((e) => e.event === 'dag_first_seen')).toEqual([
        { event: 'dag_first_seen', dagId: 'fresh', pausedOnCreation: true },
      ]);

      await store.setDagPaused('fresh', false);
      await runFor(clock, first.daemon, START + 5 * MINUTE);
      const afterUnpause = await scheduledRunsOf(store, 'fresh');
      expect(afterUnpause).toBeGreaterThan(0);
      await first.close();

      // A second start (a new process, same store): the DAG is known, so it stays unpaused and runs on.
      const restartEvents: SchedulerLogEvent[] = [];
      const second = daemonFor(dags, store, clock, 'second', true, restartEvents);
      await second.daemon.start();
      await runFor(clock, second.daemon, START + 8 * MINUTE);
      expect(await store.isDagPaused('fresh')).toBe(false);
      expect(await scheduledRunsOf(store, 'fresh')).toBeGreaterThan(afterUnpause);
      expect(restartEvents.some((e) => e.event === 'dag_first_seen')).toBe(false);
      await second.close();
    } finally {
      await store.close();
    }
  }, 60_000);

  it("lets a DAG's own pausedOnCreation override the scheduler's, either way", async () => {
    const store = await RedisStateStore.connect({ url: redis.url, namespace: redis.namespace('paused-override') });
    const clock = new ManualClock(START);
    try {
      const pausedByDefault = daemonFor(
        [minutely('eager', { pausedOnCreation: false }), minutely('follows')],
        store,
        clock,
        'a',
        true,
      );
      await pausedByDefault.daemon.start();
      await runFor(clock, pausedByDefault.daemon, START + 2 * MINUTE);
      await pausedByDefault.close();
      expect(await store.isDagPaused('eager')).toBe(false);
      expect(await scheduledRunsOf(store, 'eager')).toBeGreaterThan(0);
      expect(await store.isDagPaused('follows')).toBe(true);
      expect(await scheduledRunsOf(store, 'follows')).toBe(0);

      const runByDefault = daemonFor([minutely('careful', { pausedOnCreation: true })], store, clock, 'b', false);
      await runByDefault.daemon.start();
      await runFor(clock, runByDefault.daemon, START + 4 * MINUTE);
      await runByDefault.close();
      expect(await store.isDagPaused('careful')).toBe(true);
      expect(await scheduledRunsOf(store, 'careful')).toBe(0);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('leaves a DAG unpaused when someone unpaused it before any scheduler saw it', async () => {
    const store = await RedisStateStore.connect({ url: redis.url, namespace: redis.namespace('paused-early') });
    const clock = new ManualClock(START);
    try {
      await store.setDagPaused('early', false);
      const scheduler = daemonFor([minutely('early')], store, clock, 'a', true);
      await scheduler.daemon.start();
      await runFor(clock, scheduler.daemon, START + 2 * MINUTE);
      await scheduler.close();
      expect(await store.isDagPaused('early')).toBe(false);
      expect(await scheduledRunsOf(store, 'early')).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
