// The distributed executor: one BullMQ queue per worker pool. Attempts go in as BullMQ jobs (attempts: 1 —
// the scheduler owns retries); reports come back on one Redis stream that workers append to and every
// executor reads. The scheduler side does not poll for results: a finished attempt reaches the listener as
// soon as the worker's report lands. A slow safety net looks up attempts that stay silent for long.
import {
  type Executor,
  type ExecutorListener,
  type Outcome,
  TASK_CANCELLED,
  type TaskJob,
  taskError,
} from '@batuta/scheduler';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeJob, notify } from '../attempt-text.js';
import { OrchestratorError } from '../errors.js';
import { choosePool } from '../placement/placement.js';
import type { SlotPool, WorkerPool } from '../pools/worker-pool.js';
import { checkSubmittable } from '../submit-check.js';
import { DEFAULT_ALIVE_TTL_MS, DEFAULT_OUTAGE_GRACE_MS } from './alive-beacon.js';
import { WORKER_LOST } from './attempt-outcomes.js';
import { JOB_ADDED_FIELD, JOB_FINISHED_FIELD, jobHashKey } from './bullmq-internals.js';
import { type ConnectionOptions, connectRedis } from './connection.js';
import {
  attemptJobId,
  bullmqPriority,
  cancelChannel,
  checkNamespace,
  checkPoolName,
  resultsStreamKey,
  workerAliveKey,
} from './keys.js';
import { poolQueue } from './pool-queue.js';
import { ReportReader } from './report-reader.js';
import { type CancelMessage, cancelMatches, decodeReports, REPORT_HASH_FIELD, type WorkerReport } from './wire.js';

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
  /** This executor's name (the scheduler id), for messages. Every executor reads every report. */
  consumer?: string;
  /**
   * How long reports stay in the results stream (default 10 min). An executor that starts reads that
   * much of the past, so a restarted (or adopting) scheduler gets the reports of attempts it resubmits.
   */
  reportRetentionMs?: number;
  /**
   * The safety net: an attempt silent for this long (default 10 s, then doubling up to 5 min) is looked up
   * in BullMQ; a report the stream no longer holds is read from the job, and a job that vanished is
   * reported failed (`JOB_LOST`, retryable).
   */
  checkSilentAfterMs?: number;
  /**
   * How long a WORKER_LOST is held back while the attempt's worker may still deliver its report (its lock
   * was lost to a Redis outage, not to its death): default 5 min, as the workers' `outageGraceMs`. A
   * WORKER_LOST is settled at once when the worker's alive key is gone (after Redis has been back for
   * `aliveTtlMs`, so live workers had time to write it again).
   */
  outageGraceMs?: number;
  /** The workers' alive-key time to live (default 10 s; use the workers' value). */
  aliveTtlMs?: number;
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
  /** `buffered`: not yet sent (the next flush adds it); `adding`: being added; `queued`: in BullMQ. */
  state: 'buffered' | 'adding' | 'queued';
  started: boolean;
  /** The worker its `started` report named: the one that may still deliver after a lost lock. */
  worker: string | undefined;
  /** A WORKER_LOST held back while that worker may still deliver, and until when at most. */
  lost: { report: FinishedReport; untilMs: number } | undefined;
  /** When the safety net looks this attempt up next, and the wait after that. */
  checkAtMs: number;
  checkAfterMs: number;
}

type FinishedReport = Extract<WorkerReport, { kind: 'finished' }>;
type StartedReport = Extract<WorkerReport, { kind: 'started' }>;

/** Finished reports for attempts this executor does not know (yet), kept for a resubmission to claim. */
const ORPHAN_LIMIT = 100_000;
const CHECK_EVERY_MS = 1_000;
const CHECK_AFTER_MAX_MS = 300_000;

