// The scheduler daemon embedded in an application: the Redis store, the BullMQ executor over the pools,
// the run coordinator and the daemon (and, when asked, a worker per pool), wired with the defaults
// `batuta scheduler` uses. Its log events come out as an emitter and an async iterator (ADR 015).
import { EventEmitter, on } from 'node:events';
import { hostname } from 'node:os';
import {
  type Clock,
  createOperatorRegistry,
  createTaskInvoker,
  type Dag,
  DagFolder,
  type DagSpec,
  DagValidationError,
  type MetricsServer,
  newRunId,
  type OperatorRegistry,
  RedisStateStore,
  RunCoordinator,
  type RunListener,
  resolveParams,
  SchedulerDaemon,
  type SchedulerLogEvent,
  SchedulerMetrics,
  startMetricsServer,
  systemClock,
} from '@batuta/scheduler';
import type { Redis } from 'ioredis';
import { PoolStatusReader } from '../autoscale/pool-status.js';
import { BullmqExecutor } from '../bullmq/bullmq-executor.js';
import { type ConnectionOptions, connectRedis } from '../bullmq/connection.js';
import { ResourceWorker } from '../bullmq/resource-worker.js';
import { OrchestratorError } from '../errors.js';
import { machineCapacity } from '../local/machine-capacity.js';
import { registerPoolMetrics, workerMetrics } from '../metrics/pool-metrics-collector.js';
import { placeDag } from '../placement/placement.js';
import type { PoolsConfig, WorkerPool } from '../pools/worker-pool.js';

/** What `createScheduler` needs; everything but `redisUrl` and `dags` has a default. */
export interface CreateSchedulerOptions {
  /** `redis://host:port[/db]`: the system of record and the BullMQ queues. */
  redisUrl: string;
  /** The DAGs to schedule: defined DAGs, or a folder of DAG files (rescanned, as `batuta scheduler` does). */
  // biome-ignore lint/suspicious/noExplicitAny: DAGs of any params and outputs
  dags: ReadonlyArray<Dag<any, any> | DagSpec> | string;
  /** The worker pools; default one `default` pool with this machine's capacity. */
  pools?: PoolsConfig | readonly WorkerPool[];
  /** Keys live under `batuta:<namespace>:`; default `default`. */
  namespace?: string;
  /** Operators the DAGs name; default the built-ins. */
  operators?: OperatorRegistry;
  /** Also run one worker per pool in this process (default false: workers are `batuta worker` processes). */
  workers?: boolean;
  /** Unique per process; default `<host>:<pid>`. */
  schedulerId?: string;
  /** How often DAG files of a `dags` folder are rescanned; default 2 s. */
  reloadMs?: number;
  redisOptions?: ConnectionOptions;
  clock?: Clock;
  /**
   * Serve Prometheus metrics at http://<metricsHost>:<port>/metrics (0: any free port; `metricsUrl()` says
   * which): runs by DAG and state, task durations, fire lateness, store round trips, the pools' queue depth and
   * admitted resources, and each in-process worker's admitted resources. Default: no metrics server.
   */
  metricsPort?: number;
  /** The metrics server's address (default 0.0.0.0). */
  metricsHost?: string;
}

/** A scheduler embedded in an application: start it, stop it, and follow what it does. */
export interface EmbeddedScheduler {
  readonly schedulerId: string;
  /** Connects, loads the DAGs and starts scheduling; resolves once the daemon runs (a second call too). */
  start(): Promise<void>;
  /** Stops the daemon and any workers (letting running attempts finish), then closes every connection; once. */
  stop(): Promise<void>;
  /** Queues a manual run (started when the DAG has a free run slot); resolves with its run id. */
  trigger(dagId: string, conf?: Record<string, unknown>): Promise<string>;
  /** Calls `listener` with each log event (`fire`, `run_finished`, `dag_file_loaded` …). */
  on(event: 'log', listener: (event: SchedulerLogEvent) => void): this;
  off(event: 'log', listener: (event: SchedulerLogEvent) => void): this;
  /** The log events from now on, until `stop()` (or `signal`). */
  events(signal?: AbortSignal): AsyncIterableIterator<SchedulerLogEvent>;
  /** The metrics URL once started with `metricsPort`; undefined otherwise. */
  metricsUrl(): string | undefined;
}

/** Creates the scheduler daemon of one deployment, ready to `start()` inside an application. */
export function createScheduler(options: CreateSchedulerOptions): EmbeddedScheduler {
  return new Embedded(options);
}

