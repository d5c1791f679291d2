// The scheduler daemon on an injected clock: cron into runs exactly once, two daemons, a killed and
// restarted daemon, events with a params schema, datasets, queued (manual) runs and maxActiveRuns.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagRunRecord,
  type DagSpec,
  defineDag,
  ManualClock,
  MemoryStateStore,
  RedisStateStore,
  RunCoordinator,
  SchedulerDaemon,
  type SchedulerDaemonOptions,
  type StateStore,
} from '@batuta/scheduler';
import { eventRunId, eventStream, scheduledRunId, schedulerLease } from '@batuta/scheduler/internals';
import { RedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';

const START = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;

/** A daemon on the local executor; `dags` may be a live map the test edits (a folder that changes). */
function daemonFor(
  dags: DagSpec[] | Map<string, DagSpec>,
  store: StateStore,
  clock: ManualClock,
  schedulerId: string,
  log?: SchedulerDaemonOptions['log'],
) {
  const byId = Array.isArray(dags) ? new Map(dags.map((d) => [d.id, d])) : dags;
  const executor = new LocalExecutor({
    capacity: { cpu: 64, memoryMb: 65536, gpu: 0, custom: {} },
    invoke: createTaskInvoker({ resolveDag: (id) => byId.get(id), store, operators: createOperatorRegistry() }),
    clock,
  });
  const coordinator = new RunCoordinator({ store, executor, clock });
  return new SchedulerDaemon({
    store,
    coordinator,
    dags: () => byId,
    clock,
    schedulerId,
    pollMs: 1_000,
    leaseTtlMs: 30_000,
    ...(log ? { log } : {}),
  });
}

function minutely(id: string): DagSpec {
  const dag = defineDag({ id, schedule: '* * * * *', maxActiveRuns: 16 });
  dag.task('work', { run: () => 1 });
  return dag.spec;
}

/** Moves the clock in steps, letting every daemon finish its pass at each step. */
async function runFor(clock: ManualClock, daemons: SchedulerDaemon[], untilMs: number, stepMs = 1_000) {
  while (clock.now() < untilMs) {
    clock.set(Math.min(untilMs, clock.now() + stepMs));
    for (let i = 0; i < 3; i++) await Promise.all(daemons.map((d) => d.pass()));
  }
}

async function allRuns(store: StateStore): Promise<DagRunRecord[]> {
  return store.listRuns({});
}

describe('SchedulerDaemon', () => {
  it('creates one run per cron fire, with the logical date and data interval of the fire', async () => {
    const clock = new ManualClock(START + 30_000);
    const store = new MemoryStateStore();
    const daemon = daemonFor([minutely('every_minute')], store, clock, 'a');
    await daemon.start();
    await runFor(clock, [daemon], START + 10 * MINUTE + 30_000);
    const runs = (await allRuns(store)).filter((r) => r.kind === 'scheduled');
    // catchup off: the latest fire at start (12:00), then 12:01 … 12:10.
    expect(runs.map((r) => r.logicalDateMs).sort()).toEqual(Array.from({ length: 11 }, (_, i) => START + i * MINUTE));
    const run = runs.find((r) => r.logicalDateMs === START + 5 * MINUTE)!;
    expect(run.runId).toBe(scheduledRunId('every_minute', START + 5 * MINUTE));
    expect(run.dataIntervalStartMs).toBe(START + 4 * MINUTE);
    expect(run.dataIntervalEndMs).toBe(START + 5 * MINUTE);
    daemon.halt();
  });

  it('two daemons, 50 minutely DAGs, one killed and restarted mid-way: every run exists exactly once', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const dags = Array.from({ length: 50 }, (_, i) => minutely(`dag_${i}`));
    const a = daemonFor(dags, store, clock, 'a');
    let b = daemonFor(dags, store, clock, 'b');
    await Promise.all([a.start(), b.start()]);
    await runFor(clock, [a, b], START + 10 * MINUTE);
    b.halt(); // killed: it releases nothing
    await runFor(clock, [a], START + 20 * MINUTE);
    b = daemonFor(dags, store, clock, 'b2');
    await b.start();
    await runFor(clock, [a, b], START + 30 * MINUTE);
    a.halt();
    b.halt();
    const runs = await allRuns(store);
    const ids = runs.map((r) => r.runId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const dag of dags) {
      const dates = runs
        .filter((r) => r.dagId === dag.id)
        .map((r) => r.logicalDateMs)
        .sort();
      expect(dates).toEqual(Array.from({ length: 31 }, (_, i) => START + i * MINUTE));
    }
  });

  it('shares the due DAGs among the live schedulers, and takes back the share of a dead one', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const dags = Array.from({ length: 40 }, (_, i) => minutely(`share_${i}`));
    const a = daemonFor(dags, store, clock, 'a');
    const b = daemonFor(dags, store, clock, 'b');
    await Promise.all([a.start(), b.start()]);
    await runFor(clock, [a, b], START + 2 * MINUTE);
    expect(a.liveSchedulers()).toEqual(['a', 'b']);
    expect(b.liveSchedulers()).toEqual(['a', 'b']);
    const mineA = dags.filter((dag) => a.isMyShare(dag.id)).length;
    const mineB = dags.filter((dag) => b.isMyShare(dag.id)).length;
    expect(dags.every((dag) => a.isMyShare(dag.id) !== b.isMyShare(dag.id))).toBe(true);
    expect(Math.min(mineA, mineB)).toBeGreaterThan(5);
    b.halt(); // its lease lapses after 30 s; a sees it gone at its next refresh
    await runFor(clock, [a], START + 4 * MINUTE);
    expect(a.liveSchedulers()).toEqual(['a']);
    expect(dags.every((dag) => a.isMyShare(dag.id))).toBe(true);
    const runs = await allRuns(store);
    for (const dag of dags) expect(runs.filter((r) => r.dagId === dag.id)).toHaveLength(5);
    a.halt();
  });

  it('catches up no further than maxActiveRuns while the runs it started are still running', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const slow = defineDag({
      id: 'slow_catchup',
      schedule: '0 * * * *',
      catchup: true,
      startDate: new Date(START - 10 * 60 * MINUTE).toISOString(),
      maxActiveRuns: 2,
    });
    slow.task('work', { run: () => new Promise(() => {}) }); // never finishes
    const daemon = daemonFor([slow.spec], store, clock, 'a');
    await daemon.start();
    // One pass per poll, as the timer drives it: no pass in between refreshes the in-flight counts.
    for (let step = 1; step <= 10; step++) {
      clock.set(START + step * 1_000);
      await daemon.pass();
    }
    daemon.halt();
    const runs = await allRuns(store);
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.logicalDateMs).sort()).toEqual([START - 10 * 60 * MINUTE, START - 9 * 60 * MINUTE]);
  });

  it('renews its leases in a pass whose fire failed, and creates the runs once the store answers again', async () => {
    const clock = new ManualClock(START);
    class HiccupStore extends MemoryStateStore {
      failing = true;
      override async createRuns(runs: readonly DagRunRecord[]) {
        if (this.failing) throw new Error('store hiccup');
        return super.createRuns(runs);
      }
    }
    const store = new HiccupStore();
    const events: string[] = [];
    const daemon = daemonFor([minutely('hiccup')], store, clock, 'a', (event) => void events.push(event.event));
    await daemon.start();
    expect(events).toContain('scheduler_fire_failed');
    expect(await store.getLeaseOwner(schedulerLease('a'), clock.now())).toBe('a');
    expect(await allRuns(store)).toHaveLength(0);
    store.failing = false;
    await runFor(clock, [daemon], START + 2_000);
    daemon.halt();
    expect((await allRuns(store)).map((r) => r.logicalDateMs)).toEqual([START]);
  });

  it('forgets the timetable of a DAG removed from the folder', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const byId = new Map([['gone', minutely('gone')]]);
    const daemon = daemonFor(byId, store, clock, 'a');
    await daemon.start();
    await runFor(clock, [daemon], START + MINUTE);
    expect(daemon.nextFires().has('gone')).toBe(true);
    byId.delete('gone');
    await runFor(clock, [daemon], START + 2 * MINUTE);
    expect(daemon.nextFires().has('gone')).toBe(false);
    daemon.halt();
  });

  it('a restarted daemon creates what catchup says after downtime, no more', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const off = minutely('no_catchup');
    const onDag = defineDag({ id: 'with_catchup', schedule: '*/10 * * * *', catchup: true, maxActiveRuns: 100 });
    onDag.task('work', { run: () => 1 });
    const first = daemonFor([off, onDag.spec], store, clock, 'a');
    await first.start();
    await runFor(clock, [first], START + 5_000);
    first.halt();
    clock.set(START + 60 * MINUTE + 5_000); // an hour of downtime
    const second = daemonFor([off, onDag.spec], store, clock, 'b');
    await second.start();
    await runFor(clock, [second], START + 60 * MINUTE + 10_000);
    second.halt();
    const runs = await allRuns(store);
    const offDates = runs
      .filter((r) => r.dagId === 'no_catchup')
      .map((r) => r.logicalDateMs)
      .sort();
    expect(offDates).toEqual([START, START + 60 * MINUTE]); // the missed minutes are not replayed
    const onDates = runs
      .filter((r) => r.dagId === 'with_catchup')
      .map((r) => r.logicalDateMs)
      .sort();
    expect(onDates).toEqual(Array.from({ length: 7 }, (_, i) => START + i * 10 * MINUTE)); // every missed slot
  });

  it('records a scheduled run its params reject as failed, once, and still creates the other DAGs runs', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const needy = defineDag({
      id: 'needs_a_value',
      schedule: '* * * * *',
      params: { region: { type: 'string', required: true } },
    });
    needy.task('work', { run: () => 1 });
    const fine = minutely('fine');
    const daemon = daemonFor([needy.spec, fine], store, clock, 'a');
    await daemon.start();
    await runFor(clock, [daemon], START + 2 * MINUTE);
    daemon.halt();
    const runs = await allRuns(store);
    const rejected = runs.filter((r) => r.dagId === 'needs_a_value');
    expect(rejected.map((r) => r.logicalDateMs).sort()).toEqual([START, START + MINUTE, START + 2 * MINUTE]);
    for (const run of rejected) {
      expect(run.state).toBe('failed');
      expect(run.reason).toMatch(/^scheduled run rejected: .*region/);
    }
    const fineRuns = runs.filter((r) => r.dagId === 'fine');
    expect(fineRuns.map((r) => r.logicalDateMs).sort()).toEqual([START, START + MINUTE, START + 2 * MINUTE]);
    expect(fineRuns.every((r) => r.state === 'success')).toBe(true);
  });

  it('runs an event-triggered DAG once per event, and records a payload that breaks the params', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const seen: unknown[] = [];
    const dag = defineDag({
      id: 'on_upload',
      schedule: { events: ['file-uploaded'] },
      params: { path: { type: 'string', required: true } },
    });
    dag.task('ingest', { run: ({ params }) => void seen.push(params.path) });
    const a = daemonFor([dag.spec], store, clock, 'a');
    const b = daemonFor([dag.spec], store, clock, 'b');
    await Promise.all([a.start(), b.start()]);
    await store.appendEvent(eventStream('file-uploaded'), 'event', { path: 's3://in/1.csv' }, clock.now());
    await store.appendEvent(eventStream('file-uploaded'), 'event', { path: 42 }, clock.now());
    await store.appendEvent(eventStream('file-uploaded'), 'event', { path: 's3://in/2.csv' }, clock.now());
    await runFor(clock, [a, b], START + 10_000);
    await expect.poll(() => seen.length).toBe(2);
    const runs = await allRuns(store);
    expect(runs).toHaveLength(3);
    const rejected = runs.filter((r) => r.state === 'failed');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatch(/payload\.path: expected string, got integer 42/);
    expect(seen.sort()).toEqual(['s3://in/1.csv', 's3://in/2.csv']);
    a.halt();
    b.halt();
  });

  it('gives every listening DAG its own run of each event, with that event as its conf', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const listeners = ['first_listener', 'second_listener'].map((id) => {
      const dag = defineDag({ id, schedule: { events: ['batch-ready'] } });
      dag.task('noop', { run: () => 1 });
      return dag.spec;
    });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await store.appendEvent(eventStream('batch-ready'), 'event', { batch: i }, clock.now()));
    }
    const daemon = daemonFor(listeners, store, clock, 'a');
    await daemon.start();
    await runFor(clock, [daemon], START + 5_000);
    daemon.halt();
    const runs = await allRuns(store);
    expect(runs).toHaveLength(14);
    for (const dag of listeners) {
      for (const [i, eventId] of ids.entries()) {
        const run = runs.find((r) => r.runId === eventRunId(dag.id, 'batch-ready', eventId));
        expect(run?.dagId).toBe(dag.id);
        expect(run?.conf).toEqual({ batch: i });
      }
    }
  });

  it('runs a dataset-scheduled DAG once after its producer updates the dataset, collapsing updates', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const producer = defineDag({ id: 'producer' });
    producer.task('write', { outlets: ['s3://lake/scores'], run: () => 1 });
    const consumer = defineDag({ id: 'consumer', schedule: { datasets: ['s3://lake/scores'] } });
    let consumed = 0;
    consumer.task('read', { run: () => void consumed++ });
    const daemon = daemonFor([producer.spec, consumer.spec], store, clock, 'a');
    await daemon.start();
    const coordinator = (daemon as unknown as { coordinator: RunCoordinator }).coordinator;
    await (await coordinator.startRun(producer.spec)).done;
    await (await coordinator.startRun(producer.spec)).done;
    await runFor(clock, [daemon], START + 5_000);
    await expect.poll(() => consumed).toBe(1);
    await runFor(clock, [daemon], START + 10_000);
    expect(consumed).toBe(1);
    await (await coordinator.startRun(producer.spec)).done;
    await runFor(clock, [daemon], START + 15_000);
    await expect.poll(() => consumed).toBe(2);
    daemon.halt();
  });

  it('starts queued runs within maxActiveRuns, and not while the DAG is paused', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const release: Array<() => void> = [];
    const dag = defineDag({ id: 'manual_only', maxActiveRuns: 2 });
    dag.task('wait', { run: () => new Promise<void>((resolve) => release.push(resolve)) });
    const daemon = daemonFor([dag.spec], store, clock, 'a');
    await store.setDagPaused('manual_only', true);
    for (let i = 0; i < 3; i++) {
      await store.createRun({
        runId: `manual_${i}`,
        dagId: 'manual_only',
        kind: 'manual',
        state: 'queued',
        logicalDateMs: START + i,
        conf: {},
        createdMs: START,
      });
    }
    await daemon.start();
    await runFor(clock, [daemon], START + 3_000);
    expect((await store.listRuns({ states: ['running'] })).length).toBe(0);
    await store.setDagPaused('manual_only', false);
    await runFor(clock, [daemon], START + 6_000);
    expect((await store.listRuns({ states: ['running'] })).map((r) => r.runId).sort()).toEqual([
      'manual_0',
      'manual_1',
    ]);
    await expect.poll(() => release.length).toBe(2);
    release.shift()!();
    await expect.poll(async () => (await store.getRun('manual_0'))?.state).toBe('success');
    await runFor(clock, [daemon], START + 9_000);
    await expect.poll(async () => (await store.getRun('manual_2'))?.state).toBe('running');
    for (const r of release.splice(0)) r();
    await expect.poll(async () => (await store.listRuns({ states: ['success'] })).length).toBe(3);
    daemon.halt();
  });

  it('on Redis: two daemons with separate connections, one killed mid-way, create every run exactly once', async () => {
    const server = await RedisServer.start();
    try {
      const clock = new ManualClock(START);
      const connect = () => RedisStateStore.connect({ url: server.url, namespace: 'daemon-e2e' });
      const [storeA, storeB, storeC] = await Promise.all([connect(), connect(), connect()]);
      const dags = Array.from({ length: 20 }, (_, i) => minutely(`redis_dag_${i}`));
      const a = daemonFor(dags, storeA, clock, 'a');
      const b = daemonFor(dags, storeB, clock, 'b');
      await Promise.all([a.start(), b.start()]);
      await runFor(clock, [a, b], START + 5 * MINUTE, 5_000);
      b.halt();
      await runFor(clock, [a], START + 10 * MINUTE, 5_000);
      const c = daemonFor(dags, storeC, clock, 'c');
      await c.start();
      await runFor(clock, [a, c], START + 15 * MINUTE, 5_000);
      a.halt();
      c.halt();
      const runs = await allRuns(storeA);
      expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
      for (const dag of dags) {
        const dates = runs
          .filter((r) => r.dagId === dag.id)
          .map((r) => r.logicalDateMs)
          .sort();
        expect(dates).toEqual(Array.from({ length: 16 }, (_, i) => START + i * MINUTE));
      }
      await Promise.all([storeA.close(), storeB.close(), storeC.close()]);
    } finally {
      await server.stop();
    }
  });
});
