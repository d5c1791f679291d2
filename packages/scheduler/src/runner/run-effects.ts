// What follows a written step besides submitting attempts: user callbacks (task and DAG). Callbacks
// fire after the state they report is in the store; one that throws is reported to the listener and
// never stops the run. Dataset updates are no effect: they are written in the step's own transition.
import type { DagSpec } from '../dag/model.js';
import type { DagRunRecord } from '../store/state-store.js';
import type { RunBook, TaskCallbackCall } from './decision-applier.js';
import type { RunListener } from './run-listener.js';

/** Carries out a run step's callbacks. */
export class RunEffects {
  private readonly listener: RunListener;

  constructor(listener: RunListener) {
    this.listener = listener;
  }

  /** Fires task callbacks without waiting for them. */
  fireTaskCallbacks(book: RunBook, calls: readonly TaskCallbackCall[]): void {
    for (const call of calls) {
      const callback = book.tasks.get(call.taskId)?.callbacks?.[call.name];
      if (callback) this.fire(book.record.runId, `${call.taskId}.${call.name}`, () => callback(call.event));
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
