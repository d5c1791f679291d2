// A worker of one pool: a BullMQ Worker without a processor, fetching jobs by hand only while its free
// resources can cover one, so a 4-cpu worker runs four 1-cpu tasks or one 4-cpu task, never both.
import { hostname } from 'node:os';
import {
  type Outcome,
  type ResourceSpec,
  TASK_CANCELLED,
  TASK_TIMEOUT,
  type TaskError,
  type TaskInvoker,
  type TaskJob,
  toStoredJson,
} from '@batuta/scheduler';
import { Job, type JobJson, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';
import { outcomeOfThrown } from '../local/task-outcome.js';
import { type SlotPool, slotNeed, slotPoolNames, workerNeed } from '../pools/worker-pool.js';
import {
  addResources,
  fits,
  formatResources,
  invalidResourceDimension,
  maxResources,
  subtractResources,
} from '../resources/resources.js';
import { describeJob } from './attempt-text.js';
import { type ConnectionOptions, connectRedis } from './connection.js';
import { cancelChannel, checkNamespace, checkPoolName, poolQueuePrefix, resultsStreamKey } from './keys.js';
import { ReportOutbox } from './report-outbox.js';
import { SlotPools } from './slot-pools.js';
import { type CancelMessage, cancelMatches, decodeCancel, parseTaskJob, type WorkerReport } from './wire.js';

/** How a ResourceWorker is set up. */
export interface ResourceWorkerOptions {
  redisUrl: string;
  namespace: string;
  /** The pool (BullMQ queue) this worker serves. */
  pool: string;
  /** What this worker offers (the pool's per-worker capacity, or what `--capacity` says). */
  capacity: ResourceSpec;
  /** Runs one attempt's body. */
  invoke: TaskInvoker;
  /** Reported with each attempt; default `<host>:<pid>:<pool>`. */
  name?: string;
  /** Slot pools (cluster-wide caps); a task's counter with a slot pool's name takes its slots. */
  slotPools?: readonly SlotPool[];
  /**
   * How long a fetched job stays locked without renewal (renewed every half of it while it runs). A worker
   * that stops renewing (killed, or its event loop blocked this long) loses the job: default 30 s.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died (default: the lock duration). */
  stalledIntervalMs?: number;
  /** How long a job waiting for slot-pool slots sits in `delayed` before it is tried again (default 500 ms). */
  slotRetryMs?: number;
  /** How long a cancellation is remembered, for jobs fetched just after it was published (default 60 s). */
  cancelMemoryMs?: number;
  /** How long an idle worker blocks waiting for a job before it asks again, in seconds (BullMQ's drainDelay, default 5). */
  idleBlockSeconds?: number;
  redisOptions?: ConnectionOptions;
  /** What happens inside, for logs and tests. */
  onEvent?: (event: WorkerEvent) => void;
}

/** Something a worker did; `error` events carry failures no caller can catch. */
export type WorkerEvent =
  | { type: 'admitted'; job: TaskJob }
  | { type: 'handedBack'; job: TaskJob; reason: 'no-fit' | 'closing' }
  | { type: 'delayedForSlots'; job: TaskJob }
  | { type: 'finished'; job: TaskJob; outcome: Outcome }
  | { type: 'lockLost'; job: TaskJob }
  | { type: 'error'; error: unknown };

/** What `close` does with running attempts. */
export interface CloseOptions {
  /** Let running attempts finish (default true); otherwise hand them back at once. */
  drain?: boolean;
  /** Longest wait for running attempts; those still running then are handed back (default 30 s). */
  deadlineMs?: number;
}

interface Attempt {
  readonly job: Job;
  readonly token: string;
  readonly task: TaskJob;
  /** What it holds on this worker (its slot-pool counters excluded). */
  readonly need: ResourceSpec;
  readonly slots: string[] | undefined;
  readonly controller: AbortController;
  readonly startedMs: number;
  /**
   * `running`: its outcome is not reported yet; `reported`: reported (finished, timed out, cancelled), the
   * body may still run; `released`: lost its lock or handed back, nothing more is reported from here.
   */
  state: 'running' | 'reported' | 'released';
  timer: NodeJS.Timeout | undefined;
}

/** Error code of an attempt whose worker died or stopped renewing its lock. Retryable. */
export const WORKER_LOST = 'WORKER_LOST';
/** Error code of a job whose needs exceed this worker's whole capacity. Not retryable. */
export const NO_CAPACITY_FITS = 'NO_CAPACITY_FITS';

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
 * - **Reports**: `started` and `finished` go to the results stream; `finished` is appended only while the
 *   job's lock is ours, and before the job is moved to completed/failed, so a crash in between is seen
 *   as a lost worker rather than a lost result.
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
  private readonly capacity: ResourceSpec;
  private readonly invoke: TaskInvoker;
  private readonly lockDurationMs: number;
  private readonly slotRetryMs: number;
  private readonly cancelMemoryMs: number;
  private readonly onEvent: (event: WorkerEvent) => void;
  private readonly connection: Redis;
  private readonly subscriber: Redis;
  private readonly bull: Worker;
  private readonly slots: SlotPools | undefined;
  private readonly slotNames: ReadonlySet<string>;
  private readonly outbox: ReportOutbox;
  private readonly running = new Map<string, Attempt>();
  private readonly accepting = new Set<Promise<void>>();
  private readonly recentCancels: Array<{ cancel: CancelMessage; untilMs: number }> = [];
  private free: ResourceSpec;
  private peak: ResourceSpec;
  /** The needs of the job last handed back for lack of room; no fetch until they fit. */
  private blockedNeed: ResourceSpec | undefined;
  /** Each dimension's smallest need among jobs fetched so far: with less free, no job seen would fit. */
  private smallestNeed: ResourceSpec | undefined;
  /** Fetches sent and not yet answered (the fetch loop's, and completions that fetch the next job). */
  private fetchesInFlight = 0;
  /** Fetches owed to jobs found stalled: they are reported lost even while this worker is full. */
  private forcedFetches = 0;
  private wake: (() => void) | undefined;
  private tokenCount = 0;
  private stopping = false;
  private fetching: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private cutDrain: (() => void) | undefined;
  /** Called when the last running body has settled and been reported (a drain waits for it). */
  private onIdle: (() => void) | undefined;
  /** Outcomes being reported and jobs being moved to completed/failed right now. */
  private finishing = 0;

  constructor(options: ResourceWorkerOptions) {
    this.namespace = checkNamespace(options.namespace);
    this.pool = checkPoolName(options.pool);
    const problem = invalidResourceDimension(options.capacity);
    if (problem) throw new OrchestratorError('BAD_CAPACITY', `worker capacity has ${problem}`);
    this.capacity = { ...options.capacity, custom: { ...options.capacity.custom } };
    this.invoke = options.invoke;
    this.name = options.name ?? `${hostname()}:${process.pid}:${this.pool}`;
    this.lockDurationMs = options.lockDurationMs ?? 30_000;
    this.slotRetryMs = options.slotRetryMs ?? 500;
    this.cancelMemoryMs = options.cancelMemoryMs ?? 60_000;
    this.onEvent = options.onEvent ?? (() => {});
    this.free = this.capacity;
    this.peak = subtractResources(this.capacity, this.capacity);
    this.connection = connectRedis(options.redisUrl, options.redisOptions);
    this.subscriber = connectRedis(options.redisUrl, options.redisOptions);
    for (const client of [this.connection, this.subscriber]) client.on('error', (error) => this.error(error));
    this.outbox = new ReportOutbox(this.connection, resultsStreamKey(this.namespace), (error) => this.error(error));
    this.slotNames = slotPoolNames(options.slotPools);
    this.slots =
      this.slotNames.size > 0
        ? new SlotPools(this.connection, this.namespace, options.slotPools ?? [], this.lockDurationMs)
        : undefined;
    this.bull = new Worker(this.pool, null, {
      connection: this.connection,
      prefix: poolQueuePrefix(this.namespace),
      autorun: false,
      name: this.name,
      lockDuration: this.lockDurationMs,
      stalledInterval: options.stalledIntervalMs ?? this.lockDurationMs,
      // A job whose worker died is not re-run under the same try: it fails on its next fetch (WORKER_LOST).
      maxStalledCount: 0,
      skipLockRenewal: true,
      drainDelay: options.idleBlockSeconds ?? 5,
    });
    this.bull.on('error', (error) => this.error(error));
    // A stalled job goes to the front of the wait list; fetch it even when full, to report it lost now.
    this.bull.on('stalled', () => {
      this.forcedFetches++;
      this.wake?.();
    });
  }

  /** Connects, subscribes to cancellations, starts the stalled checker and begins fetching. */
  async start(): Promise<void> {
    if (this.fetching || this.closing) throw new OrchestratorError('WORKER_STARTED', 'the worker was already started');
    await this.bull.waitUntilReady();
    this.subscriber.on('message', (_channel: string, text: string) => this.onCancel(text));
    await this.subscriber.subscribe(cancelChannel(this.namespace));
    await this.bull.startStalledCheckTimer();
    this.renewTimer = setInterval(() => void this.renewLocks(), Math.max(10, this.lockDurationMs / 2));
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
      if (options.drain === false) this.cutDrain?.();
      return this.closing;
    }
    this.closing = this.shutdown(options.drain ?? true, options.deadlineMs ?? 30_000);
    return this.closing;
  }

  /** Resources held by attempts right now (bodies that were aborted but have not settled included). */
  inUse(): ResourceSpec {
    return subtractResources(this.capacity, this.free);
  }

  /** The most of each dimension ever held at once. */
  peakInUse(): ResourceSpec {
    return { ...this.peak, custom: { ...this.peak.custom } };
  }

  /** Bodies executing now. */
  runningCount(): number {
    return this.running.size;
  }

  /**
   * True when another fetch could bring a job that fits: what is free, less the smallest job seen for each
   * fetch already under way, covers the blocked head (or the smallest job seen). Guessing low only costs a
   * hand-back; guessing high only delays a fetch until the next release.
   */
  private hasRoom(): boolean {
    const threshold = this.blockedNeed ?? this.smallestNeed;
    if (threshold === undefined) return true;
    let free = this.free;
    if (this.smallestNeed && this.fetchesInFlight > 0) {
      free = subtractResources(free, scaleResources(this.smallestNeed, this.fetchesInFlight));
    }
    return fits(threshold, free);
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
    if (job.deferredFailure) {
      // Its worker died or stopped renewing the lock; the stalled check marked it.
      await this.finishUnstarted(job, token, task, {
        message:
          `${describeJob(task)} was lost with its worker (its lock expired: the worker was killed or blocked ` +
          `for longer than the lock duration); the attempt counts as failed`,
        name: 'WorkerLostError',
        code: WORKER_LOST,
        retryable: true,
      });
      return;
    }
    if (this.stopping) {
      await this.handBack(job, token, task, 'closing');
      return;
    }
    const cancel = this.cancelFor(task);
    if (cancel) {
      await this.finishUnstarted(job, token, task, cancelledError(task, cancel.reason));
      return;
    }
    const need = workerNeed(task.resources, this.slotNames);
    this.smallestNeed = this.smallestNeed ? minResources(this.smallestNeed, need) : need;
    if (!fits(need, this.capacity)) {
      await this.finishUnstarted(job, token, task, {
        message:
          `${describeJob(task)} needs ${formatResources(need)} but worker '${this.name}' of pool '${this.pool}' ` +
          `offers ${formatResources(this.capacity)} in all; give the pool's workers the pool's capacity`,
        name: 'OrchestratorError',
        code: NO_CAPACITY_FITS,
        retryable: false,
      });
      return;
    }
    if (!fits(need, this.free)) {
      this.blockedNeed = need;
      await this.handBack(job, token, task, 'no-fit');
      return;
    }
    this.blockedNeed = undefined;
    // Reserve before any await: a job fetched meanwhile sees what is really free.
    this.free = subtractResources(this.free, need);
    const slots = this.slots ? slotNeed(task.resources, this.slotNames) : undefined;
    if (slots && this.slots) {
      let taken = false;
      try {
        taken = await this.slots.acquire(job.id!, slots);
      } catch (error) {
        this.error(error);
      }
      if (!taken) {
        this.free = addResources(this.free, need);
        this.wake?.();
        await job.moveToDelayed(Date.now() + this.slotRetryMs, token).catch((error: unknown) => this.error(error));
        this.onEvent({ type: 'delayedForSlots', job: task });
        return;
      }
    }
    this.launch(job, token, task, need, slots ? Object.keys(slots) : undefined);
  }

  private launch(job: Job, token: string, task: TaskJob, need: ResourceSpec, slots: string[] | undefined): void {
    const attempt: Attempt = {
      job,
      token,
      task,
      need,
      slots,
      controller: new AbortController(),
      startedMs: Date.now(),
      state: 'running',
      timer: undefined,
    };
    this.running.set(job.id!, attempt);
    const used = this.inUse();
    if (!fits(used, this.peak)) this.peak = maxResources(this.peak, used);
    // Sent with the next batch, unless the attempt has finished by then (its `finished` says when it started).
    this.outbox.post(
      { kind: 'started', jobId: job.id!, atMs: attempt.startedMs, worker: this.name },
      () => attempt.state !== 'running',
    );
    const timeoutMs = task.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      attempt.timer = setTimeout(
        () => void this.stop(attempt, TASK_TIMEOUT, `timed out after ${timeoutMs} ms`),
        timeoutMs,
      );
    }
    this.onEvent({ type: 'admitted', job: task });
    // The body starts on a microtask, never inside the fetch loop.
    queueMicrotask(() => void this.execute(attempt).catch((error: unknown) => this.error(error)));
  }

  private async execute(attempt: Attempt): Promise<void> {
    const { task } = attempt;
    let outcome: Outcome;
    try {
      const output = await this.invoke(task, attempt.controller.signal, {
        log: (message) => {
          if (attempt.state === 'running') this.outbox.post({ kind: 'log', jobId: attempt.job.id!, message });
        },
        progress: (fraction) => {
          if (attempt.state === 'running') this.outbox.post({ kind: 'progress', jobId: attempt.job.id!, fraction });
        },
      });
      outcome = storable(output, task);
    } catch (thrown) {
      outcome = outcomeOfThrown(thrown);
    }
    await this.settle(attempt, outcome);
  }

  /** The body settled: release its resources first, so the job fetched with the completion can fit. */
  private async settle(attempt: Attempt, outcome: Outcome): Promise<void> {
    clearTimeout(attempt.timer);
    this.running.delete(attempt.job.id!);
    this.free = addResources(this.free, attempt.need);
    if (attempt.slots && this.slots) {
      this.slots.release(attempt.job.id!, attempt.slots).catch((error: unknown) => this.error(error));
    }
    if (attempt.state === 'running') {
      attempt.state = 'reported';
      this.finishing++;
      try {
        await this.complete(attempt.job, attempt.token, attempt.task, outcome, attempt.startedMs, true);
      } finally {
        this.finishing--;
      }
    }
    this.wake?.();
    if (this.running.size === 0 && this.finishing === 0) this.onIdle?.();
  }

  /** Ends a running attempt early (timeout, cancel); its resources stay held until its body settles. */
  private async stop(attempt: Attempt, code: typeof TASK_TIMEOUT | typeof TASK_CANCELLED, why: string): Promise<void> {
    if (attempt.state !== 'running') return;
    attempt.state = 'reported';
    clearTimeout(attempt.timer);
    const timeout = code === TASK_TIMEOUT;
    const message = `${describeJob(attempt.task)} ${why}`;
    attempt.controller.abort(new OrchestratorError(code, message));
    const error = { message, name: timeout ? 'TaskTimeoutError' : 'TaskCancelledError', code, retryable: timeout };
    this.finishing++;
    try {
      const outcome: Outcome = { status: 'failed', error };
      await this.complete(attempt.job, attempt.token, attempt.task, outcome, attempt.startedMs, false);
    } finally {
      this.finishing--;
    }
    if (this.running.size === 0 && this.finishing === 0) this.onIdle?.();
  }

  /** Reports a job that never ran here (lost, cancelled, too big) and moves it to failed. */
  private async finishUnstarted(job: Job, token: string, task: TaskJob, error: TaskError): Promise<void> {
    await this.complete(job, token, task, { status: 'failed', error }, Date.now(), true);
  }

  /**
   * Reports the outcome (only while the lock is ours), then moves the job to completed or failed. With
   * `fetchNext` and room, BullMQ hands over the next job in the same call; it is accepted like any other.
   */
  private async complete(
    job: Job,
    token: string,
    task: TaskJob,
    outcome: Outcome,
    startedMs: number,
    fetchNext: boolean,
  ) {
    const report: WorkerReport = {
      kind: 'finished',
      jobId: job.id!,
      outcome,
      startedMs,
      endedMs: Date.now(),
      worker: this.name,
    };
    try {
      const appended = await this.outbox.postLocked(report, this.bull.toKey(job.id!), token);
      if (!appended) {
        this.onEvent({ type: 'lockLost', job: task });
        return;
      }
    } catch {
      // Unreported: leave the job active; its lock expires and it is reported lost, not dropped.
      return;
    }
    const wantNext = fetchNext && !this.stopping && this.hasRoom();
    let next: unknown;
    if (wantNext) this.fetchesInFlight++;
    try {
      next =
        outcome.status === 'failed'
          ? await job.moveToFailed(errorOf(outcome.error), token, wantNext)
          : await job.moveToCompleted(null, token, wantNext);
    } catch (error) {
      this.error(error);
      return;
    } finally {
      if (wantNext) {
        this.fetchesInFlight--;
        // The fetch loop may be waiting only because this fetch was counted against the room.
        this.wake?.();
      }
    }
    this.onEvent({ type: 'finished', job: task, outcome });
    if (Array.isArray(next) && next[0]) {
      const nextJob = Job.fromJSON(this.bull, next[0] as JobJson, next[1] as string);
      nextJob.token = token;
      this.track(this.accept(nextJob, token));
    }
  }

  private async handBack(job: Job, token: string, task: TaskJob, reason: 'no-fit' | 'closing'): Promise<void> {
    try {
      await job.moveToWait(token);
      // BullMQ does not mark the queue when a prioritized job goes back; without a marker, idle workers
      // blocked on it would not see the job until their block times out.
      await this.connection.zadd(this.bull.keys.marker!, 0, '0');
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

  private async renewLocks(): Promise<void> {
    const live = [...this.running.values()].filter((attempt) => attempt.state === 'running');
    if (live.length === 0) return;
    try {
      const failed = await this.bull.extendJobLocks(
        live.map((attempt) => attempt.job.id!),
        live.map((attempt) => attempt.token),
        this.lockDurationMs,
      );
      for (const jobId of failed) {
        const attempt = this.running.get(jobId);
        if (attempt?.state !== 'running') continue;
        // Another worker may already hold it or report it lost: stop the body, report nothing more.
        attempt.state = 'released';
        clearTimeout(attempt.timer);
        attempt.controller.abort(new OrchestratorError(WORKER_LOST, `${describeJob(attempt.task)} lost its lock`));
        this.onEvent({ type: 'lockLost', job: attempt.task });
      }
    } catch (error) {
      this.error(error);
    }
    if (this.slots) {
      for (const attempt of live) {
        if (attempt.slots)
          this.slots.renew(attempt.job.id!, attempt.slots).catch((error: unknown) => this.error(error));
      }
    }
  }

  private onCancel(text: string): void {
    const cancel = decodeCancel(text);
    if (!cancel) return;
    const now = Date.now();
    while (this.recentCancels.length > 0 && this.recentCancels[0]!.untilMs < now) this.recentCancels.shift();
    this.recentCancels.push({ cancel, untilMs: now + this.cancelMemoryMs });
    for (const attempt of this.running.values()) {
      if (attempt.state === 'running' && cancelMatches(cancel, attempt.task)) {
        void this.stop(attempt, TASK_CANCELLED, `cancelled: ${cancel.reason}`);
      }
    }
  }

  private cancelFor(task: TaskJob): CancelMessage | undefined {
    const now = Date.now();
    return this.recentCancels.find((entry) => entry.untilMs >= now && cancelMatches(entry.cancel, task))?.cancel;
  }

  private async shutdown(drain: boolean, deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // Abort a blocking fetch in progress; a job it still returns is handed back by `accept`.
    await this.bull.backend.disconnectBlocking(false).catch(() => {});
    await this.fetching;
    await Promise.all(this.accepting);
    if (drain && (this.running.size > 0 || this.finishing > 0)) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
        this.cutDrain = resolve;
      });
      const drained = new Promise<void>((resolve) => {
        this.onIdle = resolve;
      });
      await Promise.race([drained, deadline]);
      clearTimeout(timer);
    }
    for (const attempt of [...this.running.values()]) {
      if (attempt.state !== 'running') continue;
      attempt.state = 'released';
      clearTimeout(attempt.timer);
      attempt.controller.abort(new OrchestratorError('WORKER_CLOSING', `worker '${this.name}' is shutting down`));
      await this.handBack(attempt.job, attempt.token, attempt.task, 'closing');
      if (attempt.slots && this.slots) await this.slots.release(attempt.job.id!, attempt.slots).catch(() => {});
    }
    clearInterval(this.renewTimer);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.bull.close().catch((error: unknown) => this.error(error));
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private error(error: unknown): void {
    this.onEvent({ type: 'error', error });
  }
}

