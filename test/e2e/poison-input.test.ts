// One poison input never jams a scheduler: a payload with a prototype key, nesting too deep, a number past
// a double's range or a huge string is refused at publish, or becomes one failed run with its reason;
// every other run is still created and started, pass after pass.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  isBatutaError,
  ManualClock,
  MemoryStateStore,
  parseSafeJson,
  RunCoordinator,
  SchedulerDaemon,
  type SchedulerLogEvent,
} from '@batuta/scheduler';
import { eventStream } from '@batuta/scheduler/internals';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const START = Date.UTC(2026, 2, 1, 12, 0, 0);

function setup() {
  const clock = new ManualClock(START);
  const store = new MemoryStateStore();
  const dags = new Map<string, DagSpec>();
  const listener = defineDag({ id: 'listener', schedule: { events: ['ev1'] }, params: { n: { type: 'number' } } });
  listener.task('work', { run: () => 1 });
  const healthy = defineDag({ id: 'healthy', params: { n: { type: 'number', default: 1 } } });
  healthy.task('work', { run: () => 1 });
  for (const dag of [listener, healthy]) dags.set(dag.spec.id, dag.spec);
  const executor = new LocalExecutor({
    capacity: { cpu: 64, memoryMb: 65536, gpu: 0, custom: {} },
    invoke: createTaskInvoker({ resolveDag: (id) => dags.get(id), store, operators: createOperatorRegistry() }),
    clock,
  });
  const coordinator = new RunCoordinator({ store, executor, clock });
  const events: SchedulerLogEvent[] = [];
  const daemon = new SchedulerDaemon({
    store,
    coordinator,
    dags: () => dags,
    clock,
    schedulerId: 'poison-test',
    pollMs: 1_000,
    leaseTtlMs: 30_000,
    log: (event) => void events.push(event),
  });
  let manual = 0;
  /** Queues a manual run of the healthy DAG, passes, and waits for it to succeed. */
  const healthyRunSucceeds = async () => {
    const runId = `manual__healthy__${manual++}`;
    await store.createRun({
      runId,
      dagId: 'healthy',
      kind: 'manual',
      state: 'queued',
      logicalDateMs: clock.now(),
      conf: {},
      createdMs: clock.now(),
    });
    clock.advance(1_000);
    await daemon.pass();
    await expect.poll(async () => (await store.getRun(runId))?.state).toBe('success');
  };
  return { clock, store, daemon, events, healthyRunSucceeds };
}

describe('a poison input', () => {
  it('fails its own run with the reason and leaves every other run to start (the __proto__ payload of the issue)', async () => {
    const { store, daemon, events, healthyRunSucceeds } = setup();
    await daemon.start();
    // What any client can put on the stream: JSON.parse keeps `__proto__` as an own key.
    await store.appendEvent(eventStream('ev1'), 'event', JSON.parse('{"n":3,"__proto__":{"x":1}}'), START);
    await store.appendEvent(eventStream('ev1'), 'event', { n: 4 }, START);
    // A manual run whose conf another client wrote with an own `__proto__` key, queued before the others.
    await store.createRun({
      runId: 'manual__healthy__poisoned',
      dagId: 'healthy',
      kind: 'manual',
      state: 'queued',
      logicalDateMs: START - 1,
      conf: JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>,
      createdMs: START - 1,
    });
    await healthyRunSucceeds();
    await healthyRunSucceeds();
    daemon.halt();
    const runs = await store.listRuns({ dagId: 'listener' });
    expect(runs.map((run) => run.state).sort()).toEqual(['failed', 'success']);
    expect(runs.find((run) => run.state === 'failed')?.reason).toContain("'__proto__'");
    const poisoned = await store.getRun('manual__healthy__poisoned');
    expect(poisoned?.state).toBe('failed');
    expect(poisoned?.reason).toContain("'__proto__'");
    expect(events.find((event) => event.event === 'run_rejected')).toMatchObject({
      runId: 'manual__healthy__poisoned',
    });
    expect(events.filter((event) => event.event === 'scheduler_pass_failed')).toEqual([]);
  });

  it('never stops the scheduler creating and starting other runs, whatever the payload', async () => {
    const hostileValue = fc.oneof(
      fc.constantFrom(
        '{"n":3,"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        '{"n":{"prototype":1}}',
        '{"n":1e400}',
        '{"n":-1e999}',
        `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
        `{"s":"${'x'.repeat(300_000)}"}`,
        '{"n":"\\ud800\\udfff\\u0000\u{1F600}"}',
        '[1,2,3]',
        '"just a string"',
        'null',
      ),
      fc.json().map((text) => `{"__proto__":${text},"n":2}`),
      fc
        .record({ n: fc.oneof(fc.double(), fc.string({ unit: 'binary' }), fc.constant(null)) })
        .map((value) => JSON.stringify(value)),
      fc.string({ unit: 'binary' }).map((text) => JSON.stringify({ [text]: text })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostileValue, { minLength: 1, maxLength: 4 }), async (texts) => {
        const { store, daemon, events, healthyRunSucceeds } = setup();
        await daemon.start();
        try {
          for (const text of texts) {
            // The CLI's door: a refused payload is an error at publish time, nothing reaches the stream.
            try {
              parseSafeJson(text, '--payload');
            } catch (error) {
              expect(isBatutaError(error)).toBe(true);
            }
            // Another client bypassing the CLI: whatever JSON.parse makes of it, if the store takes it.
            try {
              await store.appendEvent(eventStream('ev1'), 'event', JSON.parse(text), START);
            } catch {
              // refused by the store (a number past a double, nesting no encoder can walk): nothing published
            }
            await healthyRunSucceeds();
          }
          await healthyRunSucceeds();
          const stuck = await store.listRuns({ dagId: 'listener', states: ['queued'] });
          expect(stuck).toEqual([]);
          expect(events.filter((event) => event.event === 'scheduler_pass_failed')).toEqual([]);
        } finally {
          daemon.halt();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
