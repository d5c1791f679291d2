import { parseArgs } from 'node:util';
import { loadPoolsFile } from '@batuta/orchestrator';
import { DagValidationError, isBatutaError, parseDuration, redactCredentials } from '@batuta/scheduler';
import { NotFoundError, UsageError } from './cli-error.js';
import { dagsList } from './commands/dags-list.js';
import { dagsTest } from './commands/dags-test.js';
import { dagsValidate } from './commands/dags-validate.js';
import { dbClean } from './commands/db-clean.js';
import { demoCommand } from './commands/demo.js';
import {
  predictionsActivate,
  predictionsGet,
  predictionsRollback,
  predictionsVersions,
} from './commands/predictions.js';
import {
  dagsBackfill,
  dagsCancel,
  dagsPause,
  dagsTrigger,
  eventsPublish,
  runsList,
  runsShow,
} from './commands/runs.js';
import { schedulerCommand } from './commands/scheduler.js';
import { statusCommand } from './commands/status.js';
import { runsClear, tasksClear, tasksMark, tasksTest } from './commands/tasks-repair.js';
import { workerMain } from './commands/worker-main.js';
import { outageGraceOf, stallDetectionOf } from './commands/worker-stall-detection.js';
import { loadConfig } from './config.js';
import { loadOperators } from './operators.js';
import { placementCheck } from './store.js';

const CONNECTION = `connection (flags > environment > batuta.config.json|yaml > defaults):
  --redis URL        Redis (BATUTA_REDIS_URL, default redis://127.0.0.1:6379)
  --namespace NS     key namespace batuta:<NS>:… (BATUTA_NAMESPACE, default 'default')
  --dags DIR         the DAG folder (BATUTA_DAGS, default ./dags)
  --config FILE      a config file with redisUrl, namespace, dags, pools, executor`;

