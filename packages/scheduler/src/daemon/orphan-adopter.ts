// A run still `running` whose lease lapsed lost its driver (its scheduler died or was cut off): another
// scheduler takes it over and resumes it from the state in the store.
import type { DagSpec } from '../dag/model.js';
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import type { RunLeases } from './run-leases.js';
import type { SchedulerLog } from './scheduler-log-event.js';

export interface OrphanAdopterOptions {
  store: StateStore;
  coordinator: Pick<RunCoordinator, 'resumeRun' | 'activeRunIds'>;
  leases: RunLeases;
  /** A run younger than this may not be under its creator's lease yet: it is left alone. */
  leaseTtlMs: number;
  log: SchedulerLog;
}

/** Finds running runs nobody drives and resumes them here. */
export class OrphanAdopter {
  private readonly store: StateStore;
  private readonly coordinator: Pick<RunCoordinator, 'resumeRun' | 'activeRunIds'>;
  private readonly leases: RunLeases;
  private readonly leaseTtlMs: number;
  private readonly log: SchedulerLog;

  constructor(options: OrphanAdopterOptions) {
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.leases = options.leases;
    this.leaseTtlMs = options.leaseTtlMs;
    this.log = options.log;
  }

  /** Adopts every orphan of a DAG in `dags` whose lease this scheduler wins. */
  async adopt(dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    const mine = new Set(this.coordinator.activeRunIds());
    for (const record of await this.store.listRuns({ states: ['running'] })) {
      if (mine.has(record.runId)) continue;
      if ((record.startMs ?? record.createdMs) > nowMs - this.leaseTtlMs) continue;
      if (await this.leases.ownerOf(record.runId, nowMs)) continue;
      await this.take(dags, record.dagId, record.runId, nowMs, false);
    }
  }

  /**
   * Adopts runs a stopping peer released on purpose: at once, young or not (its lease was let go, so no
   * creator can still be about to take it), when this scheduler wins the lease.
   */
  async adoptReleased(dags: ReadonlyMap<string, DagSpec>, runIds: readonly string[], nowMs: number): Promise<void> {
    if (runIds.length === 0) return;
    const mine = new Set(this.coordinator.activeRunIds());
    for (const runId of runIds) {
      if (mine.has(runId)) continue;
      const record = await this.store.getRun(runId);
      if (record?.state !== 'running') continue;
      await this.take(dags, record.dagId, runId, nowMs, true);
    }
  }

  private async take(
    dags: ReadonlyMap<string, DagSpec>,
    dagId: string,
    runId: string,
    nowMs: number,
    handedOver: boolean,
  ): Promise<void> {
    const dag = dags.get(dagId);
    if (!dag) return;
    try {
      if (!(await this.leases.acquire(runId, nowMs))) return;
      await this.coordinator.resumeRun(dag, runId);
      this.log({ event: 'run_adopted', dagId: dag.id, runId, ...(handedOver ? { handedOver } : {}) });
    } catch (error) {
      // One run that cannot be resumed must not leave the orphans after it without a driver.
      this.log({ event: 'run_adopt_failed', level: 'error', dagId: dag.id, runId, message: (error as Error).message });
    }
  }
}
