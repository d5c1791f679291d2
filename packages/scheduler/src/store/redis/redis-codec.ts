// How records and transitions become the Redis store's values and script arguments, and back.
// Everything is validated and encoded here, before a script runs, so a bad value changes nothing:
// a Lua script that fails halfway would keep the writes it already made.

import type { TaskState } from '../../dag/model.js';
import { BatutaError } from '../../errors.js';
import { toStoredJson } from '../json-value.js';
import type { DagRunRecord, TaskInstanceCell, TaskInstanceRecord, Transition } from '../state-store.js';
import { outputKey } from '../state-store.js';
import { endedTryOf, TASK_TRY_HISTORY_LIMIT, tryField } from '../task-tries.js';

/** Run states become parts of index keys, so they must be identifiers (as every RunState is). */
const RUN_STATE_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Guard meaning "the instance must not exist yet". */
const ABSENT_GUARD = '-';

/** New-state argument meaning "the patch removes the run's state". */
const STATE_REMOVED = '-';

/** The index score of a logical date: ascending scores are newest first. */
export function runScore(logicalDateMs: number): string {
  return String(-logicalDateMs);
}

function checkRunState(state: unknown, runId: string): string {
  if (typeof state !== 'string' || !RUN_STATE_PATTERN.test(state)) {
    throw new BatutaError(
      'STORE_BAD_WRITE',
      `run '${runId}': state ${JSON.stringify(state)} is not a run state (letters, digits, '_', '.', '-')`,
    );
  }
  return state;
}

function checkLogicalDate(logicalDateMs: unknown, runId: string): number {
  if (typeof logicalDateMs !== 'number' || !Number.isFinite(logicalDateMs)) {
    throw new BatutaError(
      'STORE_BAD_WRITE',
      `run '${runId}': logicalDateMs must be a finite number of milliseconds, got ${String(logicalDateMs)}`,
    );
  }
  return logicalDateMs;
}

/** A new run as record-hash fields plus what the index needs. */
export interface EncodedRun {
  /** The record as it reads back (a copy of what was stored). */
  stored: DagRunRecord;
  score: string;
  dagIdJson: string;
  stateJson: string;
  /** field, JSON value, field, JSON value… */
  fields: string[];
}

