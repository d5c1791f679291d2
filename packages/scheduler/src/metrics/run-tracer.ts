// OpenTelemetry traces of runs: a span per DAG run, and inside it a span per finished task try, fed
// from the run coordinator's listener like the Prometheus metrics. Only the OpenTelemetry API is used:
// with no tracer provider registered (the default) every call is a no-op; a deployment registers one
// (an SDK and an exporter) before the scheduler starts, e.g. `node --import ./otel.js batuta scheduler`.
// A try's span carries its own start and end times (the worker's), so the trace shows when it really
// ran, not when the scheduler heard of it.
import { context, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { RunListener } from '../runner/run-listener.js';
import type { DagRunRecord, TaskInstanceRecord } from '../store/state-store.js';

const ENDED_TASK_STATES = new Set(['success', 'failed', 'up_for_retry', 'skipped', 'upstream_failed', 'removed']);
/** Open run spans kept at most (a scheduler that never sees some runs end must not grow for ever). */
const OPEN_RUNS_LIMIT = 10_000;

/** Options of RunTracer. */
export interface RunTracerOptions {
  /** Default: the global provider's tracer named `batuta` (a no-op until a provider is registered). */
  tracer?: Tracer;
}

/** Spans for runs and task tries; pass `listener()` to the RunCoordinator. */
export class RunTracer {
  private readonly tracer: Tracer;
  private readonly runs = new Map<string, Span>();
  /** Per run, the last try traced per instance, so a try reported twice (a redelivered report) is one span. */
  private readonly traced = new Map<string, Map<string, number>>();

  constructor(options: RunTracerOptions = {}) {
    this.tracer = options.tracer ?? trace.getTracer('batuta');
  }

  /** A RunListener that records spans, then calls `next`. */
  listener(next: RunListener = {}): RunListener {
    return {
      ...next,
      runChanged: (run) => {
        this.runChanged(run);
        next.runChanged?.(run);
      },
      taskChanged: (run, instance) => {
        this.taskChanged(run, instance);
        next.taskChanged?.(run, instance);
      },
    };
  }

  /** Ends every open run span now (at shutdown: spans of runs another scheduler will finish). */
  close(): void {
    for (const span of this.runs.values()) span.end();
    this.runs.clear();
    this.traced.clear();
  }

  private runSpan(run: DagRunRecord): Span {
    let span = this.runs.get(run.runId);
    if (!span) {
      if (this.runs.size >= OPEN_RUNS_LIMIT) this.close();
      span = this.tracer.startSpan(`run ${run.dagId}`, {
        startTime: run.startMs ?? run.createdMs,
        attributes: {
          'batuta.dag_id': run.dagId,
          'batuta.run_id': run.runId,
          'batuta.run_kind': run.kind,
          'batuta.logical_date': new Date(run.logicalDateMs).toISOString(),
        },
      });
      this.runs.set(run.runId, span);
    }
    return span;
  }

  private runChanged(run: DagRunRecord): void {
    if (run.state !== 'success' && run.state !== 'failed') {
      if (run.state === 'running') this.runSpan(run);
      return;
    }
    const span = this.runs.get(run.runId) ?? this.runSpan(run);
    span.setAttribute('batuta.run_state', run.state);
    if (run.state === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: run.reason ?? 'failed' });
    span.end(run.endMs);
    this.runs.delete(run.runId);
    this.traced.delete(run.runId);
  }

  private taskChanged(run: DagRunRecord, instance: TaskInstanceRecord): void {
    if (!ENDED_TASK_STATES.has(instance.state) || instance.startMs === undefined) return;
    let tries = this.traced.get(run.runId);
    if (!tries) {
      tries = new Map();
      this.traced.set(run.runId, tries);
    }
    const key = `${instance.taskId}\n${instance.mapIndex}`;
    if (tries.get(key) === instance.tryNumber) return;
    tries.set(key, instance.tryNumber);
    const parent = trace.setSpan(context.active(), this.runSpan(run));
    const name = instance.mapIndex >= 0 ? `task ${instance.taskId}[${instance.mapIndex}]` : `task ${instance.taskId}`;
    const span = this.tracer.startSpan(
      name,
      {
        startTime: instance.startMs,
        attributes: {
          'batuta.dag_id': run.dagId,
          'batuta.run_id': run.runId,
          'batuta.task_id': instance.taskId,
          'batuta.map_index': instance.mapIndex,
          'batuta.try_number': instance.tryNumber,
          'batuta.task_state': instance.state,
          ...(instance.worker ? { 'batuta.worker': instance.worker } : {}),
        },
      },
      parent,
    );
    if (instance.state === 'failed' || instance.state === 'up_for_retry') {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: instance.error ? `${instance.error.code}: ${instance.error.message}` : instance.state,
      });
    }
    span.end(instance.endMs ?? instance.startMs);
  }
}
