// `batuta tasks …`: one task instance's logs, and the repair verbs (clear, mark, test) the Airflow way.
import { parseDuration } from '@batuta/scheduler';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { tasksLogs } from '../commands/tasks-logs.js';
import { tasksClear, tasksMark, tasksTest } from '../commands/tasks-repair.js';
import { tasksTries } from '../commands/tasks-tries.js';
import {
  action,
  type ConnectionOptions,
  configOf,
  defined,
  operatorsOf,
  positiveInteger,
  type RunState,
  withConnection,
  withJson,
  withPlugins,
} from './shared.js';

type PluginOptions = ConnectionOptions & { plugin?: string[] };

/** `--timeout DUR` of the repair commands, in ms. */
export function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

/** Adds the options every repair command shares. */
export function withRepairOptions(command: Command): Command {
  return command
    .option('--dry-run', 'print what would change and change nothing')
    .option('--timeout <duration>', 'how long to wait for a scheduler to apply it (default 30s)', durationMs);
}

/** A number of lines: a whole number ≥ 0. */
function lineCount(value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('a whole number of lines ≥ 0 is expected.');
  }
  return Number(value);
}

/** A map index: -1 (an unmapped task) or a whole number ≥ 0. */
function mapIndex(value: string): number {
  if (!/^(-1|[0-9]+)$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('a map index (-1 for an unmapped task, else a whole number ≥ 0) is expected.');
  }
  return Number(value);
}

/** `--map-index 0,2` of `tasks mark`: map indexes ≥ 0, comma-separated (the option may repeat). */
function mapIndexes(value: string, previous: number[] | undefined): number[] {
  const indexes = value.split(',').map((part) => part.trim());
  if (indexes.some((part) => !/^[0-9]+$/.test(part) || !Number.isSafeInteger(Number(part)))) {
    throw new InvalidArgumentError('map indexes (whole numbers ≥ 0, comma-separated) are expected.');
  }
  return [...(previous ?? []), ...indexes.map(Number)];
}

