// What a worker's JSON log line says about a WorkerEvent: never a task's output or mapped item in full
// (one finished line once carried 45 KB), only a short preview and the size; task output lines are in
// the LogStore, never on the worker's stdout.
import type { WorkerEvent } from '@batuta/orchestrator';
import type { Outcome, TaskJob } from '@batuta/scheduler';

/** Longest preview of an output, item or error message in a log line, in characters. */
export const PREVIEW_CHARS = 200;

/** `value` as JSON cut to `PREVIEW_CHARS`, with its full size when cut. */
export function preview(value: unknown): { preview: string; bytes: number } | undefined {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const bytes = Buffer.byteLength(text);
  return { preview: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text, bytes };
}

function jobSummary(job: TaskJob): Record<string, unknown> {
  const { item, ...rest } = job;
  return item === undefined ? rest : { ...rest, item: preview(item) };
}

function outcomeSummary(outcome: Outcome): Record<string, unknown> {
  switch (outcome.status) {
    case 'success':
      return { status: 'success', ...(outcome.output === undefined ? {} : { output: preview(outcome.output) }) };
    case 'failed': {
      const message = outcome.error.message;
      return {
        status: 'failed',
        error: {
          ...(outcome.error.code ? { code: outcome.error.code } : {}),
          ...(outcome.error.retryable === undefined ? {} : { retryable: outcome.error.retryable }),
          message: message.length > 4 * PREVIEW_CHARS ? `${message.slice(0, 4 * PREVIEW_CHARS)}…` : message,
        },
      };
    }
    default:
      return { status: outcome.status, reason: outcome.reason };
  }
}

/** The fields of a worker's JSON log line for one event (without `ts` and `level`). */
export function workerLogFields(event: WorkerEvent): Record<string, unknown> {
  switch (event.type) {
    case 'error':
      return { event: 'worker_error', level: 'error', message: String(event.error) };
    case 'finished':
      return { event: 'worker_finished', job: jobSummary(event.job), outcome: outcomeSummary(event.outcome) };
    case 'handedBack':
      return { event: 'worker_handedBack', job: jobSummary(event.job), reason: event.reason };
    default:
      return { event: `worker_${event.type}`, job: jobSummary(event.job) };
  }
}
