// `batuta tasks …`: one task instance's logs (and, with the repair commands, clear / mark / test).
import { type Command, InvalidArgumentError } from 'commander';
import { tasksLogs } from '../commands/tasks-logs.js';
import {
  action,
  type ConnectionOptions,
  configOf,
  defined,
  positiveInteger,
  type RunState,
  withConnection,
} from './shared.js';

/** A map index: -1 (an unmapped task) or a whole number ≥ 0. */
function mapIndex(value: string): number {
  if (!/^(-1|[0-9]+)$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('a map index (-1 for an unmapped task, else a whole number ≥ 0) is expected.');
  }
  return Number(value);
}

/** Registers `tasks` and its verbs on the program. */
export function registerTasks(program: Command, state: RunState): void {
  const tasks = program
    .command('tasks')
    .summary("one task's logs, every try")
    .description('Read the task instances of a run.');

  withConnection(
    tasks
      .command('logs')
      .summary("a task's log lines, any try (--try N, --map-index I, --follow, --json)")
      .description(
        `Prints one attempt's log lines (a shell task's stdout and stderr, a TS task's log() and console), each
as '<ISO time> <stream> <text>', from the configured log store (logs.store: redis, file or none).`,
      )
      .argument('<run>', 'the run id')
      .argument('<task>', 'the task id')
      .option('--try <n>', 'the try (default the latest)', positiveInteger)
      .option('--map-index <i>', 'a mapped instance (default -1: unmapped)', mapIndex)
      .option('-f, --follow', "keep printing a running attempt's lines until it ends")
      .option('--json', 'one JSON object per line: {runId, taskId, mapIndex, tryNumber, atMs, time, stream, text}'),
  )
    .addHelpText('after', '\nExit: 3 when the run has no such task and no log, 4 when Redis is unreachable.')
    .action(
      action(
        state,
        async (
          runId: string,
          taskId: string,
          options: ConnectionOptions & { try?: number; mapIndex?: number; follow?: boolean; json?: boolean },
        ) => {
          const stop = new AbortController();
          const interrupt = () => stop.abort();
          process.once('SIGINT', interrupt);
          try {
            return await tasksLogs(configOf(options), {
              runId,
              taskId,
              ...defined({ tryNumber: options.try, mapIndex: options.mapIndex }),
              follow: options.follow ?? false,
              json: options.json ?? false,
              signal: stop.signal,
            });
          } finally {
            process.off('SIGINT', interrupt);
          }
        },
      ),
    );
}
