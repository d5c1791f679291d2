// The attempts running on one pool worker: starting a body, its timeout, its end, and stopping it early
// (timeout, cancellation, a lock lost for longer than the outage grace, the worker closing). Fetching and admission stay in ResourceWorker;
// this class only hears "run this" and tells the worker "report this" and "these resources are free".
import {
  type LogStore,
  type Outcome,
  systemClock,
  TASK_CANCELLED,
  TASK_TIMEOUT,
  type TaskInvoker,
  type TaskJob,
} from '@batuta/scheduler';
import { LogShipper, storableOutcome } from '@batuta/scheduler/internals';
import type { Job } from 'bullmq';
import { describeJob } from '../attempt-text.js';
import { OrchestratorError } from '../errors.js';
import { outcomeOfThrown } from '../local/task-outcome.js';
import { stoppedError, WORKER_LOST } from './attempt-outcomes.js';
import type { LockRenewer } from './lock-renewer.js';
import type { ReportOutbox } from './report-outbox.js';
import { type CancelMessage, cancelMatches } from './wire.js';

/** One attempt this worker holds the lock of. */
export interface RunningAttempt {
  readonly job: Job;
  readonly jobId: string;
  readonly token: string;
  readonly task: TaskJob;
  /** What it holds on this worker (its slot-pool counters excluded). */
  readonly need: TaskJob['resources'];
  /** The slot pools it holds slots of, if any. */
  readonly slots: string[] | undefined;
  readonly controller: AbortController;
  readonly startedMs: number;
  /**
   * `running`: its outcome is not reported yet; `reported`: reported (finished, timed out, cancelled), the
   * body may still run; `released`: lost its lock or handed back, nothing more is reported from here.
   */
  state: 'running' | 'reported' | 'released';
  timer: NodeJS.Timeout | undefined;
  /** Set once its lock was lost: the body is given up when this fires (the outage grace ran out). */
  graceTimer: NodeJS.Timeout | undefined;
  /** Ships its output lines to the log store (none without a store). */
  readonly logs: LogShipper | undefined;
}

/**
 * After an outcome is recorded: `fetch-next` asks BullMQ for the next job in the same call (the body has
 * settled, its resources are free again); `fetch-nothing` does not (the body still holds them).
 */
export type AfterFinish = 'fetch-next' | 'fetch-nothing';

/** What the runner needs from its worker. */
export interface AttemptRunnerHooks {
  workerName: string;
  /** How long a body whose lock was lost keeps running, in case Redis was only away (its report then counts). */
  outageGraceMs: number;
  invoke: TaskInvoker;
  /** Where each attempt's output lines go; without one they are dropped. */
  logStore?: LogStore | undefined;
  /** Longest a line waits before it is sent to the log store (default 250 ms). */
  logFlushEveryMs?: number | undefined;
  outbox: ReportOutbox;
  renewer: LockRenewer;
  /** Reports `outcome` and moves the job to completed or failed. */
  finish(attempt: RunningAttempt, outcome: Outcome, after: AfterFinish): Promise<void>;
  /** The body settled: its resources (and slots) are free again. */
  release(attempt: RunningAttempt): void;
  /** Called after each body settled and its outcome was handled: room for another fetch. */
  settled(): void;
  /** Renews the slot-pool leases of an attempt, with its lock; undefined when it holds none. */
  renewSlots(attempt: RunningAttempt): (() => Promise<void>) | undefined;
  onLockLost(task: TaskJob): void;
  onAdmitted(task: TaskJob): void;
  onError(error: unknown): void;
}

/** Runs attempts and ends them; resources are released only when a body settles, never before. */
export class AttemptRunner {
  private readonly running = new Map<string, RunningAttempt>();
  /** Outcomes being reported and jobs being moved to completed/failed right now. */
  private finishing = 0;
  /** Called when the last running body has settled and been reported (a drain waits for it). */
  private onIdle: (() => void) | undefined;

  constructor(private readonly hooks: AttemptRunnerHooks) {}

  /** Bodies executing now. */
  get size(): number {
    return this.running.size;
  }

  /** True while a body runs or an outcome is being recorded. */
  busy(): boolean {
    return this.running.size > 0 || this.finishing > 0;
  }

