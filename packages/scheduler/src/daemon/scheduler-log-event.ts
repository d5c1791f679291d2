// The daemon's structured log: every collaborator reports through one sink of these events.

/** One structured log event (the CLI prints one JSON line each). */
export interface SchedulerLogEvent {
  event: string;
  level?: 'info' | 'warn' | 'error';
  [field: string]: unknown;
}

/** Where a daemon and its collaborators send their events. */
export type SchedulerLog = (event: SchedulerLogEvent) => void;
