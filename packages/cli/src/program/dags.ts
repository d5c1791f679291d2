// `batuta dags …`: validate, test and list DAG files on this machine; trigger, pause, unpause, backfill
// and cancel through Redis.
import { loadPoolsFile } from '@batuta/orchestrator';
import { type Command, Option } from 'commander';
import { dagsList } from '../commands/dags-list.js';
import { dagsTest } from '../commands/dags-test.js';
import { dagsValidate } from '../commands/dags-validate.js';
import { dagsBackfill, dagsCancel, dagsPause, dagsTrigger } from '../commands/runs.js';
import { placementCheck } from '../store.js';
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

interface PluginOptions {
  plugin?: string[];
}

const CONF = '--conf <json>';
const CONF_FILE = '--conf-file <path>';

/** Registers `dags` and its verbs on the program. */
export function registerDags(program: Command, state: RunState): void {
  const dags = program
    .command('dags')
    .summary('validate, test, list, trigger, pause, backfill and cancel DAGs')
    .description('Work with DAGs: on this machine (validate, test, list) and through Redis (the others).');

  withJson(
    withPlugins(
      dags
        .command('validate')
        .summary('check DAG files (YAML, TS, JS) and folders; errors as file:line:col')
        .description(
          `Loads every DAG file (.yaml, .yml, .ts, .js) named, and every DAG file under each folder (the
scheduler's own scan), and checks it: schema, ids, upstreams, cycles, cron, resources, operators and
their arguments.
Each problem is printed as file:line:column: CODE field: message. A bad file does not stop the others.`,
        )
        .argument('<path...>', 'DAG files and folders')
        .option('--pools <file>', 'also check that every task fits a pool of this pools file (NO_POOL_FITS)'),
    ),
  )
    .addHelpText('after', '\nExit: 0 when all are valid, 1 when any is invalid, 2 on a usage error.')
    .action(
      action(state, async (paths: string[], options: PluginOptions & { pools?: string; json?: boolean }) => {
        const check = options.pools ? placementCheck((await loadPoolsFile(options.pools)).pools) : undefined;
        return dagsValidate(paths, await operatorsOf(options), check, { json: options.json ?? false });
      }),
    );

  withPlugins(
    dags
      .command('test')
      .summary('run a DAG once, in this process, with a live view of its tasks')
      .description(
        `Runs the whole DAG once in this process (embedded executor, in-memory state), showing each task's
state live, then prints a summary table (state, tries, duration) and the leaves' outputs.`,
      )
      .argument('<file>', 'the DAG file')
      .option('--dag <id>', 'which DAG, when the file defines several')
      .addOption(
        new Option(CONF, "run configuration, checked against the DAG's params (e.g. '{\"sample\": 0.5}')").conflicts(
          'confFile',
        ),
      )
      .option(CONF_FILE, "the run configuration from a file ('-': stdin)")
      .option(
        '--capacity <spec>',
        'local resources, e.g. cpu=4,memoryMb=8192,gpu=1 (default: all cores, 80% of memory)',
      ),
  )
    .addHelpText(
      'after',
      '\nExit: 0 when the run succeeded, 1 when it failed, 2 on a usage error, 3 when --dag names no DAG of the file.',
    )
    .action(
      action(
        state,
        async (
          file: string,
          options: PluginOptions & { dag?: string; conf?: string; confFile?: string; capacity?: string },
        ) =>
          dagsTest({
            file,
            operators: await operatorsOf(options),
            ...defined({
              dagId: options.dag,
              conf: options.conf,
              confFile: options.confFile,
              capacity: options.capacity,
            }),
          }),
      ),
    );

  withJson(
    withPlugins(
      dags
        .command('list')
        .summary('list the DAGs in files and folders')
        .description('Lists the DAGs found in the files and folders named: id, schedule, task count, file.')
        .argument('<path...>', 'DAG files and folders'),
    ),
  )
    .addHelpText('after', '\nExit: 0, or 1 when a file could not be loaded (the others are listed).')
    .action(
      action(state, async (paths: string[], options: PluginOptions & { json?: boolean }) =>
        dagsList(paths, await operatorsOf(options), { json: options.json ?? false }),
      ),
    );

  withConnection(
    withPlugins(
      dags
        .command('trigger')
        .summary('queue a manual run (--conf JSON, --wait)')
        .description(
          `Queues a manual run of DAG (its conf checked against the DAG's params); a running scheduler starts it.
Prints the run id. With --wait, waits for the run to end; exit 1 when it failed.
A conf key the DAG does not declare is kept, with a warning. --conf-file reads the conf from a file
('-': stdin); a conf is at most maxConfBytes (256 KiB) and maxConfDepth (64) levels deep.`,
        )
        .argument('<dag>', 'the DAG id')
        .addOption(new Option(CONF, "the run's conf, a JSON object").conflicts('confFile'))
        .option(CONF_FILE, "the conf from a file ('-': stdin)")
        .option('--wait', 'wait for the run to end; exit 1 when it failed'),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 2 on a usage error (bad JSON, bad DAG id), 3 when the DAG is not in the folder, 4 when Redis is unreachable.',
    )
    .action(
      action(
        state,
        async (
          dagId: string,
          options: PluginOptions & ConnectionOptions & { conf?: string; confFile?: string; wait?: boolean },
        ) =>
          dagsTrigger(configOf(options), await operatorsOf(options), dagId, {
            ...defined({ conf: options.conf, confFile: options.confFile }),
            wait: options.wait ?? false,
          }),
      ),
    );

  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    withConnection(
      withPlugins(
        dags
          .command(verb)
          .summary(paused ? 'stop creating scheduled runs of a DAG' : 'resume creating scheduled runs of a DAG')
          .description(
            paused
              ? 'Stops creating scheduled runs of DAG (runs in flight go on). Persisted in Redis.'
              : 'Resumes a paused DAG. With catchup off, no burst of old runs: only the latest fire is created.',
          )
          .argument('<dag>', 'the DAG id'),
      ),
    )
      .addHelpText('after', '\nExit: 3 when DAG is not in the folder, 4 when Redis is unreachable.')
      .action(
        action(state, async (dagId: string, options: PluginOptions & ConnectionOptions) =>
          dagsPause(configOf(options), await operatorsOf(options), dagId, paused),
        ),
      );
  }

  withConnection(
    withPlugins(
      dags
        .command('backfill')
        .summary('runs over a date range (--from, --to, --reprocess, --dry-run …)')
        .description(
          `Creates a run for every fire time of DAG's schedule in [--from, --to] (inclusive), at most N at once,
with a progress bar. --reprocess: none (default) skips dates that have a run; failed re-runs failed
dates; completed re-runs every date. --dry-run prints the plan.`,
        )
        .argument('<dag>', 'the DAG id')
        .requiredOption('--from <date>', 'the first logical date (ISO, e.g. 2026-01-01)')
        .requiredOption('--to <date>', 'the last logical date (ISO, inclusive)')
        .addOption(
          new Option('--reprocess <which>', 'which dates that already have a run to run again').choices([
            'none',
            'failed',
            'completed',
          ]),
        )
        .option(
          '--max-active-runs <n>',
          "at most this many runs at once (default: the DAG's maxActiveRuns)",
          positiveInteger,
        )
        .option('--newest-first', 'create the newest dates first')
        .option('--dry-run', 'print the plan; create nothing'),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 1 when a run failed, 2 on a usage error, 3 when the DAG is not in the folder, 4 when Redis is unreachable.',
    )
    .action(
      action(
        state,
        async (
          dagId: string,
          options: PluginOptions &
            ConnectionOptions & {
              from: string;
              to: string;
              reprocess?: string;
              maxActiveRuns?: number;
              newestFirst?: boolean;
              dryRun?: boolean;
            },
        ) =>
          dagsBackfill(configOf(options), await operatorsOf(options), dagId, {
            from: options.from,
            to: options.to,
            ...defined({
              reprocess: options.reprocess,
              maxActiveRuns: options.maxActiveRuns === undefined ? undefined : String(options.maxActiveRuns),
            }),
            newestFirst: options.newestFirst ?? false,
            dryRun: options.dryRun ?? false,
          }),
      ),
    );

  withConnection(
    dags
      .command('cancel')
      .summary("stop a run's attempts and fail it")
      .description('Cancels a run: queued attempts are dropped, running ones are aborted, the run fails.')
      .argument('<run>', 'the run id'),
  )
    .addHelpText('after', '\nExit: 3 when the run is not in the store, 4 when Redis is unreachable.')
    .action(action(state, async (runId: string, options: ConnectionOptions) => dagsCancel(configOf(options), runId)));
}
