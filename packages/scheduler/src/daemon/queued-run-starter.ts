// Queued runs (manual triggers, events, datasets) wait in the store until their DAG has a free run slot;
// any scheduler may start one, and the run's lease says which one drives it.
import type { Clock } from '../clock.js';
import type { DagSpec } from '../dag/model.js';
import { isBatutaError } from '../errors.js';
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { DagRunRecord, StateStore } from '../store/state-store.js';
import type { RunLeases } from './run-leases.js';
import type { SchedulerLog } from './scheduler-log-event.js';

export interface QueuedRunStarterOptions {
  store: StateStore;
  coordinator: Pick<RunCoordinator, 'startQueuedRun'>;
  leases: RunLeases;
  clock: Clock;
  log: SchedulerLog;
}

/** Errors that say the store is out of reach, not that the run is bad. */
const STORE_OUTAGE_CODES = ['STORE_UNAVAILABLE', 'STORE_REDIS_ERROR', 'STORE_CLOSED'] as const;

/** Starts queued runs, oldest first, while each DAG has a free run slot and is not paused. */
export class QueuedRunStarter {
  private readonly store: StateStore;
  private readonly coordinator: Pick<RunCoordinator, 'startQueuedRun'>;
  private readonly leases: RunLeases;
  private readonly clock: Clock;
  private readonly log: SchedulerLog;

  constructor(options: QueuedRunStarterOptions) {
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.leases = options.leases;
    this.clock = options.clock;
    this.log = options.log;
  }

  /** Starts what fits now; a run of a DAG not in `dags` waits (its DAG may come back with a reload). */
  async start(dags: ReadonlyMap<string, DagSpec>): Promise<void> {
    const queued = (await this.store.listRuns({ states: ['queued'] })).reverse();
    if (queued.length === 0) return;
    const freeSlots = new Map<string, number>();
    for (const record of queued) {
      const dag = dags.get(record.dagId);
      if (!dag) continue;
      const free = freeSlots.get(dag.id) ?? (await this.freeSlotsOf(dag));
      if (free <= 0) {
        freeSlots.set(dag.id, 0);
        continue;
      }
      freeSlots.set(dag.id, (await this.startIsolated(dag, record)) ? free - 1 : free);
    }
  }

  /**
   * Starts one run; a run that cannot be started (a conf no store accepts, an engine that refuses it) is
   * failed with the reason and the pass goes on. Left queued, it would fail again on every pass, and the
   * runs queued behind it would never start.
   */
  private async startIsolated(dag: DagSpec, record: DagRunRecord): Promise<boolean> {
    try {
      return await this.startOne(dag, record);
    } catch (error) {
      // A store that cannot be reached is no fault of the run: it stays queued, and the pass ends as before.
      if (STORE_OUTAGE_CODES.some((code) => isBatutaError(error, code))) throw error;
      const reason = `rejected: ${(error as Error).message}`;
      try {
        await this.store.applyTransition(record.runId, {
          run: { patch: { state: 'failed', endMs: this.clock.now(), reason }, expectState: 'queued' },
        });
        await this.leases.release([record.runId]);
      } catch (recordError) {
        // The store itself failed (an outage): the run stays queued and is tried again next pass.
        this.log({
          event: 'run_start_failed',
          level: 'error',
          dagId: dag.id,
          runId: record.runId,
          message: (recordError as Error).message,
        });
        return false;
      }
      this.log({ event: 'run_rejected', level: 'warn', dagId: dag.id, runId: record.runId, reason });
      return false;
    }
  }

  /** How many more runs of the DAG may run now: none while it is paused. */
  private async freeSlotsOf(dag: DagSpec): Promise<number> {
    if (await this.store.isDagPaused(dag.id)) return 0;
    return dag.maxActiveRuns - (await this.store.listRuns({ dagId: dag.id, states: ['running'] })).length;
  }

  /** Takes the run's lease and starts it; false when another scheduler got there first. */
  private async startOne(dag: DagSpec, record: DagRunRecord): Promise<boolean> {
    // The clock is read per run: starting a long queue takes a while, and each lease runs from its own start.
    if (!(await this.leases.acquire(record.runId, this.clock.now()))) return false;
    const handle = await this.coordinator.startQueuedRun(dag, record.runId);
    if (!handle) {
      await this.leases.release([record.runId]);
      // Not started: another scheduler took it, or the coordinator refused its conf and failed it.
      const after = await this.store.getRun(record.runId);
      if (after?.state === 'failed')
        this.log({ event: 'run_rejected', level: 'warn', dagId: dag.id, runId: record.runId, reason: after.reason });
      return false;
    }
    this.log({ event: 'run_started', dagId: dag.id, runId: record.runId, kind: record.kind });
    return true;
  }
}
