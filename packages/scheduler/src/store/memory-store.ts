// The embedded StateStore: everything in process memory, gone when the process ends.
// It keeps every record and value as JSON text, exactly as the Redis adapter does, so a value that
// would not survive Redis fails here too, and no caller can mutate stored state through a reference.

import type { RunState, TaskState } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import { toStoredJson } from './json-value.js';
import type {
  DagRunRecord,
  InstanceWrite,
  LeaseInfo,
  PrunedRun,
  PruneRunsQuery,
  RunCursor,
  RunQuery,
  StateStore,
  StoreChange,
  StoreChangeListener,
  StoredEvent,
  TaskInstanceCell,
  TaskInstanceRecord,
  TaskTryRecord,
  Transition,
} from './state-store.js';
import { changeOfTransition, outputKey, runLeaseName } from './state-store.js';
import { endedTryOf, TASK_TRY_HISTORY_LIMIT, triesOfInstance, tryField } from './task-tries.js';

interface StoredRun {
  runId: string;
  dagId: string;
  state: RunState;
  logicalDateMs: number;
  json: string;
}

/** Run states pruneRuns may remove: a run in any other state is still being driven. */
const PRUNABLE_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>(['success', 'failed']);

interface StoredInstance {
  state: TaskState;
  tryNumber: number;
  json: string;
}

interface StoredStreamEvent {
  id: string;
  json: string;
}

interface Lease {
  owner: string;
  renewedMs: number;
  expiresMs: number;
}

/** Digits of a stream event id: fixed width, so ids compare as strings in append order. */
const EVENT_ID_DIGITS = 16;

/**
 * The in-memory StateStore, the embedded default (`dags test`, the demo, unit tests).
 *
 * Values (run conf, task outputs, event payloads) must be JSON values: plain objects, arrays, strings,
 * finite numbers, booleans and null. Anything else (functions, class instances such as Date or Map,
 * NaN, bigint, cycles, undefined inside arrays) is rejected with `BatutaError('STORE_NOT_SERIALIZABLE')`
 * before anything is written. Object properties whose value is undefined are dropped, as JSON drops
 * them. An output whose value is `undefined` (a task that returned nothing) is not stored: the key is
 * absent from `getOutputs`. An event payload of `undefined` reads back as `null`.
 *
 * Leases hold while `nowMs < expiresMs` (expiry at `nowMs + ttlMs` of the last acquire); at the
 * expiry instant another owner may take them.
 */
export class MemoryStateStore implements StateStore {
  private readonly runs = new Map<string, StoredRun>();
  private readonly instances = new Map<string, Map<string, StoredInstance>>();
  private readonly outputs = new Map<string, Map<string, string>>();
  /** Per run, ended tries by `tryField` → the try's JSON (ADR 019), as the Redis `:tries` hash. */
  private readonly tries = new Map<string, Map<string, string>>();
  private readonly streams = new Map<string, StoredStreamEvent[]>();
  /** The last id number given per stream: ids never repeat, even once old entries are trimmed. */
  private readonly streamSequences = new Map<string, number>();
  private readonly leases = new Map<string, Lease>();
  private readonly cursors = new Map<string, string>();
  private readonly pausedDags = new Set<string>();
  private readonly knownDags = new Set<string>();
  private readonly changeListeners = new Set<StoreChangeListener>();
  private closed = false;

  async createRun(run: DagRunRecord): Promise<{ created: boolean; run: DagRunRecord }> {
    this.assertOpen();
    const existing = this.runs.get(run.runId);
    if (existing) return { created: false, run: JSON.parse(existing.json) as DagRunRecord };
    const json = toStoredJson(run, `run '${run.runId}'`);
    this.runs.set(run.runId, {
      runId: run.runId,
      dagId: run.dagId,
      state: run.state,
      logicalDateMs: run.logicalDateMs,
      json,
    });
    this.emitChange({ runId: run.runId, dagId: run.dagId, created: true, runState: run.state });
    return { created: true, run: JSON.parse(json) as DagRunRecord };
  }

  async createRuns(runs: readonly DagRunRecord[]): Promise<Array<{ created: boolean; run: DagRunRecord }>> {
    const results: Array<{ created: boolean; run: DagRunRecord }> = [];
    for (const run of runs) results.push(await this.createRun(run));
    return results;
  }

  async getRun(runId: string): Promise<DagRunRecord | undefined> {
    this.assertOpen();
    const stored = this.runs.get(runId);
    return stored ? (JSON.parse(stored.json) as DagRunRecord) : undefined;
  }

