// Shared pieces of the daemon collaborators' tests: DAGs, run records and a log that keeps its events.

import type { SchedulerLogEvent } from '../../src/daemon/scheduler-log-event.js';
import { type DagOptions, defineDag } from '../../src/dag/define-dag.js';
import type { DagSpec } from '../../src/dag/model.js';
import type { Executor } from '../../src/executor.js';
import type { DagRunRecord } from '../../src/store/state-store.js';

export const START = Date.UTC(2026, 2, 1, 12, 0, 0);
export const MINUTE = 60_000;

/** A one-task DAG. */
export function dagOf(id: string, options: Omit<DagOptions, 'id'> = {}): DagSpec {
  const dag = defineDag({ id, ...options });
  dag.task('work', { run: () => 1 });
  return dag.spec;
}

/** DAGs by id, as a daemon reads them. */
export function byId(...dags: DagSpec[]): Map<string, DagSpec> {
  return new Map(dags.map((dag) => [dag.id, dag]));
}

/** A run record with the fields a test does not care about filled in. */
export function runRecord(
  runId: string,
  dagId: string,
  fields: Partial<Omit<DagRunRecord, 'runId' | 'dagId'>> = {},
): DagRunRecord {
  return { runId, dagId, kind: 'manual', state: 'queued', logicalDateMs: START, conf: {}, createdMs: START, ...fields };
}

/** A log sink that keeps every event. */
export function recordingLog(): { events: SchedulerLogEvent[]; log: (event: SchedulerLogEvent) => void } {
  const events: SchedulerLogEvent[] = [];
  return { events, log: (event) => void events.push(event) };
}

/** An executor that accepts every attempt and never runs it: the runs it is given stay running. */
export const silentExecutor: Executor = {
  start: async () => {},
  submit: async () => {},
  cancel: async () => 0,
  close: async () => {},
};
