// Prometheus metrics of a scheduler process (prom-client), fed from what the daemon already reports: its
// log events (a fire's lateness), the run coordinator's listener (runs entering a state, finished task
// tries with their durations) and the Redis store's round trips. Nothing here changes what the daemon does.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { SchedulerLogEvent } from '../daemon/scheduler-log-event.js';
import type { RunListener } from '../runner/run-listener.js';

const TERMINAL_TASK_STATES = new Set(['success', 'failed', 'up_for_retry', 'skipped', 'upstream_failed', 'removed']);

/** Options of SchedulerMetrics. */
export interface SchedulerMetricsOptions {
  /** Register here (default a new registry). */
  registry?: Registry;
  /** Also the Node process metrics, prefixed `batuta_scheduler_` (default true). */
  processMetrics?: boolean;
}

/** The scheduler's metrics and the hooks that feed them. */
export class SchedulerMetrics {
  readonly registry: Registry;
  private readonly runs: Counter<'dag' | 'state'>;
  private readonly taskDuration: Histogram<'dag' | 'task' | 'state'>;
  private readonly fireLateness: Histogram<never>;
  private readonly runsCreated: Counter<never>;
  private readonly storeRoundTrip: Histogram<'operation'>;
  /** The last state counted per run, so a run is counted once per state it enters. */
  private readonly lastRunState = new Map<string, string>();

  constructor(options: SchedulerMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'batuta_scheduler_' });
    this.runs = new Counter({
      name: 'batuta_runs_total',
      help: 'DAG runs that entered a state in this scheduler, by DAG and state',
      labelNames: ['dag', 'state'],
      registers,
    });
    this.taskDuration = new Histogram({
      name: 'batuta_task_duration_seconds',
      help: 'Duration of finished task tries (start to end), by DAG, task and outcome',
      labelNames: ['dag', 'task', 'state'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
      registers,
    });
    this.fireLateness = new Histogram({
      name: 'batuta_scheduler_fire_lateness_seconds',
      help: 'How late the scheduler created the runs of a fire time (time of the pass − fire time)',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
      registers,
    });
    this.runsCreated = new Counter({
      name: 'batuta_scheduler_fired_runs_total',
      help: 'Runs this scheduler created for time-scheduled fires',
      registers,
    });
    this.storeRoundTrip = new Histogram({
      name: 'batuta_store_round_trip_seconds',
      help: 'Round trips to the state store, by operation',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
  }

  /** Feed the daemon's log events here (the daemon's `log` option, or a listener of them). */
  observeLog(event: SchedulerLogEvent): void {
    if (event.event === 'fire') {
      if (typeof event.passLateMs === 'number') this.fireLateness.observe(Math.max(0, event.passLateMs) / 1000);
      if (typeof event.runsCreated === 'number') this.runsCreated.inc(event.runsCreated);
    }
  }

  /** Feed a store's round trips here (RedisStateStore's `onRoundTrip`). */
  observeRoundTrip(operation: string, ms: number): void {
    this.storeRoundTrip.observe({ operation }, ms / 1000);
  }

  /** A RunListener that counts runs by state and times finished tries; pass it to the RunCoordinator. */
  listener(next: RunListener = {}): RunListener {
    return {
      ...next,
      runChanged: (run) => {
        if (this.lastRunState.get(run.runId) !== run.state) {
          this.runs.inc({ dag: run.dagId, state: run.state });
          if (run.state === 'success' || run.state === 'failed') this.lastRunState.delete(run.runId);
          else this.lastRunState.set(run.runId, run.state);
        }
        next.runChanged?.(run);
      },
      taskChanged: (run, instance) => {
        if (
          TERMINAL_TASK_STATES.has(instance.state) &&
          instance.startMs !== undefined &&
          instance.endMs !== undefined &&
          instance.endMs >= instance.startMs
        ) {
          this.taskDuration.observe(
            { dag: run.dagId, task: instance.taskId, state: instance.state },
            (instance.endMs - instance.startMs) / 1000,
          );
        }
        next.taskChanged?.(run, instance);
      },
    };
  }
}
