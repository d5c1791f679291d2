// The try history of a task instance (ADR 019): the record a try leaves once it ends, built here once
// for both stores so the memory and Redis adapters keep exactly the same thing. The instance record is
// overwritten by the next try (or a clear); its ended tries stay in the history until the run goes.
import type { TaskState } from '../dag/model.js';
import type { TaskInstanceRecord, TaskTryRecord } from './state-store.js';

/** Tries kept per instance: writing try N drops try N − this. A run past it keeps its newest tries. */
export const TASK_TRY_HISTORY_LIMIT = 100;

/** The longest error message (and reason) a try keeps; the full text stays in the try's log. */
export const TASK_TRY_TEXT_MAX_CHARS = 500;

/** States that end a try: it failed and waits for its next try, or it reached a terminal state. */
const TRY_ENDING_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'success',
  'failed',
  'skipped',
  'upstream_failed',
  'removed',
  'up_for_retry',
]);

/** States of a try still in progress (it was scheduled with its number and has not ended). */
const TRY_ACTIVE_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['scheduled', 'queued', 'running']);

function cut(text: string): string {
  return text.length <= TASK_TRY_TEXT_MAX_CHARS ? text : `${text.slice(0, TASK_TRY_TEXT_MAX_CHARS - 1)}…`;
}

/** The try `record` stands for, as the history keeps it. */
function tryOf(record: TaskInstanceRecord): TaskTryRecord {
  const { tryNumber, state, queuedMs, startMs, endMs, worker, error, reason } = record;
  return {
    tryNumber,
    state,
    ...(queuedMs === undefined ? {} : { queuedMs }),
    ...(startMs === undefined ? {} : { startMs }),
    ...(endMs === undefined ? {} : { endMs }),
    ...(startMs === undefined || endMs === undefined ? {} : { durationMs: Math.max(0, endMs - startMs) }),
    ...(worker === undefined ? {} : { worker }),
    ...(error === undefined
      ? {}
      : {
          error: {
            message: cut(String(error.message)),
            ...(error.name === undefined ? {} : { name: error.name }),
            ...(error.code === undefined ? {} : { code: error.code }),
          },
        }),
    ...(reason === undefined ? {} : { reason: cut(reason) }),
  };
}

/**
 * The history entry a write of `record` leaves when it ends a try (a terminal or up_for_retry state of a
 * try that was given a number); undefined when it does not (a mapped task's parent has try 0, a cleared
 * instance's state none ends nothing). A try ends once: a store keeps its first entry, so a later mark
 * of the same try does not hide how the try really ended (the instance record shows the mark).
 */
export function endedTryOf(record: TaskInstanceRecord): TaskTryRecord | undefined {
  if (record.tryNumber < 1 || !TRY_ENDING_STATES.has(record.state)) return undefined;
  return tryOf(record);
}

/**
 * Every try of an instance, oldest first: its kept history, and its current try from the instance
 * record when that try is in progress or ended without an entry (written before the history existed).
 */
export function triesOfInstance(
  history: readonly TaskTryRecord[],
  current: TaskInstanceRecord | undefined,
): TaskTryRecord[] {
  const byNumber = new Map<number, TaskTryRecord>();
  for (const entry of history) byNumber.set(entry.tryNumber, entry);
  if (
    current &&
    current.tryNumber >= 1 &&
    !byNumber.has(current.tryNumber) &&
    (TRY_ACTIVE_STATES.has(current.state) || TRY_ENDING_STATES.has(current.state))
  ) {
    byNumber.set(current.tryNumber, tryOf(current));
  }
  return [...byNumber.values()].sort((a, b) => a.tryNumber - b.tryNumber);
}

/** The history field of one try: `<taskId>#<mapIndex>#<tryNumber>` (ids hold no '#'). */
export function tryField(taskId: string, mapIndex: number, tryNumber: number): string {
  return `${taskId}#${mapIndex}#${tryNumber}`;
}
