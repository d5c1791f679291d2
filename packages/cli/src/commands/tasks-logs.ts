// `batuta tasks logs RUN TASK [--try N] [--map-index I] [--tail N] [--follow] [--json]`: prints one
// attempt's log lines from the configured LogStore, from any machine; --tail only its last N; --follow
// keeps printing a running attempt's lines until its end mark, or until the store says the attempt no
// longer runs (a killed worker).
import {
  followLog,
  type LogAttempt,
  type LogLine,
  type LogPage,
  type LogStore,
  type StateStore,
  type TaskInstanceRecord,
} from '@batuta/scheduler';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { openLogStore, openStore } from '../store.js';

/** What `tasks logs` is asked for. */
export interface TasksLogsOptions {
  runId: string;
  taskId: string;
  /** The try; default the instance's latest (or the latest with a log). */
  tryNumber?: number;
  /** The mapped instance; default -1 (an unmapped task). */
  mapIndex?: number;
  /** Only the last this many lines (with `follow`: the last lines, then the new ones). */
  tail?: number;
  /** Keep printing until the attempt ends. */
  follow: boolean;
  /** One JSON object per line (`TaskLogJsonLine`) instead of text. */
  json: boolean;
  /** How often --follow looks for new lines; default 250 ms. */
  pollMs?: number;
  /** Ends a --follow early (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * The `--json` shape: one object per output line, in order, each on its own line of stdout.
 * `time` is `atMs` as ISO 8601 (UTC); `stream` is stdout, stderr or log (the task's own `log()`).
 */
export interface TaskLogJsonLine {
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  atMs: number;
  time: string;
  stream: LogLine['stream'];
  text: string;
}

/** Where the lines go; stdout by default. */
export type LogPrinter = (text: string) => void;

const ACTIVE_STATES = new Set(['scheduled', 'queued', 'running']);

/** Opens the stores of `config` and prints the attempt's log; exit 0, or 3 when the run or task has none. */
export async function tasksLogs(
  config: CliConfig,
  options: TasksLogsOptions,
  print: LogPrinter = (text) => process.stdout.write(`${text}\n`),
): Promise<number> {
  const store = await openStore(config);
  const logStore = openLogStore(config);
  try {
    return await printTaskLogs(store, logStore, options, print);
  } finally {
    await logStore.close();
    await store.close();
  }
}

/** The command's body on given stores (tests and other front ends call it directly). */
export async function printTaskLogs(
  store: StateStore,
  logStore: LogStore,
  options: TasksLogsOptions,
  print: LogPrinter,
): Promise<number> {
  const mapIndex = options.mapIndex ?? -1;
  if (!Number.isInteger(mapIndex) || mapIndex < -1)
    throw new UsageError(`--map-index must be -1 or more, got ${mapIndex}`);
  if (options.tryNumber !== undefined && (!Number.isInteger(options.tryNumber) || options.tryNumber < 1)) {
    throw new UsageError(`--try must be a whole number from 1, got ${options.tryNumber}`);
  }
  const tail = options.tail;
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) {
    throw new UsageError(`--tail must be a whole number from 0, got ${tail}`);
  }
  const instance = await findInstance(store, options.runId, options.taskId, mapIndex);
  const tries = await logStore.tries(options.runId, options.taskId, mapIndex);
  if (!instance && tries.length === 0) {
    const run = await store.getRun(options.runId);
    const where = run
      ? `run ${options.runId} has no task '${options.taskId}'${mapIndex >= 0 ? ` #${mapIndex}` : ''}`
      : `no run '${options.runId}'`;
    throw new NotFoundError(`${where} and no logs for it; see 'batuta runs show RUN'`);
  }
  const tryNumber = options.tryNumber ?? Math.max(instance?.tryNumber ?? 0, tries.at(-1) ?? 0, 1);
  const attempt: LogAttempt = { runId: options.runId, taskId: options.taskId, mapIndex, tryNumber };
  const show = (page: LogPage) => {
    for (const line of page.lines) print(options.json ? JSON.stringify(jsonLine(attempt, line)) : textLine(line));
  };
  if (!options.follow && tail !== undefined) {
    const page = await logStore.read(attempt, { tail });
    show(page);
    noteGaps(attempt, page, tries, options.json);
    return 0;
  }
  if (!options.follow) {
    let after: string | undefined;
    let last: LogPage | undefined;
    for (;;) {
      const page = await logStore.read(attempt, after === undefined ? {} : { after });
      if (page.lines.length === 0) {
        last ??= page;
        break;
      }
      show(page);
      last = page;
      after = page.cursor;
    }
    noteGaps(attempt, last, tries, options.json);
    return 0;
  }
  let last: LogPage | undefined;
  for await (const page of followLog(logStore, attempt, {
    ...(tail === undefined ? {} : { tail }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    stillRunning: async () => {
      const now = await findInstance(store, options.runId, options.taskId, mapIndex);
      // Not started yet, or this very try still under way.
      return now === undefined || (now.tryNumber <= tryNumber && ACTIVE_STATES.has(now.state));
    },
  })) {
    show(page);
    last = page;
  }
  noteGaps(attempt, last ?? (await logStore.read(attempt, { limit: 1 })), tries, options.json);
  return 0;
}

/** Says on stderr what the lines do not show: dropped lines, an attempt with no log, other tries. */
function noteGaps(attempt: LogAttempt, page: LogPage | undefined, tries: number[], json: boolean): void {
  if (json) return;
  if (page && page.droppedLines > 0) {
    process.stderr.write(`(${page.droppedLines} more lines were not kept: the log caps were reached)\n`);
  }
  if (!tries.includes(attempt.tryNumber) && (!page || page.lines.length === 0)) {
    const others = tries.length > 0 ? ` (tries with logs: ${tries.join(', ')})` : '';
    process.stderr.write(`(no log for try ${attempt.tryNumber}${others})\n`);
  }
}

async function findInstance(
  store: StateStore,
  runId: string,
  taskId: string,
  mapIndex: number,
): Promise<TaskInstanceRecord | undefined> {
  const instances = await store.getTaskInstances(runId);
  return instances.find((i) => i.taskId === taskId && i.mapIndex === mapIndex);
}

/** One line as text: `<ISO time> <stream> <text>`. */
export function textLine(line: LogLine): string {
  return `${new Date(line.atMs).toISOString()} ${line.stream.padEnd(6)} ${line.text}`;
}

function jsonLine(attempt: LogAttempt, line: LogLine): TaskLogJsonLine {
  return { ...attempt, atMs: line.atMs, time: new Date(line.atMs).toISOString(), stream: line.stream, text: line.text };
}
