// The API calls of the operator's pages: task logs, clear and mark, and the worker pools.
import { api } from './api.js';

export interface LogLine {
  time: string;
  atMs: number;
  stream: 'stdout' | 'stderr' | 'log';
  text: string;
}

export interface LogPage {
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  tries: number[];
  lines: LogLine[];
  cursor: string;
  ended: boolean;
  droppedLines: number;
  state?: string;
}

export interface LogQuery {
  mapIndex: number;
  tryNumber?: number;
  cursor?: string;
  /** Lines per page (the API's default: 1,000). */
  limit?: number;
  /** Only the last this many lines, with a cursor to follow on (not with `cursor`). */
  tail?: number;
}

export function getLogs(runId: string, taskId: string, query: LogQuery): Promise<LogPage> {
  const search = new URLSearchParams({ mapIndex: String(query.mapIndex) });
  if (query.tryNumber !== undefined) search.set('try', String(query.tryNumber));
  if (query.cursor !== undefined) search.set('cursor', query.cursor);
  if (query.limit !== undefined) search.set('limit', String(query.limit));
  if (query.tail !== undefined) search.set('tail', String(query.tail));
  return api<LogPage>(
    `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/logs?${search.toString()}`,
  );
}

/** One try of a task instance (`GET …/tries`); `state` is absent for a try known only by its log. */
export interface TaskTry {
  tryNumber: number;
  state?: string;
  queuedAt?: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  worker?: string;
  error?: { code?: string; name?: string; message: string };
  reason?: string;
  hasLog: boolean;
}

export interface TaskTries {
  runId: string;
  taskId: string;
  mapIndex: number;
  state?: string;
  tries: TaskTry[];
}

/** Every try of a task instance, oldest first, from the store's try history and the log store. */
export function getTaskTries(runId: string, taskId: string, mapIndex: number): Promise<TaskTries> {
  return api<TaskTries>(
    `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/tries?mapIndex=${mapIndex}`,
  );
}

export interface RepairResult {
  runId: string;
  dagId: string;
  action: 'clear' | 'mark';
  status: 'dry-run' | 'nothing-to-change' | 'requested' | 'applied' | 'not-applied';
  appliedBy?: string;
  tasks: string[];
  changes: { taskId: string; mapIndex: number; from: string; to: string; tryNumber: number }[];
}

export interface ClearOptions {
  taskIds?: string[];
  downstream?: boolean;
  upstream?: boolean;
  onlyFailed?: boolean;
}

export const clearTasks = (runId: string, options: ClearOptions) =>
  api<RepairResult>(`/api/runs/${encodeURIComponent(runId)}/clear`, { method: 'POST', body: options });

export interface MarkOptions {
  taskIds: string[];
  state: 'success' | 'failed' | 'skipped';
  downstream?: boolean;
  upstream?: boolean;
}

export const markTasks = (runId: string, options: MarkOptions) =>
  api<RepairResult>(`/api/runs/${encodeURIComponent(runId)}/tasks/mark`, { method: 'POST', body: options });

export interface Resources {
  cpu: number;
  memoryMb: number;
  gpu: number;
  custom: Record<string, number>;
}

export interface PoolStatus {
  pool: string;
  capacity: Resources;
  minWorkers: number;
  maxWorkers: number;
  workersAlive: number;
  waiting: number;
  active: number;
  delayed: number;
  admitted: Resources;
  desiredWorkers: number;
}

export const listPools = () => api<{ pools: PoolStatus[] }>('/api/pools');

/** What a repair did, in a sentence. */
export function describeRepair(result: RepairResult): string {
  const verb = result.action === 'clear' ? 'Cleared' : 'Marked';
  switch (result.status) {
    case 'applied':
      return `${verb} ${result.changes.length} task instance(s).`;
    case 'nothing-to-change':
      return 'Nothing to change.';
    case 'requested':
      return 'Requested; no scheduler has applied it yet.';
    case 'not-applied':
      return 'The scheduler did not apply it (the run changed meanwhile); try again.';
    default:
      return `Would change ${result.changes.length} task instance(s).`;
  }
}
