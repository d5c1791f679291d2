// First sightings of DAGs: before a DAG takes part in a pass, the store records it as known, and a DAG
// new to the store is stored paused when `pausedOnCreation` (the DAG's own, else the scheduler's) says
// so — Airflow's dags_are_paused_at_creation. The store decides what is new, atomically, so two
// schedulers loading one new DAG pause it once, and a restart (the DAG is known) never pauses it again.
import type { DagSpec } from '../dag/model.js';
import type { StateStore } from '../store/state-store.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** Registers the DAGs a daemon is given; only registered DAGs reach the daemon's triggers. */
export class DagRegistrar {
  private readonly store: StateStore;
  private readonly pausedOnCreation: boolean;
  private readonly log: SchedulerLog;
  private readonly registered = new Set<string>();
  /** The last map found fully registered: a folder hands out the same map until it changes. */
  private checked: ReadonlyMap<string, DagSpec> | undefined;

  constructor(options: { store: StateStore; pausedOnCreation: boolean; log: SchedulerLog }) {
    this.store = options.store;
    this.pausedOnCreation = options.pausedOnCreation;
    this.log = options.log;
  }

  /**
   * `dags` once each is registered (the same map when all are). A DAG whose registration failed (the store
   * is away) is left out of this pass, so no run of it is created before it could be paused; it is tried
   * again on the next call.
   */
  async admit(dags: ReadonlyMap<string, DagSpec>): Promise<ReadonlyMap<string, DagSpec>> {
    if (dags === this.checked) return dags;
    const unseen = [...dags.values()].filter((dag) => !this.registered.has(dag.id));
    if (unseen.length > 0) {
      let added: string[];
      try {
        added = await this.store.registerDags(
          unseen.map((dag) => ({ dagId: dag.id, pausedOnCreation: dag.pausedOnCreation ?? this.pausedOnCreation })),
        );
      } catch (error) {
        this.log({ event: 'dag_register_failed', level: 'error', message: (error as Error).message });
        return new Map([...dags].filter(([id]) => this.registered.has(id)));
      }
      for (const dag of unseen) this.registered.add(dag.id);
      const created = new Set(added);
      for (const dag of unseen) {
        if (!created.has(dag.id)) continue;
        const paused = dag.pausedOnCreation ?? this.pausedOnCreation;
        this.log({ event: 'dag_first_seen', dagId: dag.id, pausedOnCreation: paused });
      }
    }
    this.checked = dags;
    return dags;
  }
}