interface Running {
  metrics?: { server: MetricsServer; reader: PoolStatusReader; connection: Redis };
  store: RedisStateStore;
  coordinator: RunCoordinator;
  daemon: SchedulerDaemon;
  workers: ResourceWorker[];
  dags: () => ReadonlyMap<string, DagSpec>;
}

class Embedded extends EventEmitter implements EmbeddedScheduler {
  readonly schedulerId: string;
  private readonly options: CreateSchedulerOptions;
  private readonly pools: PoolsConfig;
  private readonly stopped = new AbortController();
  private running: Promise<Running> | undefined;
  private metricsAt: string | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: CreateSchedulerOptions) {
    super();
    this.options = options;
    this.schedulerId = options.schedulerId ?? `${hostname()}:${process.pid}`;
    const pools = options.pools ?? [
      { name: 'default', capacity: machineCapacity(), labels: {}, minWorkers: 1, maxWorkers: 1 },
    ];
    this.pools = 'pools' in pools ? pools : { pools: [...pools], slotPools: [] };
  }

  start(): Promise<void> {
    if (this.stopping) {
      return Promise.reject(new OrchestratorError('SCHEDULER_STOPPED', 'this scheduler was stopped: create a new one'));
    }
    this.running ??= this.open();
    return this.running.then(() => undefined);
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    const parts = await this.running?.catch(() => undefined);
    if (parts) {
      await Promise.all(parts.workers.map((worker) => worker.close({ drain: true })));
      await parts.daemon.stop();
      await parts.coordinator.close();
      await parts.store.close();
      if (parts.metrics) {
        await parts.metrics.server.close();
        await parts.metrics.reader.close();
        parts.metrics.connection.disconnect();
      }
    }
    this.log({ event: 'scheduler_stopped', schedulerId: this.schedulerId });
    this.stopped.abort();
  }

  async trigger(dagId: string, conf: Record<string, unknown> = {}): Promise<string> {
    const { store, dags } = await this.started();
    const dag = dags().get(dagId);
    if (!dag) {
      const known = [...dags().keys()].join(', ') || 'none';
      throw new OrchestratorError('UNKNOWN_DAG', `no DAG '${dagId}' is loaded (loaded: ${known})`);
    }
    const now = (this.options.clock ?? systemClock).now();
    const runId = newRunId('manual', dag.id, now);
    await store.createRun({
      runId,
      dagId: dag.id,
      kind: 'manual',
      state: 'queued',
      logicalDateMs: now,
      conf: resolveParams(dag.params, conf, 'conf', dag.paramsSchema),
      createdMs: now,
    });
    return runId;
  }

  events(signal?: AbortSignal): AsyncIterableIterator<SchedulerLogEvent> {
    const until = signal ? AbortSignal.any([signal, this.stopped.signal]) : this.stopped.signal;
    // Listening starts now, not at the first next(): no event between this call and the loop is lost.
    const source = on(this, 'log', { signal: until });
    const done = { done: true, value: undefined } as const;
    return {
      async next() {
        try {
          const result = await source.next();
          return result.done ? done : { done: false, value: result.value[0] as SchedulerLogEvent };
        } catch (error) {
          if (until.aborted) return done;
          throw error;
        }
      },
      async return() {
        await source.return?.();
        return done;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  metricsUrl(): string | undefined {
    return this.metricsAt;
  }

  private async started(): Promise<Running> {
    if (!this.running) {
      throw new OrchestratorError('SCHEDULER_NOT_STARTED', 'the scheduler is not started: call start() first');
    }
    return this.running;
  }

  private log(event: SchedulerLogEvent): void {
    this.emit('log', event);
  }

  private async open(): Promise<Running> {
    const o = this.options;
    const namespace = o.namespace ?? 'default';
    const operators = o.operators ?? createOperatorRegistry();
    const dags = await this.loadDags(operators);
    const store = await RedisStateStore.connect({
      url: o.redisUrl,
      namespace,
      ...(o.redisOptions ? { redisOptions: o.redisOptions } : {}),
    });
    const executor = new BullmqExecutor({
      redisUrl: o.redisUrl,
      namespace,
      pools: this.pools.pools,
      slotPools: this.pools.slotPools,
      consumer: this.schedulerId,
      ...(o.redisOptions ? { redisOptions: o.redisOptions } : {}),
      onError: (error) => this.log({ event: 'executor_error', level: 'error', message: String(error) }),
    });
    const metrics = o.metricsPort === undefined ? undefined : new SchedulerMetrics();
    if (metrics) store.onRoundTrip = (operation, ms) => metrics.observeRoundTrip(operation, ms);
    const listener: RunListener = {
      runChanged: (run) => {
        if (run.state === 'success' || run.state === 'failed') {
          this.log({
            event: 'run_finished',
            dagId: run.dagId,
            runId: run.runId,
            state: run.state,
            reason: run.reason,
          });
        }
      },
      callbackFailed: (runId, what, error) =>
        this.log({ event: 'callback_failed', level: 'warn', runId, what, message: String(error) }),
    };
    const coordinator = new RunCoordinator({
      store,
      executor,
      ...(o.clock ? { clock: o.clock } : {}),
      listener: metrics ? metrics.listener(listener) : listener,
    });
    const daemon = new SchedulerDaemon({
      store,
      coordinator,
      schedulerId: this.schedulerId,
      dags: dags.current,
      ...(dags.reload ? { reload: dags.reload, reloadMs: o.reloadMs ?? 2_000 } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      log: (event) => {
        metrics?.observeLog(event);
        this.log(event);
      },
    });
    const workers = o.workers
      ? this.pools.pools.map((pool) => {
          const perWorker = metrics ? workerMetrics(metrics.registry, pool.name) : undefined;
          return new ResourceWorker({
            redisUrl: o.redisUrl,
            namespace,
            pool: pool.name,
            capacity: pool.capacity,
            slotPools: this.pools.slotPools,
            name: `${this.schedulerId}:${pool.name}`,
            ...(o.redisOptions ? { redisOptions: o.redisOptions } : {}),
            invoke: createTaskInvoker({ resolveDag: (id) => dags.current().get(id), store, operators }),
            onEvent: (event) => {
              perWorker?.onEvent(event);
              if (event.type === 'error')
                this.log({ event: 'worker_error', level: 'error', pool: pool.name, message: String(event.error) });
            },
          });
        })
      : [];
    let served: Running['metrics'];
    if (metrics) {
      const connection = connectRedis(o.redisUrl, o.redisOptions);
      connection.on('error', () => {});
      const reader = new PoolStatusReader({ connection, namespace, pools: this.pools });
      registerPoolMetrics(metrics.registry, reader);
      const server = await startMetricsServer(metrics.registry, {
        port: o.metricsPort!,
        ...(o.metricsHost ? { host: o.metricsHost } : {}),
      });
      served = { server, reader, connection };
      this.metricsAt = server.url;
    }
    try {
      for (const worker of workers) await worker.start();
      await daemon.start();
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.close({ drain: false })));
      await coordinator.close();
      await store.close();
      if (served) {
        await served.server.close();
        await served.reader.close();
        served.connection.disconnect();
      }
      throw error;
    }
    this.log({ event: 'dags_loaded', dagIds: [...dags.current().keys()], namespace, workers: workers.length });
    return { store, coordinator, daemon, workers, dags: dags.current, ...(served ? { metrics: served } : {}) };
  }

  /** The DAGs as a live map: fixed for a list (each checked against the pools), rescanned for a folder. */
  private async loadDags(
    operators: OperatorRegistry,
  ): Promise<{ current: () => ReadonlyMap<string, DagSpec>; reload?: () => Promise<void> }> {
    const pools = this.pools.pools;
    const check = (dag: DagSpec) =>
      placeDag(dag, pools).issues.map((issue) => ({ code: issue.code, field: issue.field, message: issue.message }));
    if (typeof this.options.dags === 'string') {
      const folder = new DagFolder(this.options.dags, operators, check);
      const report = async () => {
        const change = await folder.scan();
        for (const loaded of change.loaded)
          this.log({ event: 'dag_file_loaded', file: loaded.file, dagIds: loaded.dagIds });
        for (const removed of change.removed)
          this.log({ event: 'dag_file_removed', file: removed.file, dagIds: removed.dagIds });
        for (const failed of change.failed)
          this.log({ event: 'dag_file_invalid', level: 'error', file: failed.file, message: failed.message });
      };
      await report();
      return { current: () => folder.dags, reload: report };
    }
    const specs = this.options.dags.map((dag) => ('spec' in dag ? (dag.spec as DagSpec) : dag));
    const issues = specs.flatMap(check);
    if (issues.length > 0) throw new DagValidationError(issues);
    const map = new Map(specs.map((spec) => [spec.id, spec]));
    return { current: () => map };
  }
}
