// `batuta worker --pool NAME`: one worker of a pool. Loads the DAGs its tasks come from, takes jobs from
// the pool's queue while its free resources cover them, and on SIGTERM/SIGINT finishes (or, past the
// drain deadline, hands back) what it runs and exits 0. A second signal stops waiting.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatResources, loadPoolsFile, parseCapacity, ResourceWorker, type SlotPool } from '@batuta/orchestrator';
import {
  createTaskInvoker,
  type DagSpec,
  DagValidationError,
  formatDagIssue,
  loadDagDirectory,
  loadDagsFromFile,
  type OperatorRegistry,
  type ResourceSpec,
  type StateStore,
} from '@batuta/scheduler';
import { UsageError } from '../cli-error.js';

/** What `batuta worker` needs; `createStore` gives the store task bodies read their inputs from. */
export interface WorkerCommandOptions {
  /** The pool (queue) this worker serves. */
  pool: string;
  /** `cpu=4,memoryMb=8192,gpu=1`; default: the pool's capacity in `poolsFile`. */
  capacity?: string;
  /** The pools file: the pool's per-worker capacity and the slot pools. */
  poolsFile?: string;
  redisUrl: string;
  namespace: string;
  /** The folder of DAG files (YAML, and TypeScript/JavaScript modules) whose tasks this worker runs. */
  dagsDir: string;
  operators: OperatorRegistry;
  /** Opens the StateStore (in distributed mode the RedisStateStore); closed when the worker stops. */
  createStore: (options: { redisUrl: string; namespace: string }) => StateStore | Promise<StateStore>;
  /** Reported with each attempt; default `<host>:<pid>:<pool>`. */
  name?: string;
  /** How long a stopping worker lets running tasks finish before handing them back (default 60 s). */
  drainDeadlineMs?: number;
  /** Lock duration of a running job (default 30 s): how soon a dead worker's jobs are reported lost. */
  lockDurationMs?: number;
  /** Stops the worker as SIGTERM does (for embedding and tests). */
  signal?: AbortSignal;
  /** Progress lines (default console.log) and problems (default console.error). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const MODULE_FILE = /\.(?:ts|mts|js|mjs)$/i;

/** Runs a worker until SIGTERM/SIGINT (or `signal`); resolves with the exit code (0 after a clean stop). */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  const out = options.out ?? ((line: string) => console.log(line));
  const err = options.err ?? ((line: string) => console.error(line));
  const { capacity, slotPools } = await resolveCapacity(options);
  const dags = await loadDags(options.dagsDir, options.operators, err);
  if (dags.size === 0) err(`warning: no DAGs under ${options.dagsDir}; every job this worker takes will fail`);
  const store = await options.createStore({ redisUrl: options.redisUrl, namespace: options.namespace });
  const invoke = createTaskInvoker({ resolveDag: (dagId) => dags.get(dagId), store, operators: options.operators });
  const worker = new ResourceWorker({
    redisUrl: options.redisUrl,
    namespace: options.namespace,
    pool: options.pool,
    capacity,
    slotPools,
    invoke,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
    onEvent: (event) => {
      if (event.type === 'error')
        err(`worker: ${event.error instanceof Error ? event.error.message : String(event.error)}`);
      if (event.type === 'lockLost')
        err(`worker: lost the lock of task '${event.job.taskId}' of run '${event.job.runId}'`);
    },
  });

  let signals = 0;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const drainDeadlineMs = options.drainDeadlineMs ?? 60_000;
  const onSignal = (name: string) => {
    signals++;
    if (signals === 1) {
      out(`${name}: finishing running tasks (at most ${Math.round(drainDeadlineMs / 1000)} s), then exiting`);
      stop();
    } else {
      out(`${name} again: handing running tasks back to the queue`);
      void worker.close({ drain: false });
    }
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  options.signal?.addEventListener('abort', () => onSignal('stop requested'), { once: true });
  try {
    await worker.start();
    out(
      `worker ${worker.name} serving pool '${options.pool}' with ${formatResources(capacity)} ` +
        `(namespace ${options.namespace}, ${dags.size} DAGs)`,
    );
    if (!options.signal?.aborted) await stopped;
    await worker.close({ drain: true, deadlineMs: drainDeadlineMs });
    out('worker stopped');
    return 0;
  } catch (error) {
    await worker.close({ drain: false }).catch(() => {});
    throw error;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await store.close();
  }
}

/** `--capacity` wins; else the pool's capacity in the pools file; slot pools come from the pools file. */
async function resolveCapacity(
  options: WorkerCommandOptions,
): Promise<{ capacity: ResourceSpec; slotPools: SlotPool[] }> {
  const config = options.poolsFile ? await loadPoolsFile(options.poolsFile) : undefined;
  const declared = config?.pools.find((pool) => pool.name === options.pool);
  if (config && !declared) {
    throw new UsageError(
      `pool '${options.pool}' is not in ${options.poolsFile} (pools: ${config.pools.map((pool) => pool.name).join(', ')})`,
    );
  }
  const capacity = options.capacity ? parseCapacity(options.capacity) : declared?.capacity;
  if (!capacity) {
    throw new UsageError(`give the worker's capacity with --capacity (e.g. cpu=4,memoryMb=8192) or a pools file`);
  }
  return { capacity, slotPools: config?.slotPools ?? [] };
}

/** Every DAG under `dir`: YAML files and TS/JS modules; a file that fails to load is reported and skipped. */
async function loadDags(
  dir: string,
  operators: OperatorRegistry,
  err: (line: string) => void,
): Promise<Map<string, DagSpec>> {
  const dags = new Map<string, DagSpec>();
  const report = (file: string, error: unknown) => {
    if (error instanceof DagValidationError) {
      for (const issue of error.issues)
        err(issue.location ? formatDagIssue(issue) : `${file}: ${formatDagIssue(issue)}`);
    } else err(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  };
  const add = (file: string, dag: DagSpec) => {
    const earlier = dags.get(dag.id);
    if (earlier)
      report(file, new Error(`DAG id '${dag.id}' is also defined in ${earlier.sourceFile ?? 'another file'}`));
    else dags.set(dag.id, dag);
  };
  const yaml = await loadDagDirectory(dir, { operators });
  for (const dag of yaml.dags) add(dag.sourceFile ?? dir, dag);
  for (const failure of yaml.errors) report(failure.file, failure.error);
  for (const file of await moduleFiles(dir)) {
    try {
      for (const dag of await loadDagsFromFile(file, { operators })) add(file, dag);
    } catch (error) {
      // A helper module beside the DAGs is not an error.
      if ((error as { code?: unknown }).code !== 'NO_DAG_EXPORTED') report(file, error);
    }
  }
  return dags;
}

/** TS/JS files under `dir` (recursively; dot folders and node_modules skipped), sorted. */
async function moduleFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && entry.name !== 'node_modules') pending.push(path);
      } else if (entry.isFile() && MODULE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        found.push(path);
      }
    }
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
