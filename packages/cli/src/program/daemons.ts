// The long-running processes and the one-machine demo: `batuta scheduler`, `batuta worker`, `batuta demo`.
import { parseDuration } from '@batuta/scheduler';
import { type Command, Option } from 'commander';
import { UsageError } from '../cli-error.js';
import { demoCommand } from '../commands/demo.js';
import { schedulerCommand } from '../commands/scheduler.js';
import { workerMain } from '../commands/worker-main.js';
import { outageGraceOf, stallDetectionOf } from '../commands/worker-stall-detection.js';
import {
  action,
  type ConnectionOptions,
  configOf,
  operatorsOf,
  type RunState,
  withConnection,
  withPlugins,
} from './shared.js';

/** `--shutdown-timeout DUR` as the daemons' option; nothing when not given (they use their default). */
function shutdownTimeout(text: string | undefined): { shutdownTimeoutMs?: number } {
  if (text === undefined) return {};
  try {
    return { shutdownTimeoutMs: parseDuration(text) };
  } catch (error) {
    throw new UsageError(`--shutdown-timeout: ${(error as Error).message}`);
  }
}

interface DaemonOptions extends ConnectionOptions {
  plugin?: string[];
  pools?: string;
  outageGrace?: string;
  shutdownTimeout?: string;
}

/** Registers `scheduler`, `worker` and `demo` on the program. */
export function registerDaemons(program: Command, state: RunState): void {
  withConnection(
    withPlugins(
      program
        .command('scheduler')
        .summary('the scheduler daemon: triggers → runs → tasks on worker pools')
        .description(
          `The scheduler daemon. Loads the DAG folder and reloads changed files (a broken file keeps its last good
version and is reported), creates scheduled, event and dataset runs exactly once (several daemons may
share a Redis), starts queued runs within maxActiveRuns, drives tasks on the worker pools, and adopts
runs whose daemon died. One JSON line per event on stdout. SIGTERM or SIGINT stops it cleanly.`,
        )
        .addOption(
          new Option('--executor <kind>', 'BullMQ worker pools (default), or run tasks in this process').choices([
            'bullmq',
            'local',
          ]),
        )
        .option('--pools <file>', "the pools file (BATUTA_POOLS); default one pool 'default' sized to this machine")
        .option(
          '--autoscale',
          "start and stop 'batuta worker' processes on this machine to follow each pool's backlog, within its minWorkers/maxWorkers",
        )
        .option(
          '--outage-grace <duration>',
          "how long a lost task is not declared lost while its worker is alive (BATUTA_OUTAGE_GRACE, default 5m, as the workers')",
        )
        .option(
          '--shutdown-timeout <duration>',
          'longest stop after SIGTERM (default 10s); past it the process logs shutdown_timeout and exits 1',
        )
        .option(
          '--paused-on-creation <true|false>',
          'store a DAG no scheduler has seen yet paused (BATUTA_PAUSED_ON_CREATION, config pausedOnCreation; default false)',
        ),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 0 after a clean stop, 1 when the stop ran out of time, 2 on a usage error, 4 when Redis is unreachable.',
    )
    .action(
      action(
        state,
        async (options: DaemonOptions & { executor?: string; autoscale?: boolean; pausedOnCreation?: string }) =>
          schedulerCommand(
            configOf({ ...options, 'paused-on-creation': options.pausedOnCreation }),
            await operatorsOf(options),
            {
              autoscale: options.autoscale ?? false,
              ...shutdownTimeout(options.shutdownTimeout),
              outageGraceMs: outageGraceOf(options.outageGrace, process.env),
            },
          ),
      ),
    );

  withConnection(
    withPlugins(
      program
        .command('worker')
        .summary('a worker process that runs tasks of one pool within its capacity')
        .description(
          `A worker of one pool: takes a task only while its free resources cover the task's declared needs.
SIGTERM finishes (or hands back) running tasks and exits.`,
        )
        .requiredOption('--pool <name>', 'the pool (BullMQ queue) to serve')
        .option(
          '--capacity <spec>',
          "what this worker offers, e.g. cpu=4,memoryMb=8192,gpu=1 (default: the pool's capacity)",
        )
        .option('--pools <file>', 'the pools file (BATUTA_POOLS)')
        .option(
          '--lock-duration <duration>',
          "how long a running task's lock lasts unrenewed (BATUTA_WORKER_LOCK_DURATION, default 30s); keep it above the longest event-loop stall",
        )
        .option(
          '--stalled-interval <duration>',
          "how often this worker looks for dead workers' tasks (BATUTA_WORKER_STALLED_INTERVAL, default the lock duration)",
        )
        .option(
          '--outage-grace <duration>',
          'how long a task whose lock a Redis outage cost keeps running (BATUTA_OUTAGE_GRACE, default 5m; 0s turns it off)',
        )
        .option(
          '--shutdown-timeout <duration>',
          'longest stop after SIGTERM once running tasks are done or handed back (default 10s)',
        ),
    ),
  )
    .addHelpText(
      'after',
      '\nExit: 0 after a clean stop, 1 when the stop ran out of time, 2 on a usage error, 4 when Redis is unreachable.',
    )
    .action(
      action(
        state,
        async (
          options: DaemonOptions & { pool: string; capacity?: string; lockDuration?: string; stalledInterval?: string },
        ) =>
          workerMain(configOf(options), await operatorsOf(options), {
            pool: options.pool,
            ...(options.capacity ? { capacity: options.capacity } : {}),
            stallDetection: stallDetectionOf(
              {
                'lock-duration': options.lockDuration,
                'stalled-interval': options.stalledInterval,
                'outage-grace': options.outageGrace,
              },
              process.env,
            ),
            ...shutdownTimeout(options.shutdownTimeout),
          }),
      ),
    );

  withPlugins(
    program
      .command('demo')
      .summary('the main job: the iris batch DAG, predictions into Redis, one lookup')
      .description(
        `Runs the iris batch-inference DAG (examples/iris-batch/dag.yaml) in this process: load the data and
the XGBoost model, check the model on a trusted set, score the rows in 4 mapped partitions, ingest the
predictions into Redis as a new version, and look one row up as a consumer would.
Redis: BATUTA_REDIS_URL (default redis://127.0.0.1:6379); when none answers and redis-server is
installed, a private one is started for the run.`,
      )
      .option('--predictions <target>', 'file:PATH writes the predictions to a CSV file instead of Redis'),
  ).action(
    action(state, async (options: { plugin?: string[]; predictions?: string }) =>
      demoCommand({
        operators: await operatorsOf(options),
        ...(options.predictions ? { predictions: options.predictions } : {}),
      }),
    ),
  );
}
