// The REST API as the UI sees it: fetch with the session cookie, the CSRF token (kept in memory only) on
// unsafe methods, and problem documents turned into errors that name the fields at fault.

export type Role = 'viewer' | 'operator' | 'admin';
export type RunState = 'queued' | 'running' | 'success' | 'failed';

export interface Me {
  name: string;
  role: Role;
  kind: 'user' | 'token' | 'anonymous';
  csrfToken?: string;
}

export interface RunSummary {
  runId: string;
  state: RunState;
  logicalDate: string;
}

export interface DagSummary {
  dagId: string;
  description?: string;
  tags: string[];
  owner?: string;
  schedule: unknown;
  /** The next time-based fire (ISO 8601), null when the DAG has none. */
  nextFire: string | null;
  paused: boolean;
  taskCount: number;
  lastRuns: RunSummary[];
  /** Whether this user may trigger, pause, cancel, clear and mark (role and the DAG's access). */
  mayOperate?: boolean;
}

/** One declared DAG parameter, as the API lists it (a small JSON-Schema-like subset). */
export interface ParamSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  required?: boolean;
}

export interface DagTask {
  taskId: string;
  operator: string;
  upstream: string[];
  triggerRule: string;
  pool?: string;
  mapped: boolean;
  resources?: unknown;
}

export interface DagDetail extends DagSummary {
  params: Record<string, ParamSpec>;
  tasks: DagTask[];
}

export interface Run {
  runId: string;
  dagId: string;
  kind: string;
  state: RunState;
  logicalDate: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  conf: Record<string, unknown>;
  reason?: string;
}

export interface TaskInstance {
  taskId: string;
  mapIndex: number;
  state: string;
  tryNumber: number;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  worker?: string;
  error?: { code?: string; message: string };
  reason?: string;
}

export interface RunDetail extends Run {
  tasks: TaskInstance[];
}

/** A run in the grid: one state code per task row, the tries that are not 1, mapped rows summarised. */
export interface GridRun extends Run {
  states: string;
  tries: [row: number, tryNumber: number][];
  mapped: { row: number; counts: Record<string, number> }[];
}

/** GET /api/dags/{dagId}/grid: `stateCodes` decodes `runs[].states`; runs newest first. */
export interface GridPage {
  dagId: string;
  tasks: string[];
  stateCodes: Record<string, string>;
  runs: GridRun[];
  nextCursor?: string;
}

/** A failed API call: the problem document's detail, its status and the fields at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onUnauthenticated: () => void = () => {};

/** Keeps the session's CSRF token in memory (never in storage a script of another page could read). */
export function rememberCsrf(token: string | undefined): void {
  csrfToken = token;
}

/** What to do when the session ends (a 401 from any call): show the login page. */
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/auth/login') onUnauthenticated();
    const detail = typeof body.detail === 'string' ? body.detail : `${response.status} ${response.statusText}`;
    const fields = Array.isArray(body.errors) ? (body.errors as { field: string; message: string }[]) : [];
    throw new ApiError(response.status, detail, fields);
  }
  return body as T;
}

export const login = (username: string, password: string) =>
  api<Me>('/api/auth/login', { method: 'POST', body: { username, password } });
export const logout = () => api<undefined>('/api/auth/logout', { method: 'POST' });
export const me = () => api<Me>('/api/auth/me');
export const listDags = () => api<{ dags: DagSummary[] }>('/api/dags');
export const getDag = (dagId: string) => api<DagDetail>(`/api/dags/${encodeURIComponent(dagId)}`);
export const setPaused = (dagId: string, paused: boolean) =>
  api<DagDetail>(`/api/dags/${encodeURIComponent(dagId)}`, { method: 'PATCH', body: { paused } });
export const triggerRun = (dagId: string, conf: Record<string, unknown>) =>
  api<Run>(`/api/dags/${encodeURIComponent(dagId)}/runs`, { method: 'POST', body: { conf } });
export const listRuns = (dagId: string, limit: number) =>
  api<{ runs: Run[] }>(`/api/runs?dagId=${encodeURIComponent(dagId)}&limit=${limit}`);
export const getGrid = (dagId: string, limit: number) =>
  api<GridPage>(`/api/dags/${encodeURIComponent(dagId)}/grid?limit=${limit}`);
export const getRun = (runId: string) => api<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`);
export const cancelRun = (runId: string) =>
  api<{ runId: string; outcome: 'cancelled' | 'requested' | 'already-ended' }>(
    `/api/runs/${encodeURIComponent(runId)}/cancel`,
    { method: 'POST' },
  );

/** True when `role` is at least `needed` (viewer < operator < admin). */
export function roleAllows(role: Role, needed: Role): boolean {
  const order: Role[] = ['viewer', 'operator', 'admin'];
  return order.indexOf(role) >= order.indexOf(needed);
}