  /** Newest logical date first; equal logical dates in ascending runId order. */
  async listRuns(query: RunQuery = {}): Promise<DagRunRecord[]> {
    this.assertOpen();
    const states = query.states ? new Set<RunState>(query.states) : undefined;
    const matching: StoredRun[] = [];
    for (const run of this.runs.values()) {
      if (query.dagId !== undefined && run.dagId !== query.dagId) continue;
      if (states && !states.has(run.state)) continue;
      if (query.before && !comesAfter(run, query.before)) continue;
      matching.push(run);
    }
    matching.sort((a, b) => b.logicalDateMs - a.logicalDateMs || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    const limited = query.limit === undefined ? matching : matching.slice(0, Math.max(0, query.limit));
    return limited.map((run) => JSON.parse(run.json) as DagRunRecord);
  }

  async applyTransition(runId: string, transition: Transition): Promise<boolean> {
    this.assertOpen();
    const run = this.runs.get(runId);
    if (!run) return false;
    if (transition.run?.expectState !== undefined && run.state !== transition.run.expectState) return false;
    const instances = this.instances.get(runId);
    for (const write of transition.instances ?? []) {
      if (!guardHolds(write, instances?.get(outputKey(write.record.taskId, write.record.mapIndex)))) return false;
    }

    // Every guard holds. Encode everything before touching state, so a bad value changes nothing either.
    const instanceWrites = (transition.instances ?? []).map(({ record }) => {
      if (record.runId !== runId) {
        throw new BatutaError(
          'STORE_BAD_WRITE',
          `transition for run '${runId}' writes instance '${record.taskId}' of run '${record.runId}'; ` +
            'an instance write must carry the run id it is applied to',
        );
      }
      const key = outputKey(record.taskId, record.mapIndex);
      const json = toStoredJson(record, `task instance '${key}'`);
      const ended = endedTryOf(record);
      return {
        key,
        stored: { state: record.state, tryNumber: record.tryNumber, json },
        ended: ended && { record, json: JSON.stringify(ended) },
      };
    });
    const outputWrites = (transition.outputs ?? []).map(({ taskId, mapIndex, value }) => {
      const key = outputKey(taskId, mapIndex);
      const json = value === undefined ? undefined : toStoredJson(value, `output of task '${key}' in run '${runId}'`);
      return { key, json };
    });
    let runWrite: StoredRun | undefined;
    if (transition.run) {
      const merged: Record<string, unknown> = JSON.parse(run.json);
      for (const [field, value] of Object.entries(transition.run.patch)) {
        if (field === 'runId' || field === 'dagId') continue;
        if (value === undefined) delete merged[field];
        else merged[field] = value;
      }
      const record = merged as unknown as DagRunRecord;
      runWrite = {
        runId,
        dagId: run.dagId,
        state: record.state,
        logicalDateMs: record.logicalDateMs,
        json: toStoredJson(record, `run '${runId}'`),
      };
    }
    const eventWrites = (transition.events ?? []).map(({ stream, type, payload, atMs }) => ({
      stream,
      json: toStoredJson(
        { type, payload: payload === undefined ? null : payload, atMs },
        `payload of event '${type}' on stream '${stream}'`,
      ),
    }));

    if (instanceWrites.length > 0) {
      let target = instances;
      if (!target) {
        target = new Map();
        this.instances.set(runId, target);
      }
      for (const { key, stored } of instanceWrites) target.set(key, stored);
      // Later writes to one instance win, as they do in the Redis script: only the last may end a try.
      const lastWrites = new Map(instanceWrites.map((write) => [write.key, write]));
      for (const { ended } of lastWrites.values()) if (ended) this.keepTry(runId, ended.record, ended.json);
    }
    if (outputWrites.length > 0) {
      let target = this.outputs.get(runId);
      if (!target) {
        target = new Map();
        this.outputs.set(runId, target);
      }
      for (const { key, json } of outputWrites) {
        if (json === undefined) target.delete(key);
        else target.set(key, json);
      }
    }
    if (runWrite) this.runs.set(runId, runWrite);
    for (const { stream, json } of eventWrites) this.appendStored(stream, json);
    const change = changeOfTransition(runId, run.dagId, transition);
    if (change) this.emitChange(change);
    return true;
  }

  async pruneRuns(query: PruneRunsQuery): Promise<PrunedRun[]> {
    this.assertOpen();
    const limit = Math.max(0, Math.trunc(query.limit) || 0);
    const candidates: Array<{ stored: StoredRun; record: DagRunRecord }> = [];
    for (const stored of this.runs.values()) {
      if (!PRUNABLE_RUN_STATES.has(stored.state)) continue;
      if (query.dagId !== undefined && stored.dagId !== query.dagId) continue;
      if (!(stored.logicalDateMs < query.endedBeforeMs)) continue;
      const record = JSON.parse(stored.json) as DagRunRecord;
      if (!((record.endMs ?? record.createdMs) < query.endedBeforeMs)) continue;
      candidates.push({ stored, record });
    }
    // Oldest logical date first, ties in runId order: the order the Redis indexes give.
    candidates.sort(
      (a, b) =>
        a.stored.logicalDateMs - b.stored.logicalDateMs ||
        (a.stored.runId < b.stored.runId ? -1 : a.stored.runId > b.stored.runId ? 1 : 0),
    );
    const pruned = candidates.slice(0, limit).map(({ record }) => prunedRunOf(record));
    if (query.dryRun) return pruned;
    for (const { runId } of pruned) {
      this.runs.delete(runId);
      this.instances.delete(runId);
      this.tries.delete(runId);
      this.outputs.delete(runId);
      this.leases.delete(runLeaseName(runId));
    }
    return pruned;
  }

  async getTaskInstances(runId: string): Promise<TaskInstanceRecord[]> {
    this.assertOpen();
    const instances = this.instances.get(runId);
    if (!instances) return [];
    return Array.from(instances.values(), (stored) => JSON.parse(stored.json) as TaskInstanceRecord);
  }

  async getTaskInstance(runId: string, taskId: string, mapIndex: number): Promise<TaskInstanceRecord | undefined> {
    this.assertOpen();
    const stored = this.instances.get(runId)?.get(outputKey(taskId, mapIndex));
    return stored ? (JSON.parse(stored.json) as TaskInstanceRecord) : undefined;
  }

  async getTaskTries(runId: string, taskId: string, mapIndex: number): Promise<TaskTryRecord[]> {
    this.assertOpen();
    const current = await this.getTaskInstance(runId, taskId, mapIndex);
    const kept = this.tries.get(runId);
    const history: TaskTryRecord[] = [];
    if (kept) {
      const prefix = tryField(taskId, mapIndex, 0).slice(0, -1);
      for (const [field, json] of kept) if (field.startsWith(prefix)) history.push(JSON.parse(json) as TaskTryRecord);
    }
    return triesOfInstance(history, current);
  }

  async getRunCells(runIds: readonly string[]): Promise<TaskInstanceCell[][]> {
    this.assertOpen();
    return runIds.map((runId) => {
      const instances = this.instances.get(runId);
      if (!instances) return [];
      return Array.from(instances, ([key, { state, tryNumber }]) => {
        const split = key.lastIndexOf('#');
        return { taskId: key.slice(0, split), mapIndex: Number(key.slice(split + 1)), state, tryNumber };
      });
    });
  }

  async getOutputs(runId: string, keys: Array<{ taskId: string; mapIndex: number }>): Promise<Map<string, unknown>> {
    this.assertOpen();
    const result = new Map<string, unknown>();
    const outputs = this.outputs.get(runId);
    if (!outputs) return result;
    for (const { taskId, mapIndex } of keys) {
      const key = outputKey(taskId, mapIndex);
      const json = outputs.get(key);
      if (json !== undefined) result.set(key, JSON.parse(json));
    }
    return result;
  }

  async appendEvent(stream: string, type: string, payload: unknown, atMs: number): Promise<string> {
    this.assertOpen();
    const json = toStoredJson(
      { type, payload: payload === undefined ? null : payload, atMs },
      `payload of event '${type}' on stream '${stream}'`,
    );
    return this.appendStored(stream, json);
  }

  async readEvents(stream: string, afterId?: string, limit?: number): Promise<StoredEvent[]> {
    this.assertOpen();
    const events = this.streams.get(stream);
    if (!events) return [];
    const from = afterId === undefined ? 0 : firstIndexAfter(events, afterId);
    const to = limit === undefined ? events.length : Math.min(events.length, from + Math.max(0, limit));
    const result: StoredEvent[] = [];
    for (let i = from; i < to; i++) {
      const { id, json } = events[i]!;
      result.push({ id, ...(JSON.parse(json) as Omit<StoredEvent, 'id'>) });
    }
    return result;
  }

  async trimEvents(stream: string, throughId: string): Promise<number> {
    this.assertOpen();
    const events = this.streams.get(stream);
    if (!events) return 0;
    const count = firstIndexAfter(events, throughId);
    events.splice(0, count);
    return count;
  }

  async getCursor(name: string): Promise<string | undefined> {
    this.assertOpen();
    return this.cursors.get(name);
  }

  async advanceCursor(name: string, eventId: string): Promise<void> {
    this.assertOpen();
    const current = this.cursors.get(name);
    // Ids are fixed-width digits here, so text order is append order.
    if (current === undefined || eventId > current) this.cursors.set(name, eventId);
  }

  async acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): Promise<boolean> {
    this.assertOpen();
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new BatutaError('STORE_BAD_LEASE', `lease '${name}': ttlMs must be a positive number, got ${ttlMs}`);
    }
    const lease = this.leases.get(name);
    if (lease && lease.owner !== owner && nowMs < lease.expiresMs) return false;
    this.leases.set(name, { owner, renewedMs: nowMs, expiresMs: nowMs + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    this.assertOpen();
    const lease = this.leases.get(name);
    if (!lease || lease.owner !== owner) return false;
    this.leases.delete(name);
    return true;
  }

  async getLeaseOwner(name: string, nowMs: number): Promise<string | undefined> {
    this.assertOpen();
    const lease = this.leases.get(name);
    return lease && nowMs < lease.expiresMs ? lease.owner : undefined;
  }

  async getLease(name: string, nowMs: number): Promise<LeaseInfo | undefined> {
    this.assertOpen();
    const lease = this.leases.get(name);
    return lease && nowMs < lease.expiresMs ? { ...lease } : undefined;
  }

  async setDagPaused(dagId: string, paused: boolean): Promise<void> {
    this.assertOpen();
    this.knownDags.add(dagId);
    if (paused) this.pausedDags.add(dagId);
    else this.pausedDags.delete(dagId);
  }

  async isDagPaused(dagId: string): Promise<boolean> {
    this.assertOpen();
    return this.pausedDags.has(dagId);
  }

  async registerDags(dags: ReadonlyArray<{ dagId: string; pausedOnCreation: boolean }>): Promise<string[]> {
    this.assertOpen();
    const added: string[] = [];
    for (const { dagId, pausedOnCreation } of dags) {
      if (this.knownDags.has(dagId)) continue;
      this.knownDags.add(dagId);
      added.push(dagId);
      if (pausedOnCreation && !this.hasRunsOf(dagId)) this.pausedDags.add(dagId);
    }
    return added;
  }

  private hasRunsOf(dagId: string): boolean {
    for (const run of this.runs.values()) if (run.dagId === dagId) return true;
    return false;
  }

  /** Marks the store closed; later calls throw `STORE_CLOSED`. The data stays readable by nobody. */
  async watchChanges(listener: StoreChangeListener): Promise<() => Promise<void>> {
    this.assertOpen();
    // A listener of its own identity, so one function given twice is two subscriptions.
    const own: StoreChangeListener = (change) => listener(change);
    this.changeListeners.add(own);
    return async () => {
      this.changeListeners.delete(own);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.changeListeners.clear();
  }

  /** Keeps an ended try unless the try already has its entry (a try ends once), dropping the one too old. */
  private keepTry(runId: string, record: TaskInstanceRecord, json: string): void {
    let kept = this.tries.get(runId);
    if (!kept) {
      kept = new Map();
      this.tries.set(runId, kept);
    }
    const field = tryField(record.taskId, record.mapIndex, record.tryNumber);
    if (!kept.has(field)) kept.set(field, json);
    kept.delete(tryField(record.taskId, record.mapIndex, record.tryNumber - TASK_TRY_HISTORY_LIMIT));
  }

  /** Tells the listeners, after the change is applied (a copy each; a throwing listener is ignored). */
  private emitChange(change: StoreChange): void {
    if (this.changeListeners.size === 0) return;
    const json = JSON.stringify(change);
    for (const listener of this.changeListeners) {
      try {
        listener(JSON.parse(json) as StoreChange);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BatutaError('STORE_CLOSED', 'the memory state store was closed; create a new one');
  }

  /** Appends an encoded event (`{type, payload, atMs}` JSON) and returns its id. */
  private appendStored(stream: string, json: string): string {
    let events = this.streams.get(stream);
    if (!events) {
      events = [];
      this.streams.set(stream, events);
    }
    const sequence = (this.streamSequences.get(stream) ?? 0) + 1;
    this.streamSequences.set(stream, sequence);
    const id = String(sequence).padStart(EVENT_ID_DIGITS, '0');
    events.push({ id, json });
    return id;
  }
}

function prunedRunOf(record: DagRunRecord): PrunedRun {
  return {
    runId: record.runId,
    dagId: record.dagId,
    state: record.state,
    logicalDateMs: record.logicalDateMs,
    ...(record.endMs === undefined ? {} : { endMs: record.endMs }),
  };
}

function guardHolds(write: InstanceWrite, current: StoredInstance | undefined): boolean {
  if (write.expectState === undefined) return true;
  if (write.expectState === 'absent') return current === undefined;
  return current !== undefined && current.state === write.expectState;
}

/** Index of the first event whose id is greater than `afterId` (binary search; ids ascend). */
function firstIndexAfter(events: StoredStreamEvent[], afterId: string): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (events[mid]!.id <= afterId) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** True when `run` lists after the cursor: an older logical date, or the same one and a greater run id. */
function comesAfter(run: { logicalDateMs: number; runId: string }, cursor: RunCursor): boolean {
  if (run.logicalDateMs !== cursor.logicalDateMs) return run.logicalDateMs < cursor.logicalDateMs;
  return run.runId > cursor.runId;
}
