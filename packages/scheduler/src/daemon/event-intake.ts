// Event triggers: every event published on a stream a DAG listens to becomes one run of that DAG (per
// listening DAG), with the event's payload as its conf. How far a stream was turned into runs is a
// cursor persisted in the store, shared by every scheduler: a restart does not reread the stream, and
// the events behind the cursor (their runs exist) are trimmed, so the stream stays short.
import type { DagSpec } from '../dag/model.js';
import { resolveParams } from '../dag/params.js';
import { isBatutaError } from '../errors.js';
import type { DagRunRecord, StateStore } from '../store/state-store.js';
import { eventRunId } from '../triggers/run-ids.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** The stream an event named `name` is published to. */
export function eventStream(name: string): string {
  return `event:${name}`;
}

/** Events read per stream per pass. */
const PAGE = 1_000;

/** Turns published events into queued runs of the DAGs listening to them. */
export class EventIntake {
  private readonly store: StateStore;
  private readonly log: SchedulerLog;
  /** The last event read per stream: one entry per event name ever listened to. */
  private readonly cursors = new Map<string, string>();

  constructor(options: { store: StateStore; log: SchedulerLog }) {
    this.store = options.store;
    this.log = options.log;
  }

  /** Creates the runs of the events published since the last read, a page per stream. */
  async read(dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    for (const [name, listening] of listenersOf(dags)) {
      const stream = eventStream(name);
      const cursor = this.cursors.get(stream) ?? (await this.store.getCursor(stream));
      const events = await this.store.readEvents(stream, cursor, PAGE);
      if (events.length === 0) continue;
      // One store call for the whole page: an event another scheduler already turned into runs (it
      // read the same page first) costs only an "exists" inside that call.
      const records = events.flatMap((event) =>
        listening.map((dag) => eventRunRecord(dag, name, event.id, event.payload, nowMs)),
      );
      const results = await this.store.createRuns(records);
      for (const [index, { created, run }] of results.entries()) {
        if (!created) continue;
        const eventId = events[Math.floor(index / listening.length)]!.id;
        this.log(
          run.state === 'failed'
            ? {
                event: 'event_rejected',
                level: 'warn',
                dagId: run.dagId,
                runId: run.runId,
                eventName: name,
                eventId,
                reason: run.reason,
              }
            : { event: 'run_created', dagId: run.dagId, runId: run.runId, kind: 'event', eventName: name, eventId },
        );
      }
      // Only once the runs exist: the cursor says every event up to it needs nothing more from anyone.
      const last = events.at(-1)!.id;
      this.cursors.set(stream, last);
      await this.store.advanceCursor(stream, last);
      await this.store.trimEvents(stream, last);
    }
  }
}

/** The DAGs listening to each event name. */
function listenersOf(dags: ReadonlyMap<string, DagSpec>): Map<string, DagSpec[]> {
  const listeners = new Map<string, DagSpec[]>();
  for (const dag of dags.values()) {
    if (dag.schedule?.kind !== 'events') continue;
    for (const name of dag.schedule.events) listeners.set(name, [...(listeners.get(name) ?? []), dag]);
  }
  return listeners;
}

/** One run per event per DAG; a payload that breaks the params schema makes a failed run, with the reason. */
function eventRunRecord(dag: DagSpec, name: string, eventId: string, payload: unknown, nowMs: number): DagRunRecord {
  const conf =
    payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : { payload };
  let problem: string | undefined;
  let unsafe = false;
  try {
    resolveParams(dag.params, conf, 'payload', dag.paramsSchema);
  } catch (error) {
    problem = (error as Error).message;
    unsafe = isBatutaError(error) && error.code.startsWith('JSON_');
  }
  return {
    runId: eventRunId(dag.id, name, eventId),
    dagId: dag.id,
    kind: 'event',
    state: problem ? 'failed' : 'queued',
    logicalDateMs: nowMs,
    // An unsafe payload is not kept: it may be one no store accepts (too deep to encode), and writing it
    // would fail the whole page of events on every pass. The reason says what was wrong with it.
    conf: unsafe ? {} : conf,
    createdMs: nowMs,
    ...(problem ? { endMs: nowMs, reason: `event '${name}' ${eventId} rejected: ${problem}` } : {}),
  };
}
