// The distributed executor: one BullMQ queue per worker pool. Attempts go in as BullMQ jobs (attempts: 1 —
// the scheduler owns retries); reports come back on one Redis stream that workers append to and this
// executor reads with a consumer group. The scheduler side never polls: a finished attempt reaches the
// listener as soon as the worker's XADD lands.
import { type Executor, type ExecutorListener, type Outcome, TASK_CANCELLED, type TaskJob } from '@batuta/scheduler';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';
import { choosePool } from '../placement/placement.js';
import type { SlotPool, WorkerPool } from '../pools/worker-pool.js';
import { invalidResourceDimension } from '../resources/resources.js';
import { describeJob, notify } from './attempt-text.js';
import { type ConnectionOptions, connectRedis } from './connection.js';
import {
  attemptJobId,
  bullmqPriority,
  cancelChannel,
  checkNamespace,
  checkPoolName,
  poolQueuePrefix,
  resultsStreamKey,
} from './keys.js';
import { type CancelMessage, cancelMatches, decodeReports, REPORT_FIELD, type WorkerReport } from './wire.js';

/** How a BullmqExecutor is set up. */
export interface BullmqExecutorOptions {
  /** `redis://host:port[/db]`. */
  redisUrl: string;
  /** Keys live under `batuta:<namespace>:`. */
  namespace: string;
  /** The pools attempts may go to; placement picks one per attempt (a task's `pool` wins when set). */
  pools: readonly WorkerPool[];
  /** Slot pools: their counters are not per-worker capacity when placing. */
  slotPools?: readonly SlotPool[];
  /**
   * Finished BullMQ jobs kept (default 24 h and at most 100,000 per pool). While a job is kept, resubmitting
   * its attempt (a scheduler restarting) adds nothing; the result itself travels on the results stream.
   */
  keepFinished?: { ageSeconds: number; count: number };
  /** The consumer name in the results group; one scheduler at a time reads (default `scheduler`). */
  consumer?: string;
  /**
   * How long reports stay in the results stream after they were read (default 10 min): a scheduler that
   * restarts within it recovers reports it read but had not recorded.
   */
  reportRetentionMs?: number;
  /** Extra ioredis options (tls, password …). */
  redisOptions?: ConnectionOptions;
  /** Jobs per `addBulk` call when many attempts are submitted at once (default 1,000). */
  batchSize?: number;
  /** Called with Redis and BullMQ errors that have no caller to throw to. */
  onError?: (error: unknown) => void;
}

interface Submitted {
  readonly job: TaskJob;
  readonly jobId: string;
  readonly pool: string;
  /** `buffered`: not yet sent to BullMQ (the next flush adds it); `queued`: in BullMQ. */
  state: 'buffered' | 'queued';
  started: boolean;
}

type FinishedReport = Extract<WorkerReport, { kind: 'finished' }>;

/** The consumer group every executor of a namespace reads the results stream with. */
export const RESULTS_GROUP = 'batuta-executor';
const READ_BATCH = 1_000;
const BLOCK_MS = 5_000;
/** Finished reports for attempts this executor does not know (yet), kept for a resubmission to claim. */
const ORPHAN_LIMIT = 100_000;
const TRIM_EVERY_MS = 10_000;

/**
 * The Executor on BullMQ.
 *
 * - **Queues**: one per pool, `batuta:<ns>:pool:<pool>`; the job id is `runId|taskId|mapIndex|tryNumber`,
 *   so submitting the same attempt twice (a scheduler restart) is a no-op; `attempts: 1`; the BullMQ
 *   priority comes from `priorityWeight` (higher weight, sooner).
 * - **Submit** validates, places and buffers the attempt and returns at once; attempts submitted in the
 *   same turn of the event loop go to Redis in one `addBulk`. If that fails they are reported failed
 *   (`ENQUEUE_FAILED`, retryable). Every accepted submit gets exactly one `finished`.
 * - **Results**: workers append `started`/`finished` reports to `batuta:<ns>:orch:results`; this executor
 *   reads it with XREADGROUP BLOCK (one round trip from the worker's report to the listener) and
 *   acknowledges what it read. Reports left unread while no scheduler ran are read at start, and reports
 *   read in the last `reportRetentionMs` are kept so a restarted scheduler can recover one it read but had
 *   not recorded when it died (its resubmission of the attempt claims the report).
 * - **Cancel**: publishes the cancellation (workers abort matching running attempts and refuse matching
 *   jobs they fetch in the next minute), removes matching waiting jobs, and reports every matching
 *   attempt `TASK_CANCELLED` at once; a worker's later report of it is dropped.
 * - **Close** sends what is buffered and stops reading; attempts in BullMQ keep running on the workers.
 */
