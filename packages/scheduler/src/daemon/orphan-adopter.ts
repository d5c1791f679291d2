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
      const dag = dags.get(record.dagId);
      if (!dag) continue;
      try {
        if (!(await this.leases.acquire(record.runId, nowMs))) continue;
        await this.coordinator.resumeRun(dag, record.runId);
        this.log({ event: 'run_adopted', dagId: dag.id, runId: record.runId });
      } catch (error) {
        // One run that cannot be resumed must not leave the orphans after it without a driver.
        this.log({
          event: 'run_adopt_failed',
          level: 'error',
          dagId: dag.id,
          runId: record.runId,
          message: (error as Error).message,
        });
      }
    }
  }
}
