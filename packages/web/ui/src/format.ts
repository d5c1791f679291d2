// How the UI writes times, durations and schedules.

export function formatDate(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A DAG's schedule as a short phrase: `cron 0 * * * * (UTC)`, `every 30 s`, `on event orders`, `manual`. */
export function formatSchedule(schedule: unknown): string {
  if (schedule === null || typeof schedule !== 'object') return 'manual';
  const s = schedule as Record<string, unknown>;
  switch (s.kind) {
    case 'cron':
      return `cron ${String(s.cron)} (${String(s.timezone ?? 'UTC')})`;
    case 'every':
      return `every ${formatDuration(Number(s.everyMs))}`;
    case 'once':
      return 'once';
    case 'events':
      return `on event ${(s.events as string[]).join(', ')}`;
    case 'datasets':
      return `on dataset ${(s.datasets as string[]).join(', ')}`;
    default:
      return JSON.stringify(schedule);
  }
}

const KNOWN_STATES = new Set([
  'none',
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'upstream_failed',
  'skipped',
  'removed',
]);

/** The CSS class of a state (unknown states share one neutral colour). */
export const stateClass = (state: string) => `state state-${KNOWN_STATES.has(state) ? state : 'none'}`;

/** A task's declared resources: `cpu 2 · 2048 MB · gpu 1 · licence 1` (— when none are declared). */
export function formatResources(resources: unknown): string {
  if (resources === null || typeof resources !== 'object') return '—';
  const r = resources as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof r.cpu === 'number') parts.push(`cpu ${r.cpu}`);
  if (typeof r.memoryMb === 'number') parts.push(`${r.memoryMb} MB`);
  if (typeof r.gpu === 'number' && r.gpu > 0) parts.push(`gpu ${r.gpu}`);
  if (r.custom && typeof r.custom === 'object') {
    for (const [name, count] of Object.entries(r.custom as Record<string, unknown>))
      parts.push(`${name} ${String(count)}`);
  }
  return parts.length > 0 ? parts.join(' · ') : '—';
}