/** Registers `tasks` and its verbs on the program. */
export function registerTasks(program: Command, state: RunState): void {
  const tasks = program
    .command('tasks')
    .summary("one task's tries and logs; clear, mark and test tasks")
    .description('Read and repair the task instances of a run, the Airflow way.');

  withRepairOptions(
    withJson(
      withPlugins(
        withConnection(
          tasks
            .command('clear')
            .summary('rerun tasks in the same run (--downstream, --upstream, --only-failed, --dry-run)')
            .description(
              `Airflow's tasks clear: each chosen task instance goes back to no state (a running one is stopped first)
and runs again in the same run, as its next try with its full retries; the run is running again and ends
by the usual rules. A mapped task is cleared with all its map indexes and expands again. The scheduler
driving the run applies it (an ended run is taken up again by a live scheduler); this command prints
what changes and waits for that.`,
            )
            .argument('<run>', 'the run id')
            .argument('<task...>', 'the task ids')
            .option('--downstream', 'also every task below the named ones')
            .option('--upstream', 'also every task above the named ones')
            .option('--only-failed', 'only failed and upstream_failed instances')
            .option('--only-running', 'only instances whose attempt is out (scheduled, queued, running)'),
        ),
      ),
    ),
  )
    .addHelpText('after', '\nExit: 3 when the run or a task is unknown, 1 when no scheduler applied it in time.')
    .action(
      action(
        state,
        async (
          runId: string,
          taskIds: string[],
          options: PluginOptions & {
            downstream?: boolean;
            upstream?: boolean;
            onlyFailed?: boolean;
            onlyRunning?: boolean;
            dryRun?: boolean;
            json?: boolean;
            timeout?: number;
          },
        ) =>
          tasksClear(configOf(options), await operatorsOf(options), runId, taskIds, {
            ...defined({
              downstream: options.downstream,
              upstream: options.upstream,
              onlyFailed: options.onlyFailed,
              onlyRunning: options.onlyRunning,
              dryRun: options.dryRun,
              json: options.json,
              timeoutMs: options.timeout,
            }),
          }),
      ),
    );

  withRepairOptions(
    withJson(
      withPlugins(
        withConnection(
          tasks
            .command('mark')
            .summary('set success|failed|skipped without running (--downstream, --dry-run)')
            .description(
              `Sets the state of task instances without running anything (a running attempt is stopped). With
--downstream/--upstream the tasks below/above get the same state; downstreams left out that have not
run yet are re-evaluated by their trigger rules (a failed mark makes them upstream_failed). The run's
state is worked out again. Marking success publishes no dataset update (nothing ran).
A mapped task marked success gets its aggregate output at once: the outputs of the instances that had
succeeded, null for those the mark made success. --map-index marks only those instances of the named
mapped tasks; the task's state and aggregate are worked out again from its instances once they have
all ended, as when they end on their own.`,
            )
            .argument('<run>', 'the run id')
            .argument('<task-and-state...>', 'the task ids, then the state: success, failed or skipped')
            .option('--map-index <i,j>', 'only these instances of the named mapped tasks (comma-separated)', mapIndexes)
            .option('--downstream', 'also every task below the named ones')
            .option('--upstream', 'also every task above the named ones'),
        ),
      ),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 2 on a bad state or --map-index of an unmapped task, 3 when the run, a task or a map index is\n' +
        'unknown.',
    )
    .action(
      action(
        state,
        async (
          runId: string,
          rest: string[],
          options: PluginOptions & {
            downstream?: boolean;
            upstream?: boolean;
            mapIndex?: number[];
            dryRun?: boolean;
            json?: boolean;
            timeout?: number;
          },
        ) => {
          const taskIds = rest.slice(0, -1);
          const markState = rest.at(-1) ?? '';
          return tasksMark(configOf(options), await operatorsOf(options), runId, taskIds, markState, {
            ...defined({
              mapIndexes: options.mapIndex,
              downstream: options.downstream,
              upstream: options.upstream,
              dryRun: options.dryRun,
              json: options.json,
              timeoutMs: options.timeout,
            }),
          });
        },
      ),
    );

  withJson(
    withPlugins(
      withConnection(
        tasks
          .command('test')
          .summary('run one task alone, recording nothing (--date, --conf, --from-run RUN, --map-index I)')
          .description(
            `Airflow's tasks test: runs one task alone in this process, ignoring its dependencies and recording
nothing. Its upstream outputs are read from RUN (--from-run, read only) or are null. Prints the output.
A mapped task is expanded over those outputs (or its literal list) as the scheduler expands it, and
instance I (--map-index, required for a mapped task, as in Airflow) runs with its item.`,
          )
          .argument('<dag>', 'the DAG id')
          .argument('<task>', 'the task id')
          .option('--date <iso>', 'the logical date the task sees (default now)')
          .addOption(
            new Option('--conf <json>', "the run's conf, checked against the DAG's params").conflicts('confFile'),
          )
          .option('--conf-file <path>', "the run's conf from a file ('-': stdin)")
          .option('--from-run <run>', 'read the upstream outputs from this run')
          .option('--map-index <i>', 'the instance of a mapped task to run', mapIndex),
      ),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 0 when the task succeeded, 1 when it failed (or its map source is not a list), 2 for a mapped task\n' +
        'without --map-index (the message lists its map indexes) or --map-index of an unmapped task, 3 when the\n' +
        'DAG, task, run or map index is unknown.',
    )
    .action(
      action(
        state,
        async (
          dagId: string,
          taskId: string,
          options: PluginOptions & {
            date?: string;
            conf?: string;
            confFile?: string;
            fromRun?: string;
            mapIndex?: number;
            json?: boolean;
          },
        ) =>
          tasksTest(configOf(options), await operatorsOf(options), dagId, taskId, {
            ...defined({
              date: options.date,
              conf: options.conf,
              confFile: options.confFile,
              fromRun: options.fromRun,
              mapIndex: options.mapIndex,
              json: options.json,
            }),
          }),
      ),
    );

  withConnection(
    tasks
      .command('logs')
      .summary("a task's log lines, any try (--try N, --map-index I, --tail N, --follow, --json)")
      .description(
        `Prints one attempt's log lines (a shell task's stdout and stderr, a TS task's log() and console), each
as '<ISO time> <stream> <text>', from the configured log store (logs.store: redis, file or none).
--tail N prints only the last N lines; with --follow, the last N and then each new line.`,
      )
      .argument('<run>', 'the run id')
      .argument('<task>', 'the task id')
      .option('--try <n>', 'the try (default the latest)', positiveInteger)
      .option('--map-index <i>', 'a mapped instance (default -1: unmapped)', mapIndex)
      .option('--tail <n>', 'only the last N lines (default: all, from the start)', lineCount)
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
          options: ConnectionOptions & {
            try?: number;
            mapIndex?: number;
            tail?: number;
            follow?: boolean;
            json?: boolean;
          },
        ) => {
          const stop = new AbortController();
          const interrupt = () => stop.abort();
          process.once('SIGINT', interrupt);
          try {
            return await tasksLogs(configOf(options), {
              runId,
              taskId,
              ...defined({ tryNumber: options.try, mapIndex: options.mapIndex, tail: options.tail }),
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

  withJson(
    withConnection(
      tasks
        .command('tries')
        .summary('every try of a task instance: state, start, duration, worker, error (--map-index I, --json)')
        .description(
          `Lists every try of one task instance, oldest first, from the store's try history: how each try ended
(or, for the current one, stands), when it started, how long it took, the worker that ran it and its error
(cut to 500 characters; the try's log has all of it: tasks logs --try N). Retries and clears keep the
earlier tries; the newest 100 ended tries of an instance are kept, and they go with the run.`,
        )
        .argument('<run>', 'the run id')
        .argument('<task>', 'the task id')
        .option('--map-index <i>', 'a mapped instance (default -1: unmapped)', mapIndex),
    ),
  )
    .addHelpText('after', '\nExit: 3 when the run has no such task instance, 4 when Redis is unreachable.')
    .action(
      action(
        state,
        async (runId: string, taskId: string, options: ConnectionOptions & { mapIndex?: number; json?: boolean }) =>
          tasksTries(configOf(options), {
            runId,
            taskId,
            ...defined({ mapIndex: options.mapIndex }),
            json: options.json ?? false,
          }),
      ),
    );
}
