// What follows a written step besides submitting attempts: user callbacks (task and DAG) and dataset
// updates. Callbacks fire after the state they report is in the store; one that throws is reported to
// the listener and never stops the run.
import type { DagSpec } from '../dag/model.js';
import type { DagRunRecord, StateStore } from '../store/state-store.js';
import type { RunBook, TaskCallbackCall } from './decision-applier.js';
import type { RunListener } from './run-listener.js';

/** The stream where a dataset's updates are appended (a task with `outlets` succeeded). */
export function datasetStream(dataset: string): string {
  return `dataset:${dataset}`;
}

/** Carries out a run step's callbacks and dataset updates. */
export class RunEffects {
  private readonly store: StateStore;
  private readonly listener: RunListener;

  constructor(store: StateStore, listener: RunListener) {
    this.store = store;
    this.listener = listener;
  }

  /** Fires task callbacks without waiting for them. */
  fireTaskCallbacks(book: RunBook, calls: readonly TaskCallbackCall[]): void {
    for (const call of calls) {
      const callback = book.tasks.get(call.taskId)?.callbacks?.[call.name];
      if (callback) this.fire(book.record.runId, `${call.taskId}.${call.name}`, () => callback(call.event));
    }
  }

  /** Appends one `dataset-updated` event per dataset a task published. */
  async publishDatasets(
    book: RunBook,
    datasets: ReadonlyArray<{ dataset: string; taskId: string }>,
    nowMs: number,
  ): Promise<void> {
    for (const { dataset, taskId } of datasets) {
      const payload = { dataset, dagId: book.dag.id, runId: book.record.runId, taskId };
      await this.store.appendEvent(datasetStream(dataset), 'dataset-updated', payload, nowMs);
    }
  }

  /** Fires the DAG's onSuccess or onFailure for a finished run. */
  fireRunCallback(dag: DagSpec, record: DagRunRecord): void {
    const state = record.state;
    const callback = state === 'success' ? dag.callbacks?.onSuccess : dag.callbacks?.onFailure;
    if (!callback) return;
    const event = { dagId: dag.id, runId: record.runId, state, reason: record.reason ?? '' };
    this.fire(record.runId, `dag ${state} callback`, () => callback(event));
  }

  private fire(runId: string, what: string, call: () => void | Promise<void>): void {
    void Promise.resolve()
      .then(call)
      .catch((error) => this.listener.callbackFailed?.(runId, what, error));
  }
}
