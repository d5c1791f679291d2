// OpenTelemetry spans of a run through a real RunCoordinator and the OpenTelemetry SDK's in-memory
// exporter: one span per run, one per task try (a retried task has two, the failed one an error), each
// try's span a child of its run's span in the same trace, with the try's own times and attributes.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RunTracer } from '../../src/metrics/run-tracer.js';
import { RunCoordinator } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { dag, retries, task } from '../run/helpers.js';
import { ScriptedExecutor } from '../runner/scripted-executor.js';

describe('RunTracer', () => {
  it('records a span per run and per task try, tries under their run', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = new RunTracer({ tracer: provider.getTracer('test') });
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let fitTries = 0;
    const executor = new ScriptedExecutor(clock, (job) => {
      clock.advance(250);
      if (job.taskId === 'fit' && ++fitTries === 1) return { status: 'failed', error: { message: 'no rows' } };
      return { status: 'success', output: null };
    });
    const store = new MemoryStateStore();
    const coordinator = new RunCoordinator({ store, executor, clock, listener: tracer.listener() });
    const spec = dag([task('extract'), task('fit', ['extract'], { retry: retries(1, { delayMs: 0 }) })]);
    const handle = await coordinator.startRun(spec);
    let ended = false;
    void handle.done.then(() => {
      ended = true;
    });
    // The manual clock moves on only when told: the retry's wait ends when it is advanced.
    for (let step = 0; step < 50 && !ended; step++) {
      for (let k = 0; k < 20; k++) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(1_000);
    }
    expect((await handle.done).state).toBe('success');
    await provider.forceFlush();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name).sort()).toEqual([`run ${spec.id}`, 'task extract', 'task fit', 'task fit']);
    const run = spans.find((span) => span.name.startsWith('run '))!;
    expect(run.attributes['batuta.run_id']).toBe(handle.runId);
    expect(run.attributes['batuta.run_state']).toBe('success');
    for (const span of spans.filter((s) => s !== run)) {
      expect(span.spanContext().traceId).toBe(run.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    }
    const fits = spans.filter((span) => span.name === 'task fit');
    expect(fits.map((span) => span.attributes['batuta.try_number']).sort()).toEqual([1, 2]);
    const failed = fits.find((span) => span.attributes['batuta.try_number'] === 1)!;
    expect(failed.status).toMatchObject({ code: 2, message: expect.stringContaining('no rows') });
    expect(failed.attributes['batuta.worker']).toBe('w1');
    // The try's own start time (the executor's), not when the tracer heard of it.
    const instance = (await store.getTaskInstances(handle.runId)).find((i) => i.taskId === 'extract')!;
    const extract = spans.find((span) => span.name === 'task extract')!;
    expect(extract.startTime[0] * 1000 + extract.startTime[1] / 1e6).toBe(instance.startMs);
    await coordinator.close();
  });

  it('is a no-op without a registered provider', () => {
    const tracer = new RunTracer();
    const listener = tracer.listener();
    const run = {
      runId: 'r',
      dagId: 'd',
      kind: 'manual' as const,
      state: 'running' as const,
      logicalDateMs: 0,
      conf: {},
      createdMs: 0,
    };
    expect(() => listener.runChanged?.(run)).not.toThrow();
    expect(() => listener.runChanged?.({ ...run, state: 'success', endMs: 1 })).not.toThrow();
    tracer.close();
  });
});
