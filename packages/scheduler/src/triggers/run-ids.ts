// Run ids. Runs are unique by id (not by DAG and logical date, as in Airflow), and the store keys runs by
// id alone, so every id carries its DAG id. Ids the scheduler may compute twice (two schedulers, a
// restart, a retried CLI call) are derived from their inputs only, so creating the run is idempotent:
//
//   scheduled__<logical date, ISO UTC>__<dag id>          one per DAG and fire time, whoever computes it
//   backfill__<logical date>__<dag id>__<n>               the n-th run of a date, re-run by a backfill
//   dataset__<logical date>__<dag id>__<hash>             one per set of consumed dataset updates
//   event__<event name>__<event id>__<dag id>             one per published event
//   manual__<logical date>__<dag id>__<nonce>             one per trigger; the caller supplies the nonce
//
// Manual, event and dataset runs never take a scheduled run's id, so they never block it (Airflow
// #72003); two manual triggers in the same millisecond differ by their nonce (Airflow #15150).
import { BatutaError } from '../errors.js';
import { fnv1a32 } from '../util/fnv1a.js';

function isoOf(logicalDateMs: number): string {
  if (!Number.isFinite(logicalDateMs) || Math.abs(logicalDateMs) > 8.64e15) {
    throw new BatutaError('BAD_LOGICAL_DATE', `a logical date must be a valid time in ms, got ${logicalDateMs}`);
  }
  return new Date(Math.floor(logicalDateMs)).toISOString();
}

/** `scheduled__<ISO UTC>__<dagId>`: the id of the scheduled run of `dagId` at `logicalDateMs`. */
export function scheduledRunId(dagId: string, logicalDateMs: number): string {
  return `scheduled__${isoOf(logicalDateMs)}__${dagId}`;
}

/**
 * `backfill__<ISO UTC>__<dagId>__<n>`: a backfill re-running a date that already has `n − 1` runs.
 * A date without any run is backfilled under its scheduled id instead (see planBackfill).
 */
export function backfillRunId(dagId: string, logicalDateMs: number, n: number): string {
  return `backfill__${isoOf(logicalDateMs)}__${dagId}__${n}`;
}

/** `dataset__<ISO UTC>__<dagId>__<hash>`: the run consuming exactly these dataset updates (dataset → event id). */
export function datasetRunId(dagId: string, logicalDateMs: number, consumedEventIds: Record<string, string>): string {
  const key = Object.keys(consumedEventIds)
    .sort()
    .map((dataset) => `${dataset}=${consumedEventIds[dataset]}`)
    .join('\n');
  return `dataset__${isoOf(logicalDateMs)}__${dagId}__${fnv1a32(key).toString(16).padStart(8, '0')}`;
}

/** `event__<eventName>__<eventId>__<dagId>`: the run started by one published event. */
export function eventRunId(dagId: string, eventName: string, eventId: string): string {
  return `event__${eventName}__${eventId}__${dagId}`;
}

/** `manual__<ISO UTC>__<dagId>__<nonce>`: a manual trigger; pass a fresh nonce (e.g. a short random id). */
export function manualRunId(dagId: string, logicalDateMs: number, nonce: string): string {
  return adHocRunId('manual', dagId, logicalDateMs, nonce);
}

/** `<kind>__<ISO UTC>__<dagId>__<nonce>`: a run made on request (manual, test…), told apart by its nonce. */
export function adHocRunId(kind: string, dagId: string, logicalDateMs: number, nonce: string): string {
  return `${kind}__${isoOf(logicalDateMs)}__${dagId}__${nonce}`;
}
