import { parseArgs } from 'node:util';
import { BatutaError, DagValidationError } from '@batuta/scheduler';
import { UsageError } from './cli-error.js';
import { dagsList } from './commands/dags-list.js';
import { dagsTest } from './commands/dags-test.js';
import { dagsValidate } from './commands/dags-validate.js';
import { demoCommand } from './commands/demo.js';
import { loadOperators } from './operators.js';

const HELP: Record<string, string> = {
  main: `batuta — an Airflow-style workflow scheduler and orchestrator for TypeScript

usage: batuta <command> [options]

commands:
  dags validate PATH…     check DAG files (YAML, TS, JS) and folders; errors as file:line:col
  dags test FILE          run a DAG once, in this process, with a live view of its tasks
  dags list PATH…         list the DAGs in files and folders
  demo                    the main job: the iris batch DAG, predictions into Redis, one lookup

Run 'batuta <command> --help' for a command's options.`,
  'dags validate': `usage: batuta dags validate PATH… [--plugin FILE]…

Loads every DAG file (.yaml, .yml, .ts, .js) named, and every YAML file under each folder, and
checks it: schema, ids, upstreams, cycles, cron, resources, operators and their arguments.
Each problem is printed as file:line:column: CODE field: message. A bad file does not stop the others.

options:
  --plugin FILE   a module exporting register(registry) that adds operators (repeatable)
exit: 0 when all are valid, 1 when any is invalid, 2 on a usage error`,
  'dags test': `usage: batuta dags test FILE [--dag ID] [--conf JSON] [--capacity SPEC] [--plugin FILE]…

Runs the whole DAG once in this process (embedded executor, in-memory state), showing each task's
state live, then prints a summary table (state, tries, duration).

options:
  --dag ID          which DAG, when the file defines several
  --conf JSON       run configuration, checked against the DAG's params (e.g. '{"sample": 0.5}')
  --capacity SPEC   local resources, e.g. cpu=4,memoryMb=8192,gpu=1 (default: all cores, 80% of memory)
  --plugin FILE     a module exporting register(registry) that adds operators (repeatable)
exit: 0 when the run succeeded, 1 when it failed, 2 on a usage error`,
  demo: `usage: batuta demo [--predictions file:PATH]

Runs the iris batch-inference DAG (examples/iris-batch/dag.yaml) in this process: load the data and
the XGBoost model, check the model on a trusted set, score the rows in 4 mapped partitions, ingest the
predictions into Redis as a new version, and look one row up as a consumer would.
Redis: BATUTA_REDIS_URL (default redis://127.0.0.1:6379); when none answers and redis-server is
installed, a private one is started for the run.

options:
  --predictions file:PATH   write the predictions to a CSV file instead of Redis`,
  'dags list': `usage: batuta dags list PATH… [--plugin FILE]…

Lists the DAGs found in the files and folders named: id, schedule, task count, file.`,
};

/** Entry point of the `batuta` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [group, verb] = argv;
  const command = group === 'dags' && verb ? `dags ${verb}` : (group ?? '');
  const rest = group === 'dags' ? argv.slice(2) : argv.slice(1);
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    console.log(HELP.main);
    return 0;
  }
  if (!HELP[command]) {
    console.error(`batuta: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${HELP.main}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        plugin: { type: 'string', multiple: true },
        dag: { type: 'string' },
        conf: { type: 'string' },
        capacity: { type: 'string' },
        predictions: { type: 'string' },
      },
    });
    if (values.help) {
      console.log(HELP[command]);
      return 0;
    }
    const operators = await loadOperators(values.plugin ?? []);
    switch (command) {
      case 'dags validate':
        if (positionals.length === 0) throw new UsageError('dags validate needs at least one PATH');
        return await dagsValidate(positionals, operators);
      case 'dags list':
        if (positionals.length === 0) throw new UsageError('dags list needs at least one PATH');
        return await dagsList(positionals, operators);
      case 'demo':
        return await demoCommand({ operators, ...(values.predictions ? { predictions: values.predictions } : {}) });
      case 'dags test': {
        const [file, ...extra] = positionals;
        if (!file || extra.length > 0) throw new UsageError('dags test needs exactly one FILE');
        return await dagsTest({
          file,
          operators,
          ...(values.dag ? { dagId: values.dag } : {}),
          ...(values.conf ? { conf: values.conf } : {}),
          ...(values.capacity ? { capacity: values.capacity } : {}),
        });
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`batuta ${command}: ${(error as Error).message}\nRun 'batuta ${command} --help' for usage.`);
      return 2;
    }
    if (error instanceof DagValidationError) {
      console.error(error.message);
      return 1;
    }
    if (error instanceof BatutaError || (error instanceof Error && 'code' in error)) {
      console.error(`batuta ${command}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}