export class BullmqExecutor implements Executor {
  private readonly namespace: string;
  private readonly pools: readonly WorkerPool[];
  private readonly slotPools: readonly SlotPool[];
  private readonly keepFinished: { age: number; count: number };
  private readonly consumer: string;
  private readonly reportRetentionMs: number;
  private readonly batchSize: number;
  private readonly onError: (error: unknown) => void;
  private readonly connection: Redis;
  private readonly reader: Redis;
  private readonly streamKey: string;
  private readonly queues = new Map<string, Queue>();
  private readonly submitted = new Map<string, Submitted>();
  private readonly buffer: Submitted[] = [];
  private readonly backlog: Record<string, number> = {};
  private readonly orphans = new Map<string, FinishedReport>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private listener: ExecutorListener | undefined;
  private reading: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: BullmqExecutorOptions) {
    this.namespace = checkNamespace(options.namespace);
    if (options.pools.length === 0)
      throw new OrchestratorError('NO_POOLS', 'the BullMQ executor needs at least one pool');
    for (const pool of options.pools) checkPoolName(pool.name);
    this.pools = options.pools;
    this.slotPools = options.slotPools ?? [];
    this.keepFinished = {
      age: options.keepFinished?.ageSeconds ?? 86_400,
      count: options.keepFinished?.count ?? 100_000,
    };
    this.consumer = options.consumer ?? 'scheduler';
    this.reportRetentionMs = options.reportRetentionMs ?? 600_000;
    this.batchSize = Math.max(1, options.batchSize ?? 1_000);
    this.onError = options.onError ?? (() => {});
    this.streamKey = resultsStreamKey(this.namespace);
    this.connection = connectRedis(options.redisUrl, options.redisOptions);
    this.reader = connectRedis(options.redisUrl, options.redisOptions);
    for (const client of [this.connection, this.reader]) client.on('error', (error) => this.onError(error));
    for (const pool of this.pools) this.backlog[pool.name] = 0;
  }

  /** Starts reading reports (first those left unread by an earlier run) and delivering them to `listener`. */
  async start(listener: ExecutorListener): Promise<void> {
    if (this.closed) throw new OrchestratorError('EXECUTOR_CLOSED', 'the BullMQ executor was closed; create a new one');
    if (this.listener) throw new OrchestratorError('EXECUTOR_STARTED', 'the BullMQ executor was already started');
    this.listener = listener;
    await this.ensureGroup();
    await this.loadHistory();
    this.reading = this.readLoop();
  }

  /** Places and queues an attempt; refused (thrown) when no pool can run it or after `close`. */
  async submit(job: TaskJob): Promise<void> {
    if (this.closed) {
      throw new OrchestratorError(
        'EXECUTOR_CLOSED',
        `cannot submit ${describeJob(job)}: the BullMQ executor is closed`,
      );
    }
    const problem = invalidResourceDimension(job.resources);
    if (problem) throw new OrchestratorError('BAD_RESOURCES', `${describeJob(job)} declares ${problem}`);
    if (!Number.isFinite(job.priorityWeight)) {
      throw new OrchestratorError(
        'BAD_PRIORITY',
        `${describeJob(job)} has priorityWeight ${job.priorityWeight}; use a finite number`,
      );
    }
    const pool = this.place(job);
    const jobId = attemptJobId(job);
    if (this.submitted.has(jobId)) return;
    const entry: Submitted = { job, jobId, pool, state: 'buffered', started: false };
    this.submitted.set(jobId, entry);
    this.backlog[pool] = (this.backlog[pool] ?? 0) + 1;
    const orphan = this.orphans.get(jobId);
    if (orphan) {
      // It already ran (reported while this executor did not know it, e.g. before a restart).
      this.orphans.delete(jobId);
      entry.state = 'queued';
      queueMicrotask(() => this.receive(orphan));
      return;
    }
    this.buffer.push(entry);
    this.flushScheduled ??= setImmediate(() => {
      this.flushScheduled = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  /** Stops matching attempts: waiting ones are removed, running ones aborted; each is reported `TASK_CANCELLED`. */
  async cancel(filter: { runId: string; taskId?: string; mapIndex?: number }, reason: string): Promise<number> {
    const matching = [...this.submitted.values()].filter((entry) => cancelMatches(filter, entry.job));
    // Reported first, so a worker's own report of the cancellation (or of a finish racing it) is dropped.
    const now = Date.now();
    for (const entry of matching) {
      const error = {
        message: `${describeJob(entry.job)} cancelled: ${reason}`,
        name: 'TaskCancelledError',
        code: TASK_CANCELLED,
        retryable: false,
      };
      this.settle(entry, { status: 'failed', error }, now, now, undefined);
    }
    const message: CancelMessage = { ...filter, reason };
    try {
      await this.connection.publish(cancelChannel(this.namespace), JSON.stringify(message));
    } catch (error) {
      this.onError(error);
    }
    // Waiting jobs leave the queue; a running one is locked (remove does nothing) and its worker aborts it.
    await Promise.all(
      matching
        .filter((entry) => entry.state === 'queued')
        .map((entry) =>
          this.queue(entry.pool)
            .remove(entry.jobId)
            .catch((error: unknown) => this.onError(error)),
        ),
    );
    return matching.length;
  }

  /** Sends what is buffered, stops reading reports and closes the connections. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** The BullMQ queue of a pool (for metrics and tools); created on first use. */
  queue(pool: string): Queue {
    let queue = this.queues.get(pool);
    if (!queue) {
      queue = new Queue(checkPoolName(pool), { connection: this.connection, prefix: poolQueuePrefix(this.namespace) });
      queue.on('error', (error) => this.onError(error));
      this.queues.set(pool, queue);
    }
    return queue;
  }

  /** Attempts submitted and not yet reported finished. */
  inFlightCount(): number {
    return this.submitted.size;
  }

  private place(job: TaskJob): string {
    const placement = choosePool(
      {
        taskId: job.taskId,
        resources: job.resources,
        ...(job.pool === undefined ? {} : { pool: job.pool }),
      },
      this.pools,
      { backlog: this.backlog, slotPools: this.slotPools },
    );
    if (placement.issue) {
      throw new OrchestratorError(placement.issue.code, `${describeJob(job)}: ${placement.issue.message}`);
    }
    return placement.pool.name;
  }

  private async flush(): Promise<void> {
    const entries = this.buffer.splice(0).filter((entry) => this.submitted.get(entry.jobId) === entry);
    const byPool = new Map<string, Submitted[]>();
    for (const entry of entries) {
      const list = byPool.get(entry.pool);
      if (list) list.push(entry);
      else byPool.set(entry.pool, [entry]);
    }
    for (const [pool, list] of byPool) {
      for (let start = 0; start < list.length; start += this.batchSize) {
        const chunk = list.slice(start, start + this.batchSize);
        for (const entry of chunk) entry.state = 'queued';
        try {
          await this.queue(pool).addBulk(
            chunk.map((entry) => ({
              name: `${entry.job.dagId}.${entry.job.taskId}`,
              data: entry.job,
              opts: {
                jobId: entry.jobId,
                priority: bullmqPriority(entry.job.priorityWeight),
                attempts: 1,
                removeOnComplete: this.keepFinished,
                removeOnFail: this.keepFinished,
              },
            })),
          );
        } catch (thrown) {
          this.onError(thrown);
          const now = Date.now();
          for (const entry of chunk) {
            if (this.submitted.get(entry.jobId) !== entry) continue;
            const error = {
              message: `${describeJob(entry.job)} could not be queued: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
              name: 'OrchestratorError',
              code: 'ENQUEUE_FAILED',
              retryable: true,
            };
            this.settle(entry, { status: 'failed', error }, now, now, undefined);
          }
        }
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.connection.xgroup('CREATE', this.streamKey, RESULTS_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  private async readLoop(): Promise<void> {
    // Entries delivered to this consumer but never acknowledged (an earlier run stopped) come first.
    let cursor = '0';
    let lastTrimMs = Date.now();
    let lastReadMs = 0;
    while (!this.closed) {
      let reply: Array<[string, Array<[string, string[] | null]>]> | null;
      try {
        reply = (await this.reader.xreadgroup(
          'GROUP',
          RESULTS_GROUP,
          this.consumer,
          'COUNT',
          READ_BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.streamKey,
          cursor,
        )) as Array<[string, Array<[string, string[] | null]>]> | null;
      } catch (error) {
        if (this.closed) return;
        // A Redis that lost the stream (restarted without persistence) has lost the group too.
        if (error instanceof Error && error.message.startsWith('NOGROUP')) await this.ensureGroup().catch(() => {});
        else this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (cursor !== '>' && entries.length === 0) {
        cursor = '>';
        continue;
      }
      const ids: string[] = [];
      for (const [id, fields] of entries) {
        ids.push(id);
        if (cursor !== '>') cursor = id;
        const text = fields && fields[0] === REPORT_FIELD ? fields[1] : undefined;
        if (text !== undefined) for (const report of decodeReports(text)) this.receive(report);
      }
      if (ids.length > 0) {
        lastReadMs = Number(ids[ids.length - 1]!.split('-')[0]);
        this.connection.xack(this.streamKey, RESULTS_GROUP, ...ids).catch((error: unknown) => this.onError(error));
      }
      const now = Date.now();
      if (now - lastTrimMs >= TRIM_EVERY_MS && lastReadMs > 0) {
        lastTrimMs = now;
        // Keep what was read in the last `reportRetentionMs` (see `loadHistory`), and all that was not read.
        const keepFromMs = Math.min(now - this.reportRetentionMs, lastReadMs);
        this.connection
          .xtrim(this.streamKey, 'MINID', '~', `${keepFromMs}-0`)
          .catch((error: unknown) => this.onError(error));
      }
    }
  }

  /**
   * Finished reports of the last `reportRetentionMs`, already acknowledged by an earlier run, become
   * orphans a resubmission can claim: a scheduler that died after reading a report but before recording
   * it resubmits the attempt on restart, and gets the report instead of a no-op add that never reports.
   */
  private async loadHistory(): Promise<void> {
    const fromMs = Date.now() - this.reportRetentionMs;
    let start = `${fromMs}-0`;
    for (;;) {
      const entries = (await this.connection.xrange(this.streamKey, start, '+', 'COUNT', READ_BATCH)) as Array<
        [string, string[]]
      >;
      for (const [, fields] of entries) {
        const text = fields[0] === REPORT_FIELD ? fields[1] : undefined;
        if (text === undefined) continue;
        for (const report of decodeReports(text)) if (report.kind === 'finished') this.rememberOrphan(report);
      }
      if (entries.length < READ_BATCH) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  private receive(report: WorkerReport): void {
    const entry = this.submitted.get(report.jobId);
    const listener = this.listener;
    switch (report.kind) {
      case 'started':
        if (!entry || entry.started || !listener) return;
        entry.started = true;
        notify(() => listener.started(entry.job, report.atMs, report.worker));
        return;
      case 'finished':
        if (!entry) {
          this.rememberOrphan(report);
          return;
        }
        this.settle(entry, report.outcome, report.startedMs, report.endedMs, report.worker);
        return;
      case 'log':
        if (entry && listener?.log) notify(() => listener.log?.(entry.job, report.message));
        return;
      case 'progress':
        if (entry && listener?.progress) notify(() => listener.progress?.(entry.job, report.fraction));
        return;
    }
  }

  /** The one `finished` of an attempt (later reports of it find nothing to settle). */
  private settle(entry: Submitted, outcome: Outcome, startedMs: number, endedMs: number, worker: string | undefined) {
    this.submitted.delete(entry.jobId);
    this.backlog[entry.pool] = Math.max(0, (this.backlog[entry.pool] ?? 1) - 1);
    const listener = this.listener;
    if (!listener) return;
    if (!entry.started && worker !== undefined) {
      // Its `started` report was lost or is behind; the listener still hears it first.
      entry.started = true;
      notify(() => listener.started(entry.job, startedMs, worker));
    }
    const result = { job: entry.job, outcome, startedMs, endedMs, ...(worker === undefined ? {} : { worker }) };
    notify(() => listener.finished(result));
  }

  private rememberOrphan(report: FinishedReport): void {
    if (this.orphans.size >= ORPHAN_LIMIT) this.orphans.delete(this.orphans.keys().next().value as string);
    this.orphans.set(report.jobId, report);
  }

  private async shutdown(): Promise<void> {
    if (this.flushScheduled) {
      clearImmediate(this.flushScheduled);
      this.flushScheduled = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    this.reader.disconnect();
    await this.reading?.catch(() => {});
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => {})));
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