const HELP: Record<string, string> = {
  main: `batuta — an Airflow-style workflow scheduler and orchestrator for TypeScript

usage: batuta <command> [options]

on one machine:
  demo                      the main job: the iris batch DAG, predictions into Redis, one lookup
  dags validate PATH…       check DAG files (YAML, TS, JS) and folders; errors as file:line:col
  dags test FILE            run a DAG once, in this process, with a live view of its tasks
  dags list PATH…           list the DAGs in files and folders

distributed (Redis + BullMQ):
  scheduler                 the scheduler daemon: triggers → runs → tasks on worker pools
  worker --pool NAME        a worker process that runs tasks of one pool within its capacity
  dags trigger DAG          queue a manual run (--conf JSON, --wait)
  dags pause|unpause DAG    stop or resume creating scheduled runs
  dags backfill DAG         runs over a date range (--from, --to, --reprocess, --dry-run …)
  dags cancel RUN           stop a run's attempts and fail it
  runs show RUN             the task grid of a run
  runs list                 recent runs (--dag ID, --state S)
  runs clear RUN            rerun every task of a run (--only-failed, --dry-run)
  tasks clear RUN TASK…     rerun tasks in the same run (--downstream, --upstream, --only-failed, --dry-run)
  tasks mark RUN TASK… STATE  set success|failed|skipped without running (--downstream, --dry-run)
  tasks test DAG TASK       run one task alone, recording nothing (--date, --conf, --from-run RUN)
  events publish NAME       publish an event (--payload JSON); DAGs scheduled on it run
  status                    schedulers, DAGs (next fire, paused), runs in flight, workers
  predictions get MODEL     look a row up (features… or --id ID) as a consumer would
  predictions rollback MODEL  point the model's predictions back to the previous version not marked bad
  predictions activate MODEL VERSION  serve a given complete version (--force for one marked bad)
  predictions versions MODEL  every version: rows, safety-gate verdict, bad marks, which is current
  db clean --older-than AGE remove ended runs older than AGE (--dag ID, --dry-run)

Run 'batuta <command> --help' for a command's options.`,
  'dags validate': `usage: batuta dags validate PATH… [--pools FILE] [--plugin FILE]…

Loads every DAG file (.yaml, .yml, .ts, .js) named, and every YAML file under each folder, and
checks it: schema, ids, upstreams, cycles, cron, resources, operators and their arguments.
Each problem is printed as file:line:column: CODE field: message. A bad file does not stop the others.

options:
  --pools FILE    also check that every task fits a pool of this pools file (NO_POOL_FITS)
  --plugin FILE   a module exporting register(registry) that adds operators (repeatable)
exit: 0 when all are valid, 1 when any is invalid, 2 on a usage error`,
  'dags test': `usage: batuta dags test FILE [--dag ID] [--conf JSON | --conf-file PATH] [--capacity SPEC] [--plugin FILE]…

Runs the whole DAG once in this process (embedded executor, in-memory state), showing each task's
state live, then prints a summary table (state, tries, duration) and the leaves' outputs.

options:
  --dag ID          which DAG, when the file defines several
  --conf JSON       run configuration, checked against the DAG's params (e.g. '{"sample": 0.5}')
  --conf-file PATH  the run configuration from a file ('-': stdin)
  --capacity SPEC   local resources, e.g. cpu=4,memoryMb=8192,gpu=1 (default: all cores, 80% of memory)
  --plugin FILE     a module exporting register(registry) that adds operators (repeatable)
exit: 0 when the run succeeded, 1 when it failed, 2 on a usage error`,
  'dags list': `usage: batuta dags list PATH… [--plugin FILE]…

Lists the DAGs found in the files and folders named: id, schedule, task count, file.`,
  demo: `usage: batuta demo [--predictions file:PATH]

Runs the iris batch-inference DAG (examples/iris-batch/dag.yaml) in this process: load the data and
the XGBoost model, check the model on a trusted set, score the rows in 4 mapped partitions, ingest the
predictions into Redis as a new version, and look one row up as a consumer would.
Redis: BATUTA_REDIS_URL (default redis://127.0.0.1:6379); when none answers and redis-server is
installed, a private one is started for the run.

options:
  --predictions file:PATH   write the predictions to a CSV file instead of Redis`,
  scheduler: `usage: batuta scheduler [--executor bullmq|local] [--pools FILE] [--autoscale] [connection]

The scheduler daemon. Loads the DAG folder and reloads changed files (a broken file keeps its last good
version and is reported), creates scheduled, event and dataset runs exactly once (several daemons may
share a Redis), starts queued runs within maxActiveRuns, drives tasks on the worker pools, and adopts
runs whose daemon died. One JSON line per event on stdout. SIGTERM or SIGINT stops it cleanly.

options:
  --executor bullmq|local   BullMQ worker pools (default), or run tasks in this process
  --pools FILE              the pools file (BATUTA_POOLS); default one pool 'default' sized to this machine
  --autoscale               start and stop 'batuta worker' processes on this machine to follow each
                            pool's backlog, within its minWorkers/maxWorkers
  --outage-grace DUR        how long a lost task is not declared lost while its worker is alive (a
                            Redis outage cost its lock; BATUTA_OUTAGE_GRACE, default 5m, as the workers')
  --shutdown-timeout DUR    longest stop after SIGTERM (e.g. 10s, the default); past it the process
                            logs shutdown_timeout and exits 1 (Redis unreachable)
${CONNECTION}`,
  worker: `usage: batuta worker --pool NAME [--capacity SPEC] [--pools FILE] [connection]

A worker of one pool: takes a task only while its free resources cover the task's declared needs.
SIGTERM finishes (or hands back) running tasks and exits.

options:
  --pool NAME       the pool (BullMQ queue) to serve
  --capacity SPEC   what this worker offers, e.g. cpu=4,memoryMb=8192,gpu=1 (default: the pool's capacity)
  --lock-duration D     how long a running task's lock lasts unrenewed (BATUTA_WORKER_LOCK_DURATION,
                        default 30s); a killed worker's tasks are reported lost after about
                        lock duration + stalled interval. Keep it above the longest event-loop stall
  --stalled-interval D  how often this worker looks for dead workers' tasks
                        (BATUTA_WORKER_STALLED_INTERVAL, default the lock duration)
  --outage-grace D      how long a task whose lock a Redis outage cost keeps running, its late report
                        still counting (BATUTA_OUTAGE_GRACE, default 5m; 0s turns it off). Give the
                        schedulers the same value
  --shutdown-timeout DUR  longest stop after SIGTERM once running tasks are done or handed back (default
                    10s); past it the worker logs shutdown_timeout and exits 1 (Redis unreachable)
${CONNECTION}`,
  'dags trigger': `usage: batuta dags trigger DAG [--conf JSON | --conf-file PATH] [--wait] [connection]

Queues a manual run of DAG (its conf checked against the DAG's params); a running scheduler starts it.
Prints the run id. With --wait, waits for the run to end; exit 1 when it failed.
A conf key the DAG does not declare is kept, with a warning. --conf-file reads the conf from a file
('-': stdin); a conf is at most maxConfBytes (256 KiB) and maxConfDepth (64) levels deep.
exit: 2 on a usage error (bad JSON, bad DAG id), 3 when the DAG is not in the folder
${CONNECTION}`,
  'dags pause': `usage: batuta dags pause DAG [connection]

Stops creating scheduled runs of DAG (runs in flight go on). Persisted in Redis.
exit: 3 when DAG is not in the folder
${CONNECTION}`,
  'dags unpause': `usage: batuta dags unpause DAG [connection]

Resumes a paused DAG. With catchup off, no burst of old runs: only the latest fire is created.
exit: 3 when DAG is not in the folder
${CONNECTION}`,
  'dags cancel': `usage: batuta dags cancel RUN [connection]

Cancels a run: queued attempts are dropped, running ones are aborted, the run fails.
${CONNECTION}`,
  'dags backfill': `usage: batuta dags backfill DAG --from DATE --to DATE [--reprocess none|failed|completed]
                           [--max-active-runs N] [--newest-first] [--dry-run] [connection]

Creates a run for every fire time of DAG's schedule in [--from, --to] (inclusive), at most N at once,
with a progress bar. --reprocess: none (default) skips dates that have a run; failed re-runs failed
dates; completed re-runs every date. --dry-run prints the plan.
${CONNECTION}`,
  'runs show': `usage: batuta runs show RUN [connection]

Prints the run and its task grid: state, tries, duration, worker, error.
${CONNECTION}`,
  'tasks clear': `usage: batuta tasks clear RUN TASK… [--downstream] [--upstream] [--only-failed] [--only-running]
                         [--dry-run] [--json] [--timeout DUR] [connection]

Airflow's tasks clear: each chosen task instance goes back to no state (a running one is stopped first)
and runs again in the same run, as its next try with its full retries; the run is running again and ends
by the usual rules. --downstream/--upstream add every task below/above; --only-failed keeps failed and
upstream_failed instances; a mapped task is cleared with all its map indexes and expands again.
The scheduler driving the run applies it (an ended run is taken up again by a live scheduler); this
command prints what changes and waits for that (--timeout, default 30s). --dry-run only prints.
exit: 3 when the run or a task is unknown, 1 when no scheduler applied it in time
${CONNECTION}`,
  'tasks mark': `usage: batuta tasks mark RUN TASK… success|failed|skipped [--downstream] [--upstream] [--dry-run]
                        [--json] [--timeout DUR] [connection]

Sets the state of task instances without running anything (a running attempt is stopped). With
--downstream/--upstream the tasks below/above get the same state; downstreams left out that have not
run yet are re-evaluated by their trigger rules (a failed mark makes them upstream_failed). The run's
state is worked out again. Marking success publishes no dataset update (nothing ran).
exit: 3 when the run or a task is unknown
${CONNECTION}`,
  'tasks test': `usage: batuta tasks test DAG TASK [--date D] [--conf JSON | --conf-file PATH] [--from-run RUN] [--json]
                        [connection]

Airflow's tasks test: runs one task alone in this process, ignoring its dependencies and recording
nothing. Its upstream outputs are read from RUN (--from-run, read only) or are null. Prints the output.
exit: 0 when the task succeeded, 1 when it failed, 3 when the DAG, task or run is unknown
${CONNECTION}`,
  'runs clear': `usage: batuta runs clear RUN [--only-failed] [--dry-run] [--json] [--timeout DUR] [connection]

Clears every task of a run (or, with --only-failed, its failed and upstream_failed ones): they run again
in the same run, as with 'tasks clear'.
${CONNECTION}`,
  'runs list': `usage: batuta runs list [--dag ID] [--state running,queued] [--limit N] [connection]

Lists recent runs, newest first. --state takes queued, running, success, failed (comma-separated);
--limit a whole number ≥ 1 (default 50).
${CONNECTION}`,
  'events publish': `usage: batuta events publish NAME [--payload JSON | --conf-file PATH] [connection]

Publishes an event; every DAG scheduled on it ('schedule: { events: [NAME] }') runs once with the
payload as its conf. A payload that breaks the DAG's params is rejected and recorded as a failed run.
NAME uses letters, digits, '_', '.' and '-' (no '..'). --conf-file reads the payload from a file ('-':
stdin). Keys __proto__, constructor and prototype, more than 64 levels or 256 KiB are usage errors.
${CONNECTION}`,
  status: `usage: batuta status [connection]

Schedulers, DAGs of the folder (schedule, next fire, paused), runs in flight and workers per pool.
${CONNECTION}`,
  'predictions get': `usage: batuta predictions get MODEL FEATURE… | --id ID [connection]

Looks a prediction up exactly as a consumer would (same key scheme as the ingest, the current version),
in the namespace of --namespace / BATUTA_NAMESPACE. Features are numbers; Python's nan, inf and -inf
are accepted (put '--' before the features when the first is negative).
${CONNECTION}`,
  'db clean': `usage: batuta db clean --older-than AGE [--dag ID] [--dry-run] [connection]

Removes ended runs (success, failed) older than AGE (e.g. 30d), each with its task instances, outputs
and leases, in batches; queued and running runs are never removed. Prints each run removed and a total;
--dry-run prints what would be removed and removes nothing. The scheduler does the same in the
background when retention.runs (BATUTA_RETENTION_RUNS) is set.
${CONNECTION}`,
  'predictions rollback': `usage: batuta predictions rollback MODEL [connection]

Points MODEL's current predictions back to the newest earlier complete version that is not marked bad,
and marks the version it leaves bad (so a later rollback never lands on it). Prints what it lands on.
${CONNECTION}`,
  'predictions activate': `usage: batuta predictions activate MODEL VERSION [--force] [connection]

Points MODEL's current predictions at a complete VERSION (see 'predictions versions'). A version marked
bad is refused unless --force, which also clears its mark.
${CONNECTION}`,
  'predictions versions': `usage: batuta predictions versions MODEL [connection]

Lists MODEL's versions, oldest first: current (*), status, rows, commit time, the ingest safety gate's
verdict (passed, or FORCED and why) and bad marks.
${CONNECTION}`,
};

