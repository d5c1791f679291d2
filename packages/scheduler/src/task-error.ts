// TaskError is plain data (it crosses processes). Every TaskError Batuta makes itself goes through
// `taskError`, and every thrown value becomes one through `toTaskError`, so the fields the retry
// decision reads (`code`, `retryable`, `name`) are always set the same way.
import type { TaskError } from './dag/model.js';

/** A TaskError made by Batuta itself: a message, and the code, class name and retryability it carries. */
export function taskError(
  message: string,
  details: { code?: string; name?: string; retryable?: boolean; stack?: string } = {},
): TaskError {
  const error: TaskError = { message };
  if (details.name !== undefined) error.name = details.name;
  if (details.code !== undefined) error.code = details.code;
  if (details.retryable !== undefined) error.retryable = details.retryable;
  if (details.stack !== undefined) error.stack = details.stack;
  return error;
}

/** A thrown value as a TaskError, keeping `message`, `name`, `code` (numbers become strings), `retryable` and `stack`. */
export function toTaskError(thrown: unknown): TaskError {
  if (typeof thrown !== 'object' || thrown === null) return taskError(String(thrown));
  const source = thrown as { message?: unknown; name?: unknown; code?: unknown; retryable?: unknown; stack?: unknown };
  const details: Parameters<typeof taskError>[1] = {};
  if (typeof source.name === 'string') details.name = source.name;
  if (typeof source.code === 'string' || typeof source.code === 'number') details.code = String(source.code);
  if (typeof source.retryable === 'boolean') details.retryable = source.retryable;
  if (typeof source.stack === 'string') details.stack = source.stack;
  return taskError(typeof source.message === 'string' ? source.message : describe(thrown), details);
}

function describe(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