/** Validates and encodes a run for `createRun`; throws before anything is written. */
export function encodeNewRun(run: DagRunRecord): EncodedRun {
  // Field by field: one JSON text per field is what the hash keeps (a scheduler's fire encodes hundreds).
  const stored: Record<string, unknown> = {};
  const fields: string[] = [];
  const prototype: unknown = Object.getPrototypeOf(run);
  // The record itself must be a plain object too, as toStoredJson requires of every value.
  if (prototype !== Object.prototype && prototype !== null) toStoredJson(run, `run '${run.runId}'`);
  try {
    for (const [field, value] of Object.entries(run)) {
      if (value === undefined) continue; // dropped, as JSON drops it
      const text = toStoredJson(value, 'value');
      fields.push(field, text);
      // The stored copy, as it reads back (strings and booleans need no round trip; -0 becomes 0).
      // Defined, not assigned: a field named `__proto__` stays data.
      Object.defineProperty(stored, field, {
        value: typeof value === 'string' || typeof value === 'boolean' ? value : JSON.parse(text),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  } catch {
    toStoredJson(run, `run '${run.runId}'`); // throws, naming the offending path from the record down
  }
  const state = checkRunState(run.state, run.runId);
  const logicalDateMs = checkLogicalDate(run.logicalDateMs, run.runId);
  if (typeof run.runId !== 'string' || typeof run.dagId !== 'string') {
    throw new BatutaError('STORE_BAD_WRITE', `run ${JSON.stringify(run.runId)}: runId and dagId must be strings`);
  }
  return {
    stored: stored as unknown as DagRunRecord,
    score: runScore(logicalDateMs),
    dagIdJson: JSON.stringify(run.dagId),
    stateJson: JSON.stringify(state),
    fields,
  };
}

/** Decodes a record hash (field → JSON) into the record; undefined when the hash is empty. */
export function decodeRecord<T>(fields: Record<string, string> | string[]): T | undefined {
  // Built with Object.fromEntries, which defines own properties: a hash field named `__proto__` (any
  // client can write one) comes back as plain data, never as the record's prototype.
  const entries: Array<[string, unknown]> = [];
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) entries.push([fields[i]!, JSON.parse(fields[i + 1]!)]);
  } else {
    for (const [field, value] of Object.entries(fields)) entries.push([field, JSON.parse(value)]);
  }
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}

/**
 * An instance as stored: its JSON with `state` as the first property, so the transition script
 * checks a guard by comparing a prefix instead of decoding JSON.
 */
export function encodeInstance(record: TaskInstanceRecord, runId: string): string {
  if (record.runId !== runId) {
    throw new BatutaError(
      'STORE_BAD_WRITE',
      `transition for run '${runId}' writes instance '${record.taskId}' of run '${record.runId}'; ` +
        'an instance write must carry the run id it is applied to',
    );
  }
  const key = outputKey(record.taskId, record.mapIndex);
  const { state, ...rest } = record;
  return toStoredJson({ state, ...rest }, `task instance '${key}'`);
}

/** An instance's cell as the cells hash keeps it: `<state>,<tryNumber>` (read back by `decodeCell`). */
export function encodeCell(record: TaskInstanceRecord): string {
  return `${record.state},${record.tryNumber}`;
}

/**
 * The cells of a run as getRunCells-0.lua packs them (the count, then field, value, field, value…,
 * joined by newlines; fields `<taskId>#<mapIndex>`). Undefined for '' (no cells hash), and for a text
 * whose parts do not match its count (an id holding a newline): the caller reads the instances instead.
 */
export function decodePackedCells(text: string): TaskInstanceCell[] | undefined {
  if (text === '') return undefined;
  const parts = text.split('\n');
  const count = Number(parts[0]);
  if (parts.length !== 2 * count + 1) return undefined;
  const cells: TaskInstanceCell[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const field = parts[2 * i + 1]!;
    const value = parts[2 * i + 2]!;
    const hash = field.lastIndexOf('#');
    const comma = value.lastIndexOf(',');
    cells[i] = {
      taskId: field.slice(0, hash),
      mapIndex: Number(field.slice(hash + 1)),
      state: value.slice(0, comma) as TaskState,
      tryNumber: Number(value.slice(comma + 1)),
    };
  }
  return cells;
}

/** The prefix a stored instance starts with when it is in `state`. */
function stateGuard(state: string): string {
  return `{"state":${JSON.stringify(state)}`;
}

/** A transition as the ARGV of applyTransition-7.lua (after the prefix and run id). */
export function encodeTransition(runId: string, transition: Transition): string[] {
  const guards: string[] = [];
  // Later writes to the same key win, as they would applied one by one.
  const instances = new Map<string, { json: string; cell: string; record: TaskInstanceRecord }>();
  for (const { record, expectState } of transition.instances ?? []) {
    const field = outputKey(record.taskId, record.mapIndex);
    if (expectState !== undefined)
      guards.push(field, expectState === 'absent' ? ABSENT_GUARD : stateGuard(expectState));
    instances.set(field, { json: encodeInstance(record, runId), cell: encodeCell(record), record });
  }
  // The entry of each try a write ends (ADR 019), and the try that falls out of the history with it.
  const endedTries: string[] = [];
  for (const { record } of instances.values()) {
    const ended = endedTryOf(record);
    if (!ended) continue;
    const dropped = record.tryNumber - TASK_TRY_HISTORY_LIMIT;
    endedTries.push(
      tryField(record.taskId, record.mapIndex, record.tryNumber),
      JSON.stringify(ended),
      dropped >= 1 ? tryField(record.taskId, record.mapIndex, dropped) : '',
    );
  }

  const outputs = new Map<string, string | undefined>();
  for (const { taskId, mapIndex, value } of transition.outputs ?? []) {
    const field = outputKey(taskId, mapIndex);
    outputs.set(
      field,
      value === undefined ? undefined : toStoredJson(value, `output of task '${field}' in run '${runId}'`),
    );
  }
  const outputSets: string[] = [];
  const outputDeletes: string[] = [];
  for (const [field, json] of outputs) {
    if (json === undefined) outputDeletes.push(field);
    else outputSets.push(field, json);
  }

  let expectedRunState = '';
  let newState = '';
  let newScore = '';
  const patchSets: string[] = [];
  const patchDeletes: string[] = [];
  if (transition.run) {
    if (transition.run.expectState !== undefined) expectedRunState = JSON.stringify(transition.run.expectState);
    const patch: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(transition.run.patch)) {
      if (field === 'runId' || field === 'dagId') continue;
      patch[field] = value;
    }
    toStoredJson(patch, `run '${runId}'`);
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) {
        patchDeletes.push(field);
        if (field === 'state') newState = STATE_REMOVED;
        continue;
      }
      if (field === 'state') newState = JSON.stringify(checkRunState(value, runId));
      if (field === 'logicalDateMs') newScore = runScore(checkLogicalDate(value, runId));
      patchSets.push(field, JSON.stringify(value));
    }
  }

  const events: string[] = [];
  for (const { stream, type, payload, atMs } of transition.events ?? []) {
    const what = `payload of event '${type}' on stream '${stream}'`;
    toStoredJson({ type, atMs }, what);
    events.push(stream, type, toStoredJson(payload === undefined ? null : payload, what), JSON.stringify(atMs));
  }

  const args: string[] = [
    expectedRunState,
    newState,
    newScore,
    String(guards.length / 2),
    String(instances.size),
    String(outputSets.length / 2),
    String(outputDeletes.length),
    String(patchSets.length / 2),
    String(patchDeletes.length),
    String(events.length / 4),
    String(endedTries.length / 3),
  ];
  for (const value of guards) args.push(value);
  for (const [field, { json }] of instances) args.push(field, json);
  for (const { cell } of instances.values()) args.push(cell);
  for (const value of outputSets) args.push(value);
  for (const value of outputDeletes) args.push(value);
  for (const value of patchSets) args.push(value);
  for (const value of patchDeletes) args.push(value);
  for (const value of events) args.push(value);
  for (const value of endedTries) args.push(value);
  return args;
}