/**
 * The Executor on BullMQ.
 *
 * - **Queues**: one per pool, `batuta:<ns>:pool:<pool>`; the job id is `runId|taskId|mapIndex|tryNumber`,
 *   so submitting the same attempt twice (a scheduler restart) is a no-op; `attempts: 1`; the BullMQ
 *   priority comes from `priorityWeight` (higher weight, sooner).
 * - **Submit** validates, places and buffers the attempt and returns at once; attempts submitted in the
 *   same turn of the event loop go to Redis in one `addBulk`. If that fails they are reported failed
 *   (`ENQUEUE_FAILED`, retryable). Every accepted submit gets exactly one `finished`.
 * - **Results**: workers append `started`/`finished` reports to `batuta:<ns>:orch:results`; every executor
 *   reads all of it with XREAD BLOCK (one round trip from the worker's report to the listener) and keeps
 *   the reports of its own attempts. Several schedulers can drive runs at once. Reports stay for
 *   `reportRetentionMs`; an executor starting reads that much of the past, and a report of an attempt it
 *   does not know yet is kept, so resubmitting an attempt that already finished (a restart, or a run
 *   adopted from a dead scheduler) gets its report instead of waiting forever.
 * - **Safety net**: attempts that stay silent are looked up in BullMQ (`checkSilentAfterMs`): the worker
 *   also writes each finished report into its job, so a report trimmed from the stream is still found.
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
  private readonly reportRetentionMs: number;
  private readonly checkSilentAfterMs: number;
  private readonly outageGraceMs: number;
  private readonly aliveTtlMs: number;
  /** When this executor's connection last became ready (a reconnect after an outage resets it). */
  private readySinceMs = Date.now();
  private checkingLost = false;
  private readonly batchSize: number;
  private readonly onError: (error: unknown) => void;
  private readonly connection: Redis;
  private readonly blocking: Redis;
  private readonly reader: ReportReader;
  private readonly queues = new Map<string, Queue>();
  private readonly submitted = new Map<string, Submitted>();
  private readonly buffer: Submitted[] = [];
  private readonly backlog: Record<string, number> = {};
  private readonly orphans = new Map<string, FinishedReport>();
  /**
   * `started` reports of attempts this executor does not know (yet): a restarted or adopting scheduler
   * reads them from the stream's past before it resubmits, and needs the worker they name to hold a
   * WORKER_LOST back while that worker may still deliver (a Redis outage) instead of settling it at once.
   */
  private readonly orphanStarts = new Map<string, StartedReport>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private listener: ExecutorListener | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
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
    this.reportRetentionMs = options.reportRetentionMs ?? 600_000;
    this.checkSilentAfterMs = options.checkSilentAfterMs ?? 10_000;
    this.outageGraceMs = options.outageGraceMs ?? DEFAULT_OUTAGE_GRACE_MS;
    this.aliveTtlMs = options.aliveTtlMs ?? DEFAULT_ALIVE_TTL_MS;
    this.batchSize = Math.max(1, options.batchSize ?? 1_000);
    this.onError = options.onError ?? (() => {});
    this.connection = connectRedis(options.redisUrl, options.redisOptions);
    this.blocking = connectRedis(options.redisUrl, options.redisOptions);
    for (const client of [this.connection, this.blocking]) client.on('error', (error) => this.onError(error));
    this.connection.on('ready', () => {
      this.readySinceMs = Date.now();
    });
    this.reader = new ReportReader(
      this.connection,
      this.blocking,
      resultsStreamKey(this.namespace),
      this.reportRetentionMs,
      (report) => this.receive(report),
      (error) => this.onError(error),
    );
    for (const pool of this.pools) this.backlog[pool.name] = 0;
  }

  /** Reads the recent reports (for attempts resubmitted after a restart), then delivers new ones to `listener`. */
  async start(listener: ExecutorListener): Promise<void> {
    if (this.closed) throw new OrchestratorError('EXECUTOR_CLOSED', 'the BullMQ executor was closed; create a new one');
    if (this.listener) throw new OrchestratorError('EXECUTOR_STARTED', 'the BullMQ executor was already started');
    this.listener = listener;
    await this.reader.start();
    this.checkTimer = setInterval(() => {
      void this.checkSilent();
      void this.checkLost();
    }, CHECK_EVERY_MS);
  }

  /** Places and queues an attempt; refused (thrown) when no pool can run it or after `close`. */
  async submit(job: TaskJob): Promise<void> {
    checkSubmittable(job, 'the BullMQ executor', this.closed);
    const pool = this.place(job);
    const jobId = attemptJobId(job);
    if (this.submitted.has(jobId)) return;
    const entry: Submitted = {
      job,
      jobId,
      pool,
      state: 'buffered',
      started: false,
      worker: undefined,
      lost: undefined,
      checkAtMs: Date.now() + this.checkSilentAfterMs,
      checkAfterMs: this.checkSilentAfterMs,
    };
    this.submitted.set(jobId, entry);
    this.backlog[pool] = (this.backlog[pool] ?? 0) + 1;
    const orphanStart = this.orphanStarts.get(jobId);
    if (orphanStart) {
      this.orphanStarts.delete(jobId);
      queueMicrotask(() => this.receive(orphanStart));
    }
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
  async cancel(
    filter: { runId: string; taskId?: string; mapIndex?: number; tryNumber?: number },
    reason: string,
  ): Promise<number> {
    const matching = [...this.submitted.values()].filter((entry) => cancelMatches(filter, entry.job));
    // Reported first, so a worker's own report of the cancellation (or of a finish racing it) is dropped.
    const now = Date.now();
    for (const entry of matching) {
      const error = taskError(`${describeJob(entry.job)} cancelled: ${reason}`, {
        name: 'TaskCancelledError',
        code: TASK_CANCELLED,
        retryable: false,
      });
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
        .filter((entry) => entry.state !== 'buffered')
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
      queue = poolQueue(this.connection, this.namespace, pool, (error) => this.onError(error));
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
        for (const entry of chunk) entry.state = 'adding';
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
          for (const entry of chunk) entry.state = 'queued';
        } catch (thrown) {
          this.onError(thrown);
          const now = Date.now();
          for (const entry of chunk) {
            if (this.submitted.get(entry.jobId) !== entry) continue;
            const why = thrown instanceof Error ? thrown.message : String(thrown);
            const error = taskError(`${describeJob(entry.job)} could not be queued: ${why}`, {
              name: 'OrchestratorError',
              code: 'ENQUEUE_FAILED',
              retryable: true,
            });
            this.settle(entry, { status: 'failed', error }, now, now, undefined);
          }
        }
      }
    }
  }

  /**
   * The safety net, for attempts silent past their check time: reads the report the worker wrote into the
   * job (a report the stream no longer holds), or reports the attempt lost when its job is gone.
   */
  private async checkSilent(): Promise<void> {
    if (this.checking || this.closed) return;
    const now = Date.now();
    const due = [...this.submitted.values()].filter((entry) => entry.state === 'queued' && entry.checkAtMs <= now);
    if (due.length === 0) return;
    this.checking = true;
    try {
      const pipeline = this.connection.pipeline();
      for (const entry of due) {
        const jobKey = jobHashKey(this.queue(entry.pool), entry.jobId);
        pipeline.hmget(jobKey, REPORT_HASH_FIELD, JOB_ADDED_FIELD, JOB_FINISHED_FIELD);
      }
      const replies = (await pipeline.exec()) ?? [];
      for (const [index, entry] of due.entries()) {
        if (this.submitted.get(entry.jobId) !== entry) continue;
        const [error, fields] = replies[index] ?? [];
        if (error || !Array.isArray(fields)) continue;
        const [reportText, timestamp, finishedOn] = fields as Array<string | null>;
        const report = reportText ? decodeReports(reportText).find((r) => r.jobId === entry.jobId) : undefined;
        if (report) {
          this.receive(report);
        } else if (timestamp === null || finishedOn !== null) {
          const at = Date.now();
          const why = timestamp === null ? 'its job is no longer in the queue' : 'its job ended without a report';
          const lost = taskError(`${describeJob(entry.job)} was lost: ${why}`, {
            name: 'OrchestratorError',
            code: 'JOB_LOST',
            retryable: true,
          });
          this.settle(entry, { status: 'failed', error: lost }, at, at, undefined);
        } else {
          entry.checkAfterMs = Math.min(entry.checkAfterMs * 2, CHECK_AFTER_MAX_MS);
          entry.checkAtMs = Date.now() + entry.checkAfterMs;
        }
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.checking = false;
    }
  }

  private receive(report: WorkerReport): void {
    const entry = this.submitted.get(report.jobId);
    const listener = this.listener;
    switch (report.kind) {
      case 'started':
        if (!entry) {
          remember(this.orphanStarts, report);
          return;
        }
        if (entry.started || !listener) return;
        entry.started = true;
        entry.worker = report.worker;
        notify(() => listener.started(entry.job, report.atMs, report.worker));
        return;
      case 'finished':
        if (!entry) {
          this.rememberOrphan(report);
          return;
        }
        if (this.mayStillDeliver(entry, report)) {
          entry.lost ??= { report, untilMs: Date.now() + this.outageGraceMs };
          return;
        }
        this.settle(entry, report.outcome, report.startedMs, report.endedMs, report.worker);
        return;
      case 'progress':
        if (entry && listener?.progress) notify(() => listener.progress?.(entry.job, report.fraction));
        return;
    }
  }

  /**
   * A WORKER_LOST comes from a stalled check, which cannot tell a dead worker from one cut off from Redis
   * for longer than the lock lasts. The latter may still deliver the attempt's real report; it is held
   * back for that (see `checkLost`) while the attempt's worker is known and the grace is not off.
   */
  private mayStillDeliver(entry: Submitted, report: FinishedReport): boolean {
    const lost = report.outcome.status === 'failed' && report.outcome.error.code === WORKER_LOST;
    return lost && this.outageGraceMs > 0 && entry.worker !== undefined;
  }

  /**
   * Settles the held WORKER_LOSTs whose worker is really gone (its alive key expired, and Redis has been
   * back long enough for a live worker to have written it again) or whose grace ran out. While Redis is
   * away nothing is settled: the lookup fails and is tried again on the next tick.
   */
  private async checkLost(): Promise<void> {
    if (this.checkingLost || this.closed) return;
    const held = [...this.submitted.values()].filter((entry) => entry.lost !== undefined);
    if (held.length === 0) return;
    this.checkingLost = true;
    try {
      const now = Date.now();
      const trustAbsence = now - this.readySinceMs >= this.aliveTtlMs;
      const lookups = held.filter((entry) => (entry.lost?.untilMs ?? 0) > now && trustAbsence);
      const alive = new Map<string, boolean>();
      if (lookups.length > 0) {
        const pipeline = this.connection.pipeline();
        for (const entry of lookups) pipeline.exists(workerAliveKey(this.namespace, entry.worker ?? ''));
        const replies = (await pipeline.exec()) ?? [];
        for (const [index, entry] of lookups.entries()) {
          const [error, count] = replies[index] ?? [];
          if (!error) alive.set(entry.jobId, count !== 0);
        }
      }
      for (const entry of held) {
        const lost = entry.lost;
        if (!lost || this.submitted.get(entry.jobId) !== entry) continue;
        if (lost.untilMs <= Date.now() || alive.get(entry.jobId) === false) {
          this.settle(entry, lost.report.outcome, lost.report.startedMs, lost.report.endedMs, lost.report.worker);
        }
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.checkingLost = false;
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
    this.orphanStarts.delete(report.jobId);
    remember(this.orphans, report);
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    if (this.flushScheduled) {
      clearImmediate(this.flushScheduled);
      this.flushScheduled = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    const stopped = this.reader.stop();
    this.blocking.disconnect();
    await stopped;
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => {})));
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

/** Keeps a report of an attempt not submitted (yet), the oldest dropped past ORPHAN_LIMIT. */
function remember<R extends WorkerReport>(orphans: Map<string, R>, report: R): void {
  if (orphans.size >= ORPHAN_LIMIT && !orphans.has(report.jobId)) {
    orphans.delete(orphans.keys().next().value as string);
  }
  orphans.set(report.jobId, report);
}
