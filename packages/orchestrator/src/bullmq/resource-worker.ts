// A worker of one pool: a BullMQ Worker without a processor, fetching jobs by hand only while its free
// resources can cover one, so a 4-cpu worker runs four 1-cpu tasks or one 4-cpu task, never both.
import { hostname } from 'node:os';
import { type Outcome, type ResourceSpec, TASK_CANCELLED, type TaskError, type TaskJob } from '@batuta/scheduler';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';
import { slotNeed, slotPoolNames, workerNeed } from '../pools/worker-pool.js';
import { type AdmissionMemory, admitFetched, mayFetch, NO_ADMISSION_MEMORY } from '../resources/admission-policy.js';
import { ResourceLedger } from '../resources/resource-ledger.js';
import { AliveBeacon, DEFAULT_ALIVE_TTL_MS, DEFAULT_OUTAGE_GRACE_MS } from './alive-beacon.js';
import { bullmqErrorOf, lostWithWorkerError, stoppedError, tooBigError } from './attempt-outcomes.js';
import { type AfterFinish, AttemptRunner, type RunningAttempt } from './attempt-runner.js';
import {
  interruptBlockingFetch,
  jobFetchedWithCompletion,
  jobHashKey,
  markQueueHasJobs,
  wasLostWithItsWorker,
} from './bullmq-internals.js';
import { connectRedis } from './connection.js';
import { cancelChannel, checkNamespace, checkPoolName, poolQueuePrefix, resultsStreamKey } from './keys.js';
import { LockRenewer } from './lock-renewer.js';
import { RecentCancels } from './recent-cancels.js';
import { ReportOutbox } from './report-outbox.js';
import type { CloseOptions, ResourceWorkerOptions, WorkerEvent } from './resource-worker-options.js';
import { SlotPools } from './slot-pools.js';
import { decodeCancel, parseTaskJob } from './wire.js';

/**
 * A pool worker with resource admission on BullMQ's manual fetching.
 *
 * - **Admission**: a fetched job whose needs fit the free resources starts at once. One that does not
 *   fit *now* is handed back with `moveToWait`, which puts it back at the front of its priority (nothing
 *   is lost, another worker with room takes it), and this worker fetches nothing more until it has room
 *   for that job. So a big job at the head is not starved by smaller ones behind it (jobs already being
 *   fetched when it came back may still start first); the cost is head-of-line order per pool.
 * - **Fetching only when it can pay**: a worker fetches while its free resources, less the smallest job
 *   seen for each fetch already under way, still cover the smallest job seen; a full worker does not
 *   fetch jobs just to hand them back.
 * - **Throughput**: completing a job fetches the next one in the same round trip (BullMQ's `fetchNext`)
 *   while there is room; one blocking fetch waits when the queue is empty.
 * - **Reports**: `started` and `finished` go to the results stream, before the job is moved to
 *   completed/failed (only while its lock is ours), so a crash in between is seen as a lost worker rather
 *   than a lost result. A report Redis refuses is kept and sent again until Redis is back.
 * - **Redis outages**: a lock lost to an outage does not stop the body for `outageGraceMs`; its report
 *   goes out late and wins over the WORKER_LOST a stalled check produces, because the executor holds that
 *   while this worker's alive key (refreshed every `aliveTtlMs / 3`) says the worker lives.
 * - **Timeouts** abort the body's signal and report `TASK_TIMEOUT` (retryable) at once; **cancellations**
 *   (published by the executor) report `TASK_CANCELLED`. Resources are released only when the body
 *   settles, so capacity is never oversubscribed by a body that ignores its signal.
 * - **Dead workers**: `maxStalledCount: 0`. When a worker dies mid-task its lock expires, a stalled check
 *   (any worker's) marks the job failed-on-next-fetch, and the worker that fetches it reports `WORKER_LOST`
 *   (retryable): the scheduler retries with the next try number; the job is never silently re-run.
 * - **Slot pools**: slots are taken atomically (Lua) after local admission; a job whose slots are all
 *   taken goes to `delayed` for `slotRetryMs`, so it does not block the jobs behind it.
 */
