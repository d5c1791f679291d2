// Drives one DAG run in this process. Executor reports, due retries and a cancel arrive in an inbox;
// one drain loop at a time turns a batch of them into engine calls, applies the decisions
// (decision-applier), writes the batch as one store transition (dataset updates included) and then
// carries out its effects: callbacks, submitting the admitted attempts. Events that arrive in the same tick
// join one batch, so two upstreams finishing together cost one write and enqueue the join once.
import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import type { DagSpec } from '../dag/model.js';
import { BatutaError, isBatutaError } from '../errors.js';
import type { Executor, TaskJob, TaskResult } from '../executor.js';
import type { RunEngine } from '../run/engine.js';
import { planRepair, type RepairPlan, type RepairRequest } from '../run/repair.js';
import type { Decision, InstanceKey } from '../run/types.js';
import type { DagRunRecord, StateStore, TaskInstanceRecord } from '../store/state-store.js';
import { toTaskError } from '../task-error.js';
import {
  addCallback,
  applyDecisions,
  instanceKey,
  instanceOf,
  newRunStep,
  type RunBook,
  type RunStep,
  transitionOf,
} from './decision-applier.js';
import { ReadyQueue } from './ready-queue.js';
import { applyRepairChange, reopenedRunPatch, repairOutputReads, repairOutputWrites } from './repair-records.js';
import type { RunEffects } from './run-effects.js';
import type { RunListener } from './run-listener.js';
import { storableOutcome } from './storable-outcome.js';

/** Something that happened to the run, waiting in its inbox. */
export type RunInboxEvent =
  | { type: 'started'; job: TaskJob; atMs: number; worker: string | undefined }
  | { type: 'finished'; result: TaskResult }
  | { type: 'retryDue'; key: InstanceKey }
  | { type: 'cancel'; reason: string }
  /** Clear or mark instances (the driver applies it between batches); settled with the plan or an error. */
  | { type: 'repair'; request: RepairRequest; settle: (result: DriverRepairResult) => void };

/** How a repair ended in a driver: applied (or nothing to do), refused, or handed back as the run ended first. */
export type DriverRepairResult =
  | { status: 'applied'; plan: RepairPlan }
  | { status: 'refused'; error: unknown }
  | { status: 'run_ended' };

/** What a driver needs from its coordinator. */
export interface RunDriverContext {
  store: StateStore;
  executor: Executor;
  clock: Clock;
  listener: RunListener;
  effects: RunEffects;
  /** The run ended (or its driver gave up): forget it. */
  ended(runId: string): void;
  /** A new engine rebuilt from the run's records (after a repair changed them). */
  restore(dag: DagSpec, record: DagRunRecord, instances: readonly TaskInstanceRecord[]): Promise<RunEngine>;
}

/** How often a store write is retried while the store is unreachable (~1 minute with the backoff). */
const STORE_RETRIES = 35;

/** One run's inbox, drain loop and in-memory records. */
export class RunDriver {
  readonly done: Promise<DagRunRecord>;
  private readonly context: RunDriverContext;
  private engine: RunEngine;
  private readonly book: RunBook;
  private readonly timers = new Map<string, () => void>();
  private inbox: RunInboxEvent[] = [];
  private draining = false;
  private finished = false;
  private resolve!: (record: DagRunRecord) => void;
  private reject!: (error: unknown) => void;

