// `batuta tasks tries RUN TASK [--map-index I] [--json]`: every try of one task instance, oldest first,
// from the store's try history (ADR 019): how each try ended, when, on which worker, and its error.
import type { StateStore, TaskTryRecord } from '@batuta/scheduler';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { isoOrNull, tasksTriesJson } from '../json-shapes.js';
import { formatDurationMs, renderTable } from '../render/table.js';
import { openStore } from '../store.js';

/** What `tasks tries` is asked for. */
export interface TasksTriesOptions {
  runId: string;
  taskId: string;
  /** The mapped instance; default -1 (an unmapped task). */
  mapIndex?: number;
  json: boolean;
}

/** Opens the store of `config` and prints the instance's tries; exit 0, or 3 when the run has no such task. */
export async function tasksTries(config: CliConfig, options: TasksTriesOptions): Promise<number> {
  const store = await openStore(config);
  try {
    return await printTaskTries(store, options, (text) => console.log(text));
  } finally {
    await store.close();
  }
}

/** The command's body on a given store (tests call it directly). */
export async function printTaskTries(
  store: StateStore,
  options: TasksTriesOptions,
  print: (text: string) => void,
): Promise<number> {
  const mapIndex = options.mapIndex ?? -1;
  if (!Number.isInteger(mapIndex) || mapIndex < -1)
    throw new UsageError(`--map-index must be -1 or more, got ${mapIndex}`);
  const [instance, tries] = await Promise.all([
    store.getTaskInstance(options.runId, options.taskId, mapIndex),
    store.getTaskTries(options.runId, options.taskId, mapIndex),
  ]);
  if (!instance) {
    const index = mapIndex >= 0 ? ` #${mapIndex}` : '';
    throw new NotFoundError(`run '${options.runId}' has no task instance '${options.taskId}'${index}`);
  }
  const rows = tries.map(jsonOf);
  if (options.json) {
    print(
      JSON.stringify(
        tasksTriesJson.parse({
          runId: options.runId,
          taskId: options.taskId,
          mapIndex,
          state: instance.state,
          tries: rows,
        }),
      ),
    );
    return 0;
  }
  if (rows.length === 0) {
    print(`no try of ${options.taskId} has started (state ${instance.state})`);
    return 0;
  }
  print(
    renderTable(
      ['TRY', 'STATE', 'START', 'DURATION', 'WORKER', 'ERROR'],
      rows.map((row) => [
        String(row.tryNumber),
        row.state,
        row.start ?? '',
        formatDurationMs(row.durationMs),
        row.worker ?? '',
        row.error ? `${row.error.code ? `${row.error.code}: ` : ''}${row.error.message.split('\n')[0]}` : '',
      ]),
    ),
  );
  return 0;
}

function jsonOf(entry: TaskTryRecord) {
  return {
    tryNumber: entry.tryNumber,
    state: entry.state,
    start: isoOrNull(entry.startMs),
    end: isoOrNull(entry.endMs),
    durationMs: entry.durationMs ?? null,
    worker: entry.worker ?? null,
    error: entry.error ? { code: entry.error.code ?? null, message: entry.error.message } : null,
    reason: entry.reason ?? null,
  };
}