export class ResourceWorker {
  readonly name: string;
  readonly pool: string;
  private readonly namespace: string;
  private readonly slotRetryMs: number;
  private readonly onEvent: (event: WorkerEvent) => void;
  private readonly connection: Redis;
  private readonly subscriber: Redis;
  private readonly bull: Worker;
  private readonly slots: SlotPools | undefined;
  private readonly slotNames: ReadonlySet<string>;
  private readonly outbox: ReportOutbox;
  private readonly beacon: AliveBeacon;
  private readonly ledger: ResourceLedger;
  private readonly renewer: LockRenewer;
  private readonly attempts: AttemptRunner;
  private readonly cancels: RecentCancels;
  private readonly accepting = new Set<Promise<void>>();
  private admission: AdmissionMemory = NO_ADMISSION_MEMORY;
  /** Fetches sent and not yet answered (the fetch loop's, and completions that fetch the next job). */
  private fetchesInFlight = 0;
  /** Fetches owed to jobs found stalled: they are reported lost even while this worker is full. */
  private forcedFetches = 0;
  private wake: (() => void) | undefined;
  private tokenCount = 0;
  private stopping = false;
  private fetching: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ResourceWorkerOptions) {
    this.namespace = checkNamespace(options.namespace);
    this.pool = checkPoolName(options.pool);
    this.ledger = new ResourceLedger(options.capacity, 'worker');
    this.name = options.name ?? `${hostname()}:${process.pid}:${this.pool}`;
    const lockDurationMs = options.lockDurationMs ?? 30_000;
    this.slotRetryMs = options.slotRetryMs ?? 500;
    this.cancels = new RecentCancels(options.cancelMemoryMs ?? 60_000);
    this.onEvent = options.onEvent ?? (() => {});
    this.connection = connectRedis(options.redisUrl, options.redisOptions);
    this.subscriber = connectRedis(options.redisUrl, options.redisOptions);
    for (const client of [this.connection, this.subscriber]) client.on('error', (error) => this.error(error));
    this.outbox = new ReportOutbox(this.connection, resultsStreamKey(this.namespace), (error) => this.error(error));
    this.beacon = new AliveBeacon(
      this.connection,
      this.namespace,
      this.name,
      options.aliveTtlMs ?? DEFAULT_ALIVE_TTL_MS,
    );
    this.slotNames = slotPoolNames(options.slotPools);
    this.slots =
      this.slotNames.size > 0
        ? new SlotPools(this.connection, this.namespace, options.slotPools ?? [], lockDurationMs)
        : undefined;
    this.bull = new Worker(this.pool, null, {
      connection: this.connection,
      prefix: poolQueuePrefix(this.namespace),
      autorun: false,
      name: this.name,
      lockDuration: lockDurationMs,
      stalledInterval: options.stalledIntervalMs ?? lockDurationMs,
      // A job whose worker died is not re-run under the same try: it fails on its next fetch (WORKER_LOST).
      maxStalledCount: 0,
      // The LockRenewer extends our locks; BullMQ's LockManager only knows jobs its own processor runs.
      skipLockRenewal: true,
      drainDelay: options.idleBlockSeconds ?? 5,
    });
    this.bull.on('error', (error) => this.error(error));
    // A stalled job goes to the front of the wait list; fetch it even when full, to report it lost now.
    this.bull.on('stalled', () => {
      this.forcedFetches++;
      this.wake?.();
    });
    this.renewer = new LockRenewer({
      lockDurationMs,
      extend: (jobIds, tokens, durationMs) => this.bull.extendJobLocks(jobIds, tokens, durationMs),
      onLost: (jobId) => this.attempts.lockLost(jobId),
      onError: (error) => this.error(error),
    });
    this.attempts = new AttemptRunner({
      workerName: this.name,
      outageGraceMs: options.outageGraceMs ?? DEFAULT_OUTAGE_GRACE_MS,
      invoke: options.invoke,
      logStore: options.logStore,
      logFlushEveryMs: options.logFlushEveryMs,
      outbox: this.outbox,
      renewer: this.renewer,
      finish: (attempt, outcome, after) => this.finish(attempt, outcome, after),
      release: (attempt) => this.release(attempt),
      settled: () => this.wake?.(),
      renewSlots: (attempt) => this.renewSlots(attempt),
      onLockLost: (job) => this.onEvent({ type: 'lockLost', job }),
      onAdmitted: (job) => this.onEvent({ type: 'admitted', job }),
      onError: (error) => this.error(error),
    });
  }

  /** Connects, subscribes to cancellations, starts the stalled checker and begins fetching. */
  async start(): Promise<void> {
    if (this.fetching || this.closing) throw new OrchestratorError('WORKER_STARTED', 'the worker was already started');
    await this.bull.waitUntilReady();
    this.subscriber.on('message', (_channel: string, text: string) => this.onCancel(text));
    await this.subscriber.subscribe(cancelChannel(this.namespace));
    await this.bull.startStalledCheckTimer();
    this.renewer.start();
    this.beacon.start();
    this.fetching = this.fetchLoop();
  }

  /**
   * Stops fetching and closes. With `drain` (the default) running attempts finish first, for at most
   * `deadlineMs`; attempts still running then (or all, without `drain`) are handed back to the queue,
   * where another worker runs them under the same try. Resolves when the connections are closed. While a
   * drain is under way, `close({ drain: false })` ends it at once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) {
      // A second, impatient close (a second Ctrl-C) stops waiting for the running attempts.
      if (options.drain === false) this.attempts.cutWait();
      return this.closing;
    }
    this.closing = this.shutdown(options.drain ?? true, options.deadlineMs ?? 30_000);
    return this.closing;
  }

  /** Resources held by attempts right now (bodies that were aborted but have not settled included). */
  inUse(): ResourceSpec {
    return this.ledger.inUse();
  }

  /** The most of each dimension ever held at once. */
  peakInUse(): ResourceSpec {
    return this.ledger.peakInUse();
  }

  /** Bodies executing now. */
  runningCount(): number {
    return this.attempts.size;
  }

  /** True when another fetch could bring a job that fits (see `mayFetch`). */
  private hasRoom(): boolean {
    return mayFetch(this.admission, this.ledger.free, this.fetchesInFlight);
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      const room = this.hasRoom();
      if (!room && this.forcedFetches === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      if (this.forcedFetches > 0) this.forcedFetches--;
      const token = `${this.bull.id}:${this.tokenCount++}`;
      let job: Job | undefined;
      this.fetchesInFlight++;
      try {
        // Without room this is a fetch owed to a stalled job: take it if it is there, do not wait.
        job = (await this.bull.getNextJob(token, { block: room })) as Job | undefined;
      } catch (error) {
        this.fetchesInFlight--;
        if (this.stopping) break;
        this.error(error);
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      this.fetchesInFlight--;
      if (job) await this.accept(job, token).catch((error: unknown) => this.error(error));
    }
  }

  /** Decides what to do with a job this worker now holds (locked, in BullMQ's active list). */
  private async accept(job: Job, token: string): Promise<void> {
    const task = parseTaskJob(job.data);
    if (!task) {
      const error = new Error(`job ${job.id} is not a Batuta task attempt (its data is not a TaskJob)`);
      await job.moveToFailed(error, token, false).catch((thrown: unknown) => this.error(thrown));
      return;
    }
    // Its worker died or stopped renewing the lock; the stalled check marked it.
    if (wasLostWithItsWorker(job)) return this.finishUnstarted(job, token, task, lostWithWorkerError(task));
    if (this.stopping) return this.handBack(job, token, task, 'closing');
    const cancel = this.cancels.find(task, Date.now());
    if (cancel) {
      return this.finishUnstarted(job, token, task, stoppedError(task, TASK_CANCELLED, `cancelled: ${cancel.reason}`));
    }
    const need = workerNeed(task.resources, this.slotNames);
    const { admission, memory } = admitFetched(this.admission, need, this.ledger.free, this.ledger.capacity);
    this.admission = memory;
    if (admission === 'too-big') {
      const worker = { name: this.name, pool: this.pool, capacity: this.ledger.capacity };
      return this.finishUnstarted(job, token, task, tooBigError(task, need, worker));
    }
    if (admission === 'hand-back') return this.handBack(job, token, task, 'no-fit');
    // Reserve before any await: a job fetched meanwhile sees what is really free.
    this.ledger.reserve(need);
    const slots = this.slots ? slotNeed(task.resources, this.slotNames) : undefined;
    if (slots && !(await this.takeSlots(job, slots))) {
      this.ledger.release(need);
      this.wake?.();
      await job.moveToDelayed(Date.now() + this.slotRetryMs, token).catch((error: unknown) => this.error(error));
      this.onEvent({ type: 'delayedForSlots', job: task });
      return;
    }
    this.attempts.launch(job, token, task, need, slots ? Object.keys(slots) : undefined);
  }

  /** Takes every slot-pool slot the job needs, or none; false when they are taken (or Redis failed). */
  private async takeSlots(job: Job, slots: Record<string, number>): Promise<boolean> {
    try {
      return (await this.slots?.acquire(job.id!, slots)) ?? true;
    } catch (error) {
      this.error(error);
      return false;
    }
  }

  private renewSlots(attempt: RunningAttempt): (() => Promise<void>) | undefined {
    const { slots } = this;
    const names = attempt.slots;
    return slots && names ? () => slots.renew(attempt.jobId, names) : undefined;
  }

  /** A body settled: its resources and slots are free again. */
  private release(attempt: RunningAttempt): void {
    this.ledger.release(attempt.need);
    if (attempt.slots && this.slots) {
      this.slots.release(attempt.jobId, attempt.slots).catch((error: unknown) => this.error(error));
    }
  }

  /** Reports a job that never ran here (lost, cancelled, too big) and moves it to failed. */
  private async finishUnstarted(job: Job, token: string, task: TaskJob, error: TaskError): Promise<void> {
    await this.record(job, token, task, { status: 'failed', error }, Date.now(), 'fetch-next');
  }

  private finish(attempt: RunningAttempt, outcome: Outcome, after: AfterFinish): Promise<void> {
    return this.record(attempt.job, attempt.token, attempt.task, outcome, attempt.startedMs, after);
  }

  /**
   * Reports the outcome (only while the lock is ours), then moves the job to completed or failed. With
   * `fetch-next` and room, BullMQ hands over the next job in the same call; it is accepted like any other.
   */
  private async record(
    job: Job,
    token: string,
    task: TaskJob,
    outcome: Outcome,
    startedMs: number,
    after: AfterFinish,
  ): Promise<void> {
    if (!(await this.reportFinished(job, token, task, outcome, startedMs))) return;
    const wantNext = after === 'fetch-next' && !this.stopping && this.hasRoom();
    if (wantNext) this.fetchesInFlight++;
    let reply: unknown;
    try {
      reply =
        outcome.status === 'failed'
          ? await job.moveToFailed(bullmqErrorOf(outcome.error), token, wantNext)
          : await job.moveToCompleted(null, token, wantNext);
    } catch (error) {
      this.error(error);
      return;
    } finally {
      if (wantNext) {
        this.fetchesInFlight--;
        // The fetch loop may be waiting only because this fetch was counted against the room. It resumes
        // after this turn, so the job fetched here is admitted (and a blocked head noted) before it looks.
        this.wake?.();
      }
    }
    this.onEvent({ type: 'finished', job: task, outcome });
    const nextJob = jobFetchedWithCompletion(this.bull, reply, token);
    if (nextJob) this.track(this.accept(nextJob, token));
  }

  /** Appends the `finished` report while the job's lock is ours; false when it was not sent. */
  private async reportFinished(
    job: Job,
    token: string,
    task: TaskJob,
    outcome: Outcome,
    startedMs: number,
  ): Promise<boolean> {
    const jobId = job.id!;
    const report = { kind: 'finished', jobId, outcome, startedMs, endedMs: Date.now(), worker: this.name } as const;
    try {
      // Waits out a Redis outage: the outbox keeps the report and sends it when Redis is back.
      const appended = await this.outbox.postLocked(report, jobHashKey(this.bull, jobId), token);
      // Late: the job is not ours to move any more; a stalled check fails it, and the executor prefers
      // this report to that WORKER_LOST while the attempt is unsettled.
      if (appended === 'late') this.onEvent({ type: 'reportedLate', job: task });
      return appended === 'locked';
    } catch {
      // The worker closed before Redis took it: the job stays active and is reported lost, not dropped.
      return false;
    }
  }

  private async handBack(job: Job, token: string, task: TaskJob, reason: 'no-fit' | 'closing'): Promise<void> {
    try {
      await job.moveToWait(token);
      await markQueueHasJobs(this.connection, this.bull);
      this.onEvent({ type: 'handedBack', job: task, reason });
    } catch (error) {
      this.error(error);
    }
  }

  private track(accepting: Promise<void>): void {
    const tracked = accepting.catch((error: unknown) => this.error(error));
    this.accepting.add(tracked);
    void tracked.finally(() => this.accepting.delete(tracked));
  }

  private onCancel(text: string): void {
    const cancel = decodeCancel(text);
    if (!cancel) return;
    this.cancels.remember(cancel, Date.now());
    this.attempts.cancel(cancel);
  }

  private async shutdown(drain: boolean, deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // Abort a blocking fetch in progress; a job it still returns is handed back by `accept`.
    await interruptBlockingFetch(this.bull).catch(() => {});
    await this.fetching;
    await Promise.all(this.accepting);
    if (drain) await this.attempts.idle(deadlineMs);
    for (const attempt of this.attempts.releaseAll(this.name)) {
      await this.handBack(attempt.job, attempt.token, attempt.task, 'closing');
      if (attempt.slots && this.slots) await this.slots.release(attempt.jobId, attempt.slots).catch(() => {});
    }
    this.renewer.stop();
    this.outbox.stop();
    await this.beacon.stop();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.bull.close().catch((error: unknown) => this.error(error));
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private error(error: unknown): void {
    this.onEvent({ type: 'error', error });
  }
}