  constructor(context: RunDriverContext, dag: DagSpec, engine: RunEngine, record: DagRunRecord) {
    this.context = context;
    this.engine = engine;
    this.book = {
      dag,
      tasks: new Map(dag.tasks.map((t) => [t.id, t])),
      record,
      instances: new Map(),
      ready: new ReadyQueue(),
      inFlight: 0,
    };
    this.done = new Promise<DagRunRecord>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get runId(): string {
    return this.book.record.runId;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Loads stored instance records (a resumed run) before the first step. */
  adopt(instances: readonly TaskInstanceRecord[]): void {
    for (const instance of instances)
      this.book.instances.set(instanceKey(instance.taskId, instance.mapIndex), { ...instance });
  }

  /** Applies the engine's first decisions (start or resume), then serves the inbox. */
  async begin(decisions: Decision[]): Promise<void> {
    const step = newRunStep();
    applyDecisions(this.book, this.engine, decisions, step, this.context.clock.now());
    try {
      await this.carryOut(step);
    } catch (error) {
      await this.giveUp(error);
      return;
    }
    void this.drain();
  }

  /** Adds an event to the inbox and makes sure a drain loop runs; false when the run has ended. */
  enqueue(event: RunInboxEvent): boolean {
    if (this.finished) return false;
    this.inbox.push(event);
    if (!this.draining) void this.drain();
    return true;
  }

  /** Disarms every retry timer (the coordinator is closing; the run stays in the store as it is). */
  stopTimers(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private async drain(): Promise<void> {
    if (this.draining || this.finished) return;
    this.draining = true;
    try {
      // Let events that arrive in the same tick join one batch (one store transition).
      await Promise.resolve();
      while (this.inbox.length > 0 && !this.finished) {
        // A repair rebuilds the engine, so it is applied alone, between batches, in arrival order.
        const cut = this.inbox.findIndex((event) => event.type === 'repair');
        if (cut === 0) {
          await this.repair(this.inbox.shift() as Extract<RunInboxEvent, { type: 'repair' }>);
          continue;
        }
        const events = this.inbox.splice(0, cut === -1 ? this.inbox.length : cut);
        const now = this.context.clock.now();
        const step = newRunStep();
        const decisions: Decision[] = [];
        for (const event of events) this.absorb(event, now, step, decisions);
        applyDecisions(this.book, this.engine, decisions, step, now);
        await this.carryOut(step);
      }
    } catch (error) {
      await this.giveUp(error);
    } finally {
      this.draining = false;
    }
    if (this.inbox.length > 0 && !this.finished) void this.drain();
  }

  /** Turns one inbox event into engine calls and record changes. */
  private absorb(event: RunInboxEvent, now: number, step: RunStep, decisions: Decision[]): void {
    switch (event.type) {
      case 'started':
        this.absorbStarted(event.job, event.atMs, event.worker, step);
        return;
      case 'finished':
        this.absorbFinished(event.result, now, step, decisions);
        return;
      case 'retryDue':
        this.timers.delete(instanceKey(event.key.taskId, event.key.mapIndex));
        append(decisions, this.engine.retryDue(event.key, now));
        return;
      case 'repair':
        return; // applied alone by drain()
      case 'cancel': {
        for (const job of this.book.ready.removeWhere(() => true)) {
          instanceOf(this.book, job.taskId, job.mapIndex).reason = event.reason;
        }
        this.stopTimers();
        void this.context.executor.cancel({ runId: this.runId }, event.reason);
        append(decisions, this.engine.cancel(event.reason, now));
        return;
      }
    }
  }

  private absorbStarted(job: TaskJob, atMs: number, worker: string | undefined, step: RunStep): void {
    const record = instanceOf(this.book, job.taskId, job.mapIndex);
    if (record.tryNumber !== job.tryNumber || record.state === 'running') return;
    this.engine.running(job, atMs);
    record.state = 'running';
    record.startMs = atMs;
    if (worker) record.worker = worker;
    step.touched.add(instanceKey(job.taskId, job.mapIndex));
    addCallback(this.book, step, job.taskId, 'onExecute', record, 'started');
  }

  private absorbFinished(result: TaskResult, now: number, step: RunStep, decisions: Decision[]): void {
    const { job } = result;
    const outcome = storableOutcome(result.outcome, job.taskId, job.mapIndex);
    this.book.inFlight--;
    const record = instanceOf(this.book, job.taskId, job.mapIndex);
    // A late report (an attempt already timed out, cancelled, superseded or cleared) changes nothing.
    if (record.tryNumber !== job.tryNumber || !ATTEMPT_OUT.has(record.state)) return;
    record.endMs = result.endedMs;
    if (record.startMs === undefined) record.startMs = result.startedMs;
    if (outcome.status === 'success') {
      record.reason = `succeeded on try ${job.tryNumber}`;
      if (outcome.output !== undefined) {
        step.outputs.push({ taskId: job.taskId, mapIndex: job.mapIndex, value: outcome.output });
      }
    } else if (outcome.status === 'skipped') {
      record.reason = outcome.reason;
    } else {
      record.reason = `failed on try ${job.tryNumber}: ${outcome.error.message}`;
      record.error = outcome.error;
    }
    step.touched.add(instanceKey(job.taskId, job.mapIndex));
    // The engine's first decision is this instance's own final state (or its retry); callbacks fire there.
    append(decisions, this.engine.complete(job, outcome, now));
  }

  /** Writes the step as one transition (with its dataset updates), then its effects: callbacks, timers, submissions. */
  private async carryOut(step: RunStep): Promise<void> {
    const { store, clock, listener, effects } = this.context;
    const now = clock.now();
    const { transition, written, runPatch } = transitionOf(this.book, step, now);
    // Writes carry whole records, so repeating one whose outcome is unknown is harmless.
    const ok = await pRetry(() => store.applyTransition(this.runId, transition), {
      retries: STORE_RETRIES,
      minTimeout: 50,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => isBatutaError(error, 'STORE_UNAVAILABLE'),
    });
    if (!ok) throw new BatutaError('STORE_CONFLICT', `run '${this.runId}' could not be updated in the store`);
    if (runPatch) this.book.record = { ...this.book.record, ...runPatch };
    effects.fireTaskCallbacks(this.book, step.callbacks);
    if (listener.taskChanged) for (const record of written) listener.taskChanged(this.book.record, record);
    for (const { key, atMs } of step.retries) {
      const cancel = clock.setTimer(atMs, () => this.enqueue({ type: 'retryDue', key }));
      this.timers.set(instanceKey(key.taskId, key.mapIndex), cancel);
    }
    for (const job of step.toSubmit) await this.submit(job);
    if (step.finish) this.end();
  }

  /** Hands an attempt to the executor; one it refuses comes back as that attempt's failure. */
  private async submit(job: TaskJob): Promise<void> {
    try {
      await this.context.executor.submit(job);
    } catch (error) {
      const at = this.context.clock.now();
      const outcome = { status: 'failed' as const, error: { ...toTaskError(error), retryable: false } };
      this.enqueue({ type: 'finished', result: { job, outcome, startedMs: at, endedMs: at } });
    }
  }

  /**
   * Applies a clear or mark to this live run: stops the attempts it resets, writes the changed records and
   * the run's state as one transition, then rebuilds the engine from the records (as an adopting scheduler
   * would) and carries on. Attempts still out that the repair left alone keep running: their 'run' again
   * decisions are dropped, and their reports reach the new engine.
   */
  private async repair(event: Extract<RunInboxEvent, { type: 'repair' }>): Promise<void> {
    const book = this.book;
    const { store, clock, executor } = this.context;
    let plan: RepairPlan;
    try {
      plan = planRepair(this.engine.executionPlan(), [...book.instances.values()], event.request);
    } catch (error) {
      event.settle({ status: 'refused', error });
      return;
    }
    if (plan.changes.length === 0) {
      event.settle({ status: 'applied', plan });
      return;
    }
    const now = clock.now();
    try {
      const stopReason = `${plan.request.action} by user`;
      for (const change of plan.changes) {
        const record = book.instances.get(instanceKey(change.taskId, change.mapIndex));
        if (record && (record.state === 'queued' || record.state === 'running')) {
          // This attempt only: the instance's next try must not be refused as cancelled.
          const attempt = {
            runId: this.runId,
            taskId: change.taskId,
            mapIndex: change.mapIndex,
            tryNumber: record.tryNumber,
          };
          void executor.cancel(attempt, stopReason);
        }
      }
      // Timers and the ready queue belong to the old engine; the rebuilt one re-arms and re-issues them.
      this.stopTimers();
      book.ready.removeWhere(() => true);
      const touched: TaskInstanceRecord[] = [];
      for (const change of plan.changes) {
        const record = instanceOf(book, change.taskId, change.mapIndex);
        applyRepairChange(record, change, now);
        touched.push({ ...record });
      }
      const patch = reopenedRunPatch(plan.runReason);
      const reads = repairOutputReads(plan);
      const stored = reads.length > 0 ? await store.getOutputs(this.runId, reads) : new Map<string, unknown>();
      const outputs = repairOutputWrites(plan, stored);
      const transition = { instances: touched.map((record) => ({ record })), outputs, run: { patch } };
      const ok = await pRetry(() => store.applyTransition(this.runId, transition), {
        retries: STORE_RETRIES,
        minTimeout: 50,
        maxTimeout: 2_000,
        shouldRetry: ({ error }) => isBatutaError(error, 'STORE_UNAVAILABLE'),
      });
      if (!ok) throw new BatutaError('STORE_CONFLICT', `run '${this.runId}' could not be repaired in the store`);
      const { endMs: _ended, ...open } = book.record;
      book.record = { ...open, state: 'running', reason: plan.runReason };
      const { listener } = this.context;
      if (listener.taskChanged) for (const record of touched) listener.taskChanged(book.record, record);
      listener.runChanged?.(book.record);
      this.engine = await this.context.restore(book.dag, book.record, [...book.instances.values()]);
      const out = (decision: Decision): boolean => {
        if (decision.kind !== 'run') return false;
        const record = book.instances.get(instanceKey(decision.taskId, decision.mapIndex));
        return record !== undefined && ATTEMPT_OUT.has(record.state) && record.state !== 'scheduled';
      };
      const decisions = this.engine.resume(now).filter((decision) => !out(decision));
      const step = newRunStep();
      applyDecisions(book, this.engine, decisions, step, now);
      await this.carryOut(step);
    } catch (error) {
      event.settle({ status: 'refused', error });
      throw error;
    }
    event.settle({ status: 'applied', plan });
  }

  /** Repairs still waiting when the run ends go back to the caller, to be applied to the ended run. */
  private handBackRepairs(): void {
    const waiting = this.inbox;
    this.inbox = [];
    for (const event of waiting) if (event.type === 'repair') event.settle({ status: 'run_ended' });
  }

  private end(): void {
    this.finished = true;
    this.handBackRepairs();
    this.stopTimers();
    this.context.ended(this.runId);
    this.context.listener.runChanged?.(this.book.record);
    this.context.effects.fireRunCallback(this.book.dag, this.book.record);
    this.resolve(this.book.record);
  }

  /**
   * A step could not be written for a reason other than an unreachable store (the store refused it).
   * The run is recorded failed with that reason, so it never stays `running` with nobody driving it;
   * `done` rejects only when even that write fails.
   */
  private async giveUp(error: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.handBackRepairs();
    this.stopTimers();
    this.context.ended(this.runId);
    const message = error instanceof Error ? error.message : String(error);
    const now = this.context.clock.now();
    const patch = { state: 'failed' as const, endMs: now, reason: `the store refused the run's update: ${message}` };
    try {
      if (isBatutaError(error, 'STORE_CONFLICT')) throw error;
      const ok = await this.context.store.applyTransition(this.runId, {
        run: { patch, expectState: 'running' },
      });
      if (!ok) throw error;
      void this.context.executor.cancel({ runId: this.runId }, patch.reason);
      this.book.record = { ...this.book.record, ...patch };
      this.context.listener.runChanged?.(this.book.record);
      this.context.effects.fireRunCallback(this.book.dag, this.book.record);
      this.resolve(this.book.record);
    } catch {
      this.reject(error);
    }
  }
}

/** States in which an attempt is out (decided, queued or running): the only ones a report may end. */
const ATTEMPT_OUT: ReadonlySet<string> = new Set(['scheduled', 'queued', 'running']);

/** Appends one by one: a fan-out's cascade can hold 100,000 decisions, past what a spread call takes. */
function append(into: Decision[], decisions: readonly Decision[]): void {
  for (const decision of decisions) into.push(decision);
}
