// `batuta runs …`: read runs from Redis.
import type { Command } from 'commander';
import { runsList, runsShow } from '../commands/runs.js';
import { runsClear } from '../commands/tasks-repair.js';
import {
  action,
  type ConnectionOptions,
  commaList,
  configOf,
  defined,
  operatorsOf,
  positiveInteger,
  type RunState,
  withConnection,
  withJson,
  withPlugins,
} from './shared.js';
import { withRepairOptions } from './tasks.js';

const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;

/** Registers `runs` and its verbs on the program. */
export function registerRuns(program: Command, state: RunState): void {
  const runs = program
    .command('runs')
    .summary('show, list and clear runs')
    .description('Read the runs of a namespace, and rerun one.');

  withRepairOptions(
    withJson(
      withPlugins(
        withConnection(
          runs
            .command('clear')
            .summary('rerun every task of a run (--only-failed, --dry-run)')
            .description(
              `Clears every task of a run (or, with --only-failed, its failed and upstream_failed ones): they run again
in the same run, as with 'tasks clear'.`,
            )
            .argument('<run>', 'the run id')
            .option('--only-failed', 'only failed and upstream_failed instances'),
        ),
      ),
    ),
  )
    .addHelpText('after', '\nExit: 3 when the run is unknown, 1 when no scheduler applied it in time.')
    .action(
      action(
        state,
        async (
          runId: string,
          options: ConnectionOptions & {
            plugin?: string[];
            onlyFailed?: boolean;
            dryRun?: boolean;
            json?: boolean;
            timeout?: number;
          },
        ) =>
          runsClear(configOf(options), await operatorsOf(options), runId, {
            ...defined({
              onlyFailed: options.onlyFailed,
              dryRun: options.dryRun,
              json: options.json,
              timeoutMs: options.timeout,
            }),
          }),
      ),
    );

  withJson(
    withConnection(
      runs
        .command('show')
        .summary('the task grid of a run')
        .description('Prints the run and its task grid: state, tries, start-to-end duration, worker, error.')
        .argument('<run>', 'the run id'),
    ),
  )
    .addHelpText('after', '\nExit: 3 when the run is not in the store, 4 when Redis is unreachable.')
    .action(
      action(state, async (runId: string, options: ConnectionOptions & { json?: boolean }) =>
        runsShow(configOf(options), runId, { json: options.json ?? false }),
      ),
    );

  withJson(
    withConnection(
      runs
        .command('list')
        .summary('recent runs (--dag ID, --state S)')
        .description('Lists recent runs, newest first: state, kind, logical date, start, end and duration.')
        .option('--dag <id>', 'only the runs of this DAG')
        .option(
          '--state <states>',
          `only runs in these states: ${RUN_STATES.join(', ')} (comma-separated)`,
          commaList(RUN_STATES),
        )
        .option('--limit <n>', 'at most this many runs (default 50)', positiveInteger),
    ),
  )
    .addHelpText('after', '\nExit: 2 on a bad --state, --limit or DAG id, 4 when Redis is unreachable.')
    .action(
      action(
        state,
        async (options: ConnectionOptions & { dag?: string; state?: string; limit?: number; json?: boolean }) =>
          runsList(configOf(options), {
            ...defined({
              dag: options.dag,
              state: options.state,
              limit: options.limit === undefined ? undefined : String(options.limit),
            }),
            json: options.json ?? false,
          }),
      ),
    );
}