function cancelledError(task: TaskJob, reason: string) {
  return {
    message: `${describeJob(task)} cancelled: ${reason}`,
    name: 'TaskCancelledError',
    code: TASK_CANCELLED,
    retryable: false,
  };
}

/** A success whose output the store can keep; else the failure the coordinator would have made of it. */
function storable(output: unknown, task: TaskJob): Outcome {
  if (output === undefined) return { status: 'success', output };
  try {
    toStoredJson(output, `the output of ${describeJob(task)}`);
    return { status: 'success', output };
  } catch (error) {
    return {
      status: 'failed',
      error: {
        message: (error as Error).message,
        name: 'BatutaError',
        code: 'STORE_NOT_SERIALIZABLE',
        retryable: false,
      },
    };
  }
}

/** An Error for BullMQ's failed list: the message and name; the full TaskError travels in the report. */
function errorOf(taskError: { message: string; name?: string; stack?: string }): Error {
  const error = new Error(taskError.message);
  if (taskError.name) error.name = taskError.name;
  if (taskError.stack) error.stack = taskError.stack;
  return error;
}

/** Each dimension's smaller amount (a custom counter absent on one side counts as 0, so it drops out). */
function minResources(a: ResourceSpec, b: ResourceSpec): ResourceSpec {
  const custom: Record<string, number> = {};
  for (const name in a.custom) {
    const other = b.custom[name];
    if (other !== undefined) custom[name] = Math.min(a.custom[name]!, other);
  }
  return {
    cpu: Math.min(a.cpu, b.cpu),
    memoryMb: Math.min(a.memoryMb, b.memoryMb),
    gpu: Math.min(a.gpu, b.gpu),
    custom,
  };
}

/** `need` taken `times` times, on every dimension. */
function scaleResources(need: ResourceSpec, times: number): ResourceSpec {
  const custom: Record<string, number> = {};
  for (const name in need.custom) custom[name] = need.custom[name]! * times;
  return { cpu: need.cpu * times, memoryMb: need.memoryMb * times, gpu: need.gpu * times, custom };
}