/** `--shutdown-timeout DUR` as the daemons' option; nothing when not given (they use their default). */
function shutdownTimeout(text: string | undefined): { shutdownTimeoutMs?: number } {
  if (text === undefined) return {};
  try {
    return { shutdownTimeoutMs: parseDuration(text) };
  } catch (error) {
    throw new UsageError(`--shutdown-timeout: ${(error as Error).message}`);
  }
}

const TWO_WORD = new Set(['dags', 'runs', 'events', 'predictions', 'db', 'tasks']);

/** `--timeout DUR` of the repair commands, in ms; nothing when not given. */
function repairTimeout(text: string | undefined): { timeoutMs?: number } {
  if (text === undefined) return {};
  try {
    return { timeoutMs: parseDuration(text) };
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

/** Entry point of the `batuta` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [group, verb] = argv;
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    console.log(HELP.main);
    return 0;
  }
  const twoWord = TWO_WORD.has(group);
  const command = twoWord ? `${group} ${verb ?? ''}` : group;
  const rest = argv.slice(twoWord ? 2 : 1);
  if (!HELP[command]) {
    console.error(`batuta: unknown command '${command.trim()}'\n\n${HELP.main}`);
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
        'conf-file': { type: 'string' },
        capacity: { type: 'string' },
        predictions: { type: 'string' },
        redis: { type: 'string' },
        namespace: { type: 'string' },
        dags: { type: 'string' },
        config: { type: 'string' },
        pools: { type: 'string' },
        executor: { type: 'string' },
        pool: { type: 'string' },
        wait: { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        reprocess: { type: 'string' },
        'max-active-runs': { type: 'string' },
        'newest-first': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        state: { type: 'string' },
        limit: { type: 'string' },
        payload: { type: 'string' },
        id: { type: 'string' },
        autoscale: { type: 'boolean' },
        'older-than': { type: 'string' },
        force: { type: 'boolean' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        'outage-grace': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        downstream: { type: 'boolean' },
        upstream: { type: 'boolean' },
        'only-failed': { type: 'boolean' },
        'only-running': { type: 'boolean' },
        json: { type: 'boolean' },
        date: { type: 'string' },
        'from-run': { type: 'string' },
        timeout: { type: 'string' },
      },
    });
    if (values.help) {
      console.log(HELP[command]);
      return 0;
    }
    const operators = await loadOperators(values.plugin ?? []);
    const config = () => loadConfig(values);
    const one = (what: string): string => {
      const [value, ...extra] = positionals;
      if (!value || extra.length > 0) throw new UsageError(`${command} needs exactly one ${what}`);
      return value;
    };
    switch (command) {
      case 'dags validate':
        if (positionals.length === 0) throw new UsageError('dags validate needs at least one PATH');
        return await dagsValidate(
          positionals,
          operators,
          values.pools ? placementCheck((await loadPoolsFile(values.pools)).pools) : undefined,
        );
      case 'dags list':
        if (positionals.length === 0) throw new UsageError('dags list needs at least one PATH');
        return await dagsList(positionals, operators);
      case 'demo':
        return await demoCommand({ operators, ...(values.predictions ? { predictions: values.predictions } : {}) });
      case 'dags test':
        return await dagsTest({
          file: one('FILE'),
          operators,
          ...(values.dag ? { dagId: values.dag } : {}),
          ...(values.conf !== undefined ? { conf: values.conf } : {}),
          ...(values['conf-file'] !== undefined ? { confFile: values['conf-file'] } : {}),
          ...(values.capacity ? { capacity: values.capacity } : {}),
        });
      case 'scheduler':
        return await schedulerCommand(config(), operators, {
          autoscale: values.autoscale ?? false,
          ...shutdownTimeout(values['shutdown-timeout']),
          outageGraceMs: outageGraceOf(values['outage-grace'], process.env),
        });
      case 'worker':
        if (!values.pool) throw new UsageError('worker needs --pool NAME');
        return await workerMain(config(), operators, {
          pool: values.pool,
          ...(values.capacity ? { capacity: values.capacity } : {}),
          stallDetection: stallDetectionOf(values, process.env),
          ...shutdownTimeout(values['shutdown-timeout']),
        });
      case 'dags trigger':
        return await dagsTrigger(config(), operators, one('DAG'), {
          ...(values.conf !== undefined ? { conf: values.conf } : {}),
          ...(values['conf-file'] !== undefined ? { confFile: values['conf-file'] } : {}),
          wait: values.wait ?? false,
        });
      case 'dags pause':
        return await dagsPause(config(), operators, one('DAG'), true);
      case 'dags unpause':
        return await dagsPause(config(), operators, one('DAG'), false);
      case 'dags cancel':
        return await dagsCancel(config(), one('RUN'));
      case 'dags backfill':
        if (!values.from || !values.to) throw new UsageError('dags backfill needs --from and --to');
        return await dagsBackfill(config(), operators, one('DAG'), {
          from: values.from,
          to: values.to,
          ...(values.reprocess ? { reprocess: values.reprocess } : {}),
          ...(values['max-active-runs'] ? { maxActiveRuns: values['max-active-runs'] } : {}),
          newestFirst: values['newest-first'] ?? false,
          dryRun: values['dry-run'] ?? false,
        });
      case 'runs show':
        return await runsShow(config(), one('RUN'));
      case 'runs list':
        return await runsList(config(), {
          ...(values.dag !== undefined ? { dag: values.dag } : {}),
          ...(values.state !== undefined ? { state: values.state } : {}),
          ...(values.limit !== undefined ? { limit: values.limit } : {}),
        });
      case 'events publish':
        return await eventsPublish(config(), one('NAME'), {
          ...(values.payload !== undefined ? { text: values.payload } : {}),
          ...(values['conf-file'] !== undefined ? { file: values['conf-file'] } : {}),
        });
      case 'status':
        return await statusCommand(config(), operators);
      case 'predictions get': {
        const [model, ...features] = positionals;
        if (!model) throw new UsageError('predictions get needs MODEL');
        return await predictionsGet(config(), model, features, values.id);
      }
      case 'predictions rollback':
        return await predictionsRollback(config(), one('MODEL'));
      case 'db clean':
        if (!values['older-than']) throw new UsageError('db clean needs --older-than AGE, e.g. --older-than 30d');
        if (positionals.length > 0) throw new UsageError(`db clean takes no arguments, got '${positionals[0]}'`);
        return await dbClean(config(), {
          olderThan: values['older-than'],
          ...(values.dag ? { dag: values.dag } : {}),
          dryRun: values['dry-run'] ?? false,
        });
      case 'predictions activate': {
        const [model, version, ...extra] = positionals;
        if (!model || !version || extra.length > 0) throw new UsageError('predictions activate needs MODEL VERSION');
        return await predictionsActivate(config(), model, version, values.force ?? false);
      }
      case 'tasks clear': {
        const [runId, ...taskIds] = positionals;
        if (!runId || taskIds.length === 0) throw new UsageError('tasks clear needs RUN and at least one TASK');
        return await tasksClear(config(), operators, runId, taskIds, {
          downstream: values.downstream ?? false,
          upstream: values.upstream ?? false,
          onlyFailed: values['only-failed'] ?? false,
          onlyRunning: values['only-running'] ?? false,
          dryRun: values['dry-run'] ?? false,
          json: values.json ?? false,
          ...repairTimeout(values.timeout),
        });
      }
      case 'tasks mark': {
        const [runId, ...rest] = positionals;
        const state = rest.pop();
        if (!runId || !state || rest.length === 0) throw new UsageError('tasks mark needs RUN TASK… STATE');
        return await tasksMark(config(), operators, runId, rest, state, {
          downstream: values.downstream ?? false,
          upstream: values.upstream ?? false,
          dryRun: values['dry-run'] ?? false,
          json: values.json ?? false,
          ...repairTimeout(values.timeout),
        });
      }
      case 'tasks test': {
        const [dagId, taskId, ...extra] = positionals;
        if (!dagId || !taskId || extra.length > 0) throw new UsageError('tasks test needs DAG TASK');
        return await tasksTest(config(), operators, dagId, taskId, {
          ...(values.date !== undefined ? { date: values.date } : {}),
          ...(values.conf !== undefined ? { conf: values.conf } : {}),
          ...(values['conf-file'] !== undefined ? { confFile: values['conf-file'] } : {}),
          ...(values['from-run'] !== undefined ? { fromRun: values['from-run'] } : {}),
          json: values.json ?? false,
        });
      }
      case 'runs clear':
        return await runsClear(config(), operators, one('RUN'), {
          onlyFailed: values['only-failed'] ?? false,
          dryRun: values['dry-run'] ?? false,
          json: values.json ?? false,
          ...repairTimeout(values.timeout),
        });
      case 'predictions versions':
        return await predictionsVersions(config(), one('MODEL'));
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError || isNodeParseArgsError(error)) {
      console.error(
        `batuta ${command}: ${redactCredentials((error as Error).message)}\nRun 'batuta ${command} --help' for usage.`,
      );
      return 2;
    }
    if (error instanceof NotFoundError) {
      console.error(`batuta ${command}: ${error.message}`);
      return 3;
    }
    if (error instanceof DagValidationError) {
      console.error(error.message);
      return 1;
    }
    // Every Batuta error (any package) and Node's system errors (ENOENT, ECONNREFUSED…) are the user's to fix.
    if (isBatutaError(error) || isNodeSystemError(error)) {
      console.error(`batuta ${command}: ${redactCredentials((error as Error).message)}`);
      return 1;
    }
    throw error;
  }
}

/** Node's parseArgs refusing an option or a positional (codes ERR_PARSE_ARGS_*). */
function isNodeParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
}

/** An error Node raised for a file or a connection (it carries a string `code` such as ENOENT). */
function isNodeSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
