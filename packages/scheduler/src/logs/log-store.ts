// The LogStore port: every attempt's output lines (a shell command's stdout and stderr, a TS task's
// `log()` and `console`), appended in batches by whoever runs the attempt and read back by run, task,
// map index and try from any process. Adapters: memory (tests, `dags test`), Redis (distributed mode),
// files (one file per attempt). docs/adr/014-task-logs.md.
import { BatutaError } from '../errors.js';

/** Where a line came from: the command's stdout or stderr, or the task's own `log()`. */
export type LogStream = 'stdout' | 'stderr' | 'log';

/** The streams, in a fixed order (their one-letter codes are their initials). */
export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr', 'log'];

/** One line of an attempt's output. */
export interface LogLine {
  /** When the line was written, by the writer's clock (ms since epoch). */
  atMs: number;
  stream: LogStream;
  /** The line without its newline (long lines are cut at `MAX_LOG_LINE_CHARS`). */
  text: string;
}

/** Which attempt: one try of one task instance of a run. */
export interface LogAttempt {
  runId: string;
  taskId: string;
  /** -1 for an unmapped task. */
  mapIndex: number;
  tryNumber: number;
}

/** What a read returns: lines in the order they were appended, and where to go on from. */
export interface LogPage {
  lines: LogLine[];
  /** Pass as `after` to read the lines appended since; opaque, adapter-specific. */
  cursor: string;
  /** The attempt's writer said it wrote its last line (flushed before the attempt was reported). */
  ended: boolean;
  /** Lines the caps refused for this attempt (per-attempt or per-run cap), over its life. */
  droppedLines: number;
}

/** How to read: on from a cursor (`after`, `limit`), or the last lines (`tail`). */
export interface LogReadOptions {
  /** A cursor a previous read returned; default the start. Not with `tail`. */
  after?: string;
  /** At most this many lines after `after`; default 10,000. */
  limit?: number;
  /**
   * The last `tail` lines, oldest first (all of them when the log is shorter), with a cursor that
   * reads on after them: `tail` then follow. Not with `after`; `limit` does not apply.
   */
  tail?: number;
}

/** How much one store keeps. */
export interface LogCaps {
  /** Lines kept per attempt; later ones are counted in `droppedLines`. Default 100,000. */
  maxLinesPerAttempt: number;
  /** Lines kept per run, all attempts together; later ones are counted as dropped. Default 1,000,000. */
  maxLinesPerRun: number;
}

/** Default caps: 100,000 lines per attempt, 1,000,000 per run. */
export const DEFAULT_LOG_CAPS: LogCaps = { maxLinesPerAttempt: 100_000, maxLinesPerRun: 1_000_000 };

/** Lines longer than this many characters are cut (the rest is replaced by a marker). */
export const MAX_LOG_LINE_CHARS = 16 * 1024;

/** The port. */
export interface LogStore {
  /** Appends lines to an attempt's log, in order; `end` marks that the attempt wrote its last line. */
  append(attempt: LogAttempt, lines: readonly LogLine[], options?: { end?: boolean }): Promise<void>;
  /** Reads up to `limit` lines (default 10,000) after `after` (default: from the start), or the last `tail`. */
  read(attempt: LogAttempt, options?: LogReadOptions): Promise<LogPage>;
  /** The try numbers of one task instance that have a log, ascending. */
  tries(runId: string, taskId: string, mapIndex: number): Promise<number[]>;
  /** Removes every log of a run (retention); returns how many attempt logs it removed. */
  removeRun(runId: string): Promise<number>;
  close(): Promise<void>;
}

/** `text` cut to `MAX_LOG_LINE_CHARS`, saying how much was cut. */
export function clipLogText(text: string): string {
  if (text.length <= MAX_LOG_LINE_CHARS) return text;
  return `${text.slice(0, MAX_LOG_LINE_CHARS)}… [${text.length - MAX_LOG_LINE_CHARS} more characters cut]`;
}

/** `taskId#mapIndex#try`: one attempt's name inside its run (task ids never contain `#`). */
export function attemptLogId(attempt: Omit<LogAttempt, 'runId'>): string {
  return `${attempt.taskId}#${attempt.mapIndex}#${attempt.tryNumber}`;
}

/** The `tail` of a read, checked: undefined for a read from a cursor; a `BatutaError` when it cannot be. */
export function tailOf(options: LogReadOptions): number | undefined {
  const { tail } = options;
  if (tail === undefined) return undefined;
  if (options.after !== undefined) {
    throw new BatutaError('LOG_BAD_READ', 'a log read takes `tail` or `after`, not both: tail first, then follow');
  }
  if (!Number.isSafeInteger(tail) || tail < 0) {
    throw new BatutaError('LOG_BAD_READ', `a log tail is a whole number of lines from 0, got ${tail}`);
  }
  return tail;
}
