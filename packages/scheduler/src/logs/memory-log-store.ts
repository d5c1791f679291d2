// The LogStore in memory: for `dags test`, the embedded executor and tests. Same caps as the others.
import {
  attemptLogId,
  DEFAULT_LOG_CAPS,
  type LogAttempt,
  type LogCaps,
  type LogLine,
  type LogPage,
  type LogReadOptions,
  type LogStore,
  tailOf,
} from './log-store.js';

interface AttemptLog {
  lines: LogLine[];
  ended: boolean;
  dropped: number;
}

interface RunLogs {
  attempts: Map<string, AttemptLog>;
  total: number;
}

/** Keeps logs in this process; `onAppend` hears every accepted batch (the live view of `dags test`). */
export class MemoryLogStore implements LogStore {
  private readonly runs = new Map<string, RunLogs>();
  private readonly caps: LogCaps;
  private readonly onAppend: ((attempt: LogAttempt, lines: readonly LogLine[]) => void) | undefined;

  constructor(
    options: { caps?: Partial<LogCaps>; onAppend?: (attempt: LogAttempt, lines: readonly LogLine[]) => void } = {},
  ) {
    this.caps = { ...DEFAULT_LOG_CAPS, ...options.caps };
    this.onAppend = options.onAppend;
  }

  async append(attempt: LogAttempt, lines: readonly LogLine[], options: { end?: boolean } = {}): Promise<void> {
    let run = this.runs.get(attempt.runId);
    if (!run) {
      run = { attempts: new Map(), total: 0 };
      this.runs.set(attempt.runId, run);
    }
    const id = attemptLogId(attempt);
    let log = run.attempts.get(id);
    if (!log) {
      log = { lines: [], ended: false, dropped: 0 };
      run.attempts.set(id, log);
    }
    const room = Math.max(
      0,
      Math.min(this.caps.maxLinesPerAttempt - log.lines.length, this.caps.maxLinesPerRun - run.total),
    );
    const accepted = lines.length <= room ? lines : lines.slice(0, room);
    for (const line of accepted) log.lines.push({ ...line });
    log.dropped += lines.length - accepted.length;
    run.total += accepted.length;
    if (options.end) log.ended = true;
    if (accepted.length > 0) this.onAppend?.(attempt, accepted);
  }

  async read(attempt: LogAttempt, options: LogReadOptions = {}): Promise<LogPage> {
    const log = this.runs.get(attempt.runId)?.attempts.get(attemptLogId(attempt));
    const tail = tailOf(options);
    if (tail !== undefined) {
      if (!log) return { lines: [], cursor: '0', ended: false, droppedLines: 0 };
      const from = Math.max(0, log.lines.length - tail);
      const lines = log.lines.slice(from).map((line) => ({ ...line }));
      return { lines, cursor: String(log.lines.length), ended: log.ended, droppedLines: log.dropped };
    }
    const from = options.after === undefined ? 0 : Number(options.after);
    if (!log) return { lines: [], cursor: String(from), ended: false, droppedLines: 0 };
    const lines = log.lines.slice(from, from + (options.limit ?? 10_000)).map((line) => ({ ...line }));
    return { lines, cursor: String(from + lines.length), ended: log.ended, droppedLines: log.dropped };
  }

  async tries(runId: string, taskId: string, mapIndex: number): Promise<number[]> {
    const prefix = `${taskId}#${mapIndex}#`;
    const run = this.runs.get(runId);
    if (!run) return [];
    return [...run.attempts.keys()]
      .filter((id) => id.startsWith(prefix))
      .map((id) => Number(id.slice(prefix.length)))
      .sort((a, b) => a - b);
  }

  async removeRun(runId: string): Promise<number> {
    const count = this.runs.get(runId)?.attempts.size ?? 0;
    this.runs.delete(runId);
    return count;
  }

  async close(): Promise<void> {}
}
