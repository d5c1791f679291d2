// Dataset triggers: a DAG scheduled on datasets runs once every dataset it waits for was updated since
// its last dataset run; updates in between collapse into that one run. Only a dataset's latest update
// matters to anyone, so each read trims the updates before it: a dataset stream stays one entry long
// (plus what arrives between two reads), and a restarted scheduler rereads just that.
import type { DagSpec } from '../dag/model.js';
import { datasetStream } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import { type DatasetUpdate, datasetRunsDue } from '../triggers/datasets.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** Dataset updates read per stream per pass (only the latest matters). */
const PAGE = 10_000;

/** Turns dataset updates into queued runs of the DAGs scheduled on them. */
export class DatasetIntake {
  private readonly store: StateStore;
  private readonly log: SchedulerLog;
  /** The last update read per dataset stream. */
  private readonly cursors = new Map<string, string>();
  private readonly latestUpdates = new Map<string, DatasetUpdate>();
  /** Per DAG, the update of each dataset its latest dataset run consumed. */
  private readonly consumed = new Map<string, Record<string, string>>();

  constructor(options: { store: StateStore; log: SchedulerLog }) {
    this.store = options.store;
    this.log = options.log;
  }

  /** Reads the latest update of every dataset a DAG waits for, and creates the dataset runs now due. */
  async read(dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    // A DAG gone from the folder takes what it consumed along (read again from the store if it returns).
    for (const dagId of this.consumed.keys()) if (!dags.has(dagId)) this.consumed.delete(dagId);
    const datasetDags = [...dags.values()].filter((dag) => dag.schedule?.kind === 'datasets');
    if (datasetDags.length === 0) return;
    const names = new Set(datasetDags.flatMap((d) => (d.schedule?.kind === 'datasets' ? d.schedule.datasets : [])));
    for (const name of names) {
      const stream = datasetStream(name);
      const page = await this.store.readEvents(stream, this.cursors.get(stream), PAGE);
      const last = page.at(-1);
      if (last) {
        this.latestUpdates.set(name, { eventId: last.id, atMs: last.atMs });
        this.cursors.set(stream, last.id);
      }
      const beforeLast = page.at(-2);
      if (beforeLast) await this.store.trimEvents(stream, beforeLast.id);
    }
    for (const dag of datasetDags) {
      if (!(await this.store.isDagPaused(dag.id))) await this.createDueRun(dag, nowMs);
    }
  }

  /** Creates the DAG's dataset run when all its datasets moved on and it has a free run slot. */
  private async createDueRun(dag: DagSpec, nowMs: number): Promise<void> {
    if (dag.schedule?.kind !== 'datasets') return;
    const consumed = await this.consumedBy(dag.id);
    const latestUpdates: Record<string, DatasetUpdate> = {};
    for (const name of dag.schedule.datasets) {
      const update = this.latestUpdates.get(name);
      if (update) latestUpdates[name] = update;
    }
    const active = (await this.store.listRuns({ dagId: dag.id, states: ['queued', 'running'] })).length;
    const { datasetRun } = datasetRunsDue({
      dag,
      nowMs,
      lastScheduledFireMs: undefined,
      activeRunCount: active,
      lastConsumedEventIds: consumed,
      latestUpdates,
    });
    if (!datasetRun) return;
    const datasetEventIds: Record<string, string> = {};
    for (const [name, update] of Object.entries(datasetRun.consumes)) datasetEventIds[name] = update.eventId;
    const { created } = await this.store.createRun({
      runId: datasetRun.runId,
      dagId: dag.id,
      kind: 'dataset',
      state: 'queued',
      logicalDateMs: datasetRun.logicalDateMs,
      dataIntervalStartMs: datasetRun.dataIntervalStartMs,
      dataIntervalEndMs: datasetRun.dataIntervalEndMs,
      conf: { datasetEventIds },
      createdMs: nowMs,
    });
    this.consumed.set(dag.id, { ...consumed, ...datasetEventIds });
    if (created) {
      this.log({
        event: 'run_created',
        dagId: dag.id,
        runId: datasetRun.runId,
        kind: 'dataset',
        datasets: datasetEventIds,
      });
    }
  }

  /** What the DAG's latest dataset run consumed: remembered, or read from the store the first time. */
  private async consumedBy(dagId: string): Promise<Record<string, string>> {
    let consumed = this.consumed.get(dagId);
    if (!consumed) {
      const runs = await this.store.listRuns({ dagId, limit: 100 });
      const previous = runs.find((r) => r.kind === 'dataset');
      consumed = (previous?.conf.datasetEventIds as Record<string, string> | undefined) ?? {};
      this.consumed.set(dagId, consumed);
    }
    return consumed;
  }
}
