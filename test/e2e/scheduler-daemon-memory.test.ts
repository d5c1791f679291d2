// A long-running daemon holds the same memory after hundreds of fires as after a few: nothing it keeps
// grows with the runs it creates (the bench-only lateness arrays once did). Its latency figures come from
// its log events, read into a histogram of fixed size.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  ManualClock,
  MemoryStateStore,
  RunCoordinator,
  SchedulerDaemon,
  type SchedulerLogEvent,
} from '@batuta/scheduler';
import { LatencyHistogram } from '@batuta/scheduler/internals';
import { describe, expect, it } from 'vitest';

const START = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;

/**
 * How many entries the collections reachable from `root` hold (arrays, maps, sets, and the fields of
 * every object), not counting what lies behind the objects in `outside` (the injected store, clock…).
 */
function footprint(root: object, outside: readonly object[]): number {
  const seen = new Set<object>(outside);
  const stack: unknown[] = [root];
  let entries = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof Promise) continue;
    if (Array.isArray(value)) {
      entries += value.length;
      stack.push(...value);
    } else if (value instanceof Map) {
      entries += value.size;
      for (const [key, item] of value) stack.push(key, item);
    } else if (value instanceof Set) {
      entries += value.size;
      stack.push(...value);
    } else {
      const fields = Object.values(value);
      entries += fields.length;
      stack.push(...fields);
    }
  }
  return entries;
}

describe('a long-running scheduler daemon', () => {
  it('keeps its memory structures bounded over hundreds of fires', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStateStore();
    const dags = new Map<string, DagSpec>();
    for (let i = 0; i < 10; i++) {
      const dag = defineDag({ id: `minutely_${i}`, schedule: '* * * * *' });
      dag.task('work', { run: () => 1 });
      dags.set(dag.spec.id, dag.spec);
    }
    const executor = new LocalExecutor({
      capacity: { cpu: 64, memoryMb: 65536, gpu: 0, custom: {} },
      invoke: createTaskInvoker({ resolveDag: (id) => dags.get(id), store, operators: createOperatorRegistry() }),
      clock,
    });
    const coordinator = new RunCoordinator({ store, executor, clock });
    const lateness = new LatencyHistogram();
    const log = (event: SchedulerLogEvent) => {
      if (event.event === 'run_created' && typeof event.confirmedLatenessMs === 'number') {
        lateness.record(event.confirmedLatenessMs);
      }
    };
    const daemon = new SchedulerDaemon({
      store,
      coordinator,
      dags: () => dags,
      clock,
      schedulerId: 'long-runner',
      pollMs: 1_000,
      leaseTtlMs: 30_000,
      log,
    });
    const outside = [store, coordinator, clock, executor, dags, log];
    const runMinutes = async (minutes: number) => {
      for (let i = 0; i < minutes; i++) {
        clock.advance(MINUTE);
        // A pass the clock's timer started may still be on its way: a few passes, as the e2e tests do.
        for (let pass = 0; pass < 3; pass++) await daemon.pass();
        // Let the runs of the fire finish, so the next fires are not held back by maxActiveRuns.
        await expect.poll(async () => (await store.listRuns({ states: ['running', 'queued'] })).length).toBe(0);
      }
    };
    await daemon.start();
    await runMinutes(20);
    const early = footprint(daemon, outside);
    const bucketsEarly = lateness.size;
    await runMinutes(300);
    daemon.halt();
    expect((await store.listRuns({})).length).toBe(10 * 321);
    expect(lateness.count).toBe(10 * 321);
    expect(lateness.size).toBe(bucketsEarly);
    expect(footprint(daemon, outside)).toBe(early);
    expect(daemon.nextFires().size).toBe(10);
  }, 120_000);
});