  /** Starts the body of an admitted job (its resources and slots are already held). */
  launch(job: Job, token: string, task: TaskJob, need: TaskJob['resources'], slots: string[] | undefined): void {
    const jobId = job.id!;
    const attempt: RunningAttempt = {
      job,
      jobId,
      token,
      task,
      need,
      slots,
      controller: new AbortController(),
      startedMs: Date.now(),
      state: 'running',
      timer: undefined,
      graceTimer: undefined,
      logs: this.shipperFor(task),
    };
    this.running.set(jobId, attempt);
    this.hooks.renewer.track(jobId, token, this.hooks.renewSlots(attempt));
    // Sent with the next batch, unless the attempt has finished by then (its `finished` says when it started).
    this.hooks.outbox.post(
      { kind: 'started', jobId, atMs: attempt.startedMs, worker: this.hooks.workerName },
      () => attempt.state !== 'running',
    );
    const timeoutMs = task.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      attempt.timer = setTimeout(
        () => void this.stop(attempt, TASK_TIMEOUT, `timed out after ${timeoutMs} ms`),
        timeoutMs,
      );
    }
    this.hooks.onAdmitted(task);
    // The body starts on a microtask, never inside the fetch loop.
    queueMicrotask(() => void this.execute(attempt).catch((error: unknown) => this.hooks.onError(error)));
  }

  /** Stops every running attempt a cancellation names; each is reported `TASK_CANCELLED`. */
  cancel(cancel: CancelMessage): void {
    for (const attempt of this.running.values()) {
      if (attempt.state === 'running' && cancelMatches(cancel, attempt.task)) {
        void this.stop(attempt, TASK_CANCELLED, `cancelled: ${cancel.reason}`);
      }
    }
  }

  /**
   * The lock of `jobId` was lost, most likely because Redis was away longer than the lock lasts. The body
   * keeps running for the outage grace: if it finishes by then its report goes out late and the executor,
   * which holds the attempt's WORKER_LOST while this worker is alive, takes it, so the work is not done
   * twice. After the grace the body is stopped and nothing is reported from here.
   */
  lockLost(jobId: string): void {
    const attempt = this.running.get(jobId);
    if (attempt?.state !== 'running' || attempt.graceTimer) return;
    this.hooks.onLockLost(attempt.task);
    const lost = new OrchestratorError(WORKER_LOST, `${describeJob(attempt.task)} lost its lock`);
    if (this.hooks.outageGraceMs <= 0) {
      this.release(attempt, lost);
      return;
    }
    attempt.graceTimer = setTimeout(() => {
      if (attempt.state === 'running') this.release(attempt, lost);
    }, this.hooks.outageGraceMs);
  }

  /** Resolves when no body runs and no outcome is being recorded, or after `deadlineMs`, or on `cutWait`. */
  async idle(deadlineMs: number): Promise<void> {
    if (!this.busy()) return;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      this.onIdle = resolve;
      timer = setTimeout(resolve, deadlineMs);
    });
    await drained;
    clearTimeout(timer);
  }

  /** Ends a wait in `idle` at once. */
  cutWait(): void {
    this.onIdle?.();
  }

  /** Aborts every attempt still unreported and gives them up (their jobs go back to the queue): for closing. */
  releaseAll(workerName: string): RunningAttempt[] {
    const released: RunningAttempt[] = [];
    for (const attempt of this.running.values()) {
      if (attempt.state !== 'running') continue;
      this.release(attempt, new OrchestratorError('WORKER_CLOSING', `worker '${workerName}' is shutting down`));
      released.push(attempt);
    }
    return released;
  }

  private release(attempt: RunningAttempt, reason: OrchestratorError): void {
    attempt.state = 'released';
    clearTimeout(attempt.timer);
    clearTimeout(attempt.graceTimer);
    this.hooks.renewer.untrack(attempt.jobId);
    attempt.controller.abort(reason);
    // No end mark: the same try may run again on another worker and append to the same log.
    void attempt.logs?.flush();
  }

  private async execute(attempt: RunningAttempt): Promise<void> {
    const { task, jobId } = attempt;
    attempt.logs?.write(`[batuta] try ${task.tryNumber} started on ${this.hooks.workerName}`, 'log');
    const { outbox } = this.hooks;
    let outcome: Outcome;
    try {
      const output = await this.hooks.invoke(task, attempt.controller.signal, {
        log: (message, stream) => {
          if (attempt.state !== 'released') attempt.logs?.write(message, stream);
        },
        progress: (fraction) => {
          if (attempt.state === 'running') outbox.post({ kind: 'progress', jobId, fraction });
        },
      });
      outcome = storableOutcome({ status: 'success', output }, task.taskId, task.mapIndex);
    } catch (thrown) {
      outcome = outcomeOfThrown(thrown);
    }
    await this.settle(attempt, outcome);
  }

  /** The body settled: release its resources first, so the job fetched with the completion can fit. */
  private async settle(attempt: RunningAttempt, outcome: Outcome): Promise<void> {
    clearTimeout(attempt.timer);
    clearTimeout(attempt.graceTimer);
    this.running.delete(attempt.jobId);
    this.hooks.renewer.untrack(attempt.jobId);
    this.hooks.release(attempt);
    if (attempt.state === 'running') {
      attempt.state = 'reported';
      // The attempt's last lines are stored before anyone hears it ended.
      await this.recording(async () => {
        await attempt.logs?.end();
        await this.hooks.finish(attempt, outcome, 'fetch-next');
      });
    } else {
      await attempt.logs?.end();
    }
    this.hooks.settled();
    this.checkIdle();
  }

  /** Ends a running attempt early (timeout, cancel); its resources stay held until its body settles. */
  private async stop(
    attempt: RunningAttempt,
    code: typeof TASK_TIMEOUT | typeof TASK_CANCELLED,
    why: string,
  ): Promise<void> {
    if (attempt.state !== 'running') return;
    attempt.state = 'reported';
    clearTimeout(attempt.timer);
    clearTimeout(attempt.graceTimer);
    this.hooks.renewer.untrack(attempt.jobId);
    const error = stoppedError(attempt.task, code, why);
    attempt.controller.abort(new OrchestratorError(code, error.message));
    await this.recording(async () => {
      attempt.logs?.write(`[batuta] ${error.message}`, 'log');
      await attempt.logs?.end();
      await this.hooks.finish(attempt, { status: 'failed', error }, 'fetch-nothing');
    });
    this.checkIdle();
  }

  private shipperFor(task: TaskJob): LogShipper | undefined {
    const store = this.hooks.logStore;
    if (!store) return undefined;
    return new LogShipper({
      store,
      attempt: task,
      clock: systemClock,
      ...(this.hooks.logFlushEveryMs === undefined ? {} : { flushEveryMs: this.hooks.logFlushEveryMs }),
      onError: (error) => this.hooks.onError(error),
    });
  }

  private async recording(finish: () => Promise<void>): Promise<void> {
    this.finishing++;
    try {
      await finish();
    } finally {
      this.finishing--;
    }
  }

  private checkIdle(): void {
    if (!this.busy()) this.onIdle?.();
  }
}
