// Repairing a run the Airflow way from the command line: `batuta tasks clear`, `batuta runs clear`,
// `batuta tasks mark` and `batuta tasks test`. Clear and mark are planned here (the same pure planner the
// scheduler uses) so the user sees what changes, then sent through the control stream: the scheduler
// holding the run's lease applies them, and acknowledges; this command waits for that acknowledgement.
import {
  createTaskInvoker,
  type DagSpec,
  isBatutaError,
  type MarkState,
  MemoryStateStore,
  type OperatorRegistry,
  parseDateTime,
  REPAIR_TIMEOUT_MS,
  type RepairRequest,
  type RepairRequestResult,
  requestRepair,
  resolveParams,
} from '@batuta/scheduler';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { readJsonObject } from '../json-input.js';
import { findDag, openStore } from '../store.js';
import { testInstance } from './mapped-instance.js';
import { confLimits, warnUnknownConfKeys } from './runs.js';

/** Options shared by clear and mark. */
export interface RepairCommandOptions {
  /** Also every task below the named ones. */
  downstream?: boolean;
  /** Also every task above the named ones. */
  upstream?: boolean;
  /** Print what would change and change nothing. */
  dryRun?: boolean;
  /** Print one JSON object instead of text. */
  json?: boolean;
  /** How long to wait for a scheduler to apply the request (default 30 s). */
  timeoutMs?: number;
}

/** `batuta tasks clear` options (Airflow's `tasks clear`). */
export interface TasksClearOptions extends RepairCommandOptions {
  /** Only failed and upstream_failed instances. */
  onlyFailed?: boolean;
  /** Only instances whose attempt is out (scheduled, queued, running). */
  onlyRunning?: boolean;
}

/** `batuta runs clear` options. */
export interface RunsClearOptions {
  onlyFailed?: boolean;
  dryRun?: boolean;
  json?: boolean;
  timeoutMs?: number;
}

/** `batuta tasks test` options (Airflow's `tasks test`). */
export interface TasksTestOptions {
  /** The logical date the task sees (ISO 8601); default now. */
  date?: string;
  /** The run's conf, checked against the DAG's params. */
  conf?: string;
  confFile?: string;
  /** Take the upstream outputs from this run; without it they are null (stubbed). */
  fromRun?: string;
  /** The instance of a mapped task to run (required for one, refused for an unmapped task). */
  mapIndex?: number;
  json?: boolean;
}

/** What `tasks clear|mark` and `runs clear` print with --json. */
export interface RepairReport {
  runId: string;
  dagId: string;
  action: RepairRequest['action'];
  dryRun: boolean;
  applied: boolean;
  /** The scheduler that applied it. */
  appliedBy?: string;
  tasks: string[];
  changes: Array<{ taskId: string; mapIndex: number; from: string; to: string; tryNumber: number }>;
}

const DEFAULT_TIMEOUT_MS = REPAIR_TIMEOUT_MS;

/** `batuta tasks clear RUN TASK… [--downstream] [--upstream] [--only-failed] [--only-running] [--dry-run]`. */
export function tasksClear(
  config: CliConfig,
  operators: OperatorRegistry,
  runId: string,
  taskIds: readonly string[],
  options: TasksClearOptions = {},
): Promise<number> {
  if (taskIds.length === 0) throw new UsageError('tasks clear needs RUN and at least one TASK');
  const request: RepairRequest = {
    action: 'clear',
    taskIds,
    ...(options.downstream ? { downstream: true } : {}),
    ...(options.upstream ? { upstream: true } : {}),
    ...(options.onlyFailed ? { onlyFailed: true } : {}),
    ...(options.onlyRunning ? { onlyRunning: true } : {}),
  };
  return repair(config, operators, runId, () => request, options);
}

/** `batuta runs clear RUN [--only-failed] [--dry-run]`: every task of the run (or only the failed ones). */
export function runsClear(
  config: CliConfig,
  operators: OperatorRegistry,
  runId: string,
  options: RunsClearOptions = {},
): Promise<number> {
  return repair(
    config,
    operators,
    runId,
    (dag) => ({
      action: 'clear',
      taskIds: dag.tasks.map((task) => task.id),
      ...(options.onlyFailed ? { onlyFailed: true } : {}),
    }),
    options,
  );
}

const MARK_STATES: readonly MarkState[] = ['success', 'failed', 'skipped'];

/** `batuta tasks mark` options: the repair options and the instances of mapped tasks to mark. */
export interface TasksMarkOptions extends RepairCommandOptions {
  /** Only these instances of the named mapped tasks. */
  mapIndexes?: number[];
}

/** `batuta tasks mark RUN TASK… success|failed|skipped [--map-index I,J] [--downstream] [--upstream] [--dry-run]`. */
export function tasksMark(
  config: CliConfig,
  operators: OperatorRegistry,
  runId: string,
  taskIds: readonly string[],
  state: string,
  options: TasksMarkOptions = {},
): Promise<number> {
  if (!MARK_STATES.includes(state as MarkState)) {
    throw new UsageError(`state must be one of ${MARK_STATES.join(', ')}, got '${state}'`);
  }
  if (taskIds.length === 0) throw new UsageError('tasks mark needs RUN, at least one TASK and a state');
  const { mapIndexes } = options;
  const request: RepairRequest = {
    action: 'mark',
    taskIds,
    state: state as MarkState,
    ...(mapIndexes === undefined ? {} : { mapIndexes }),
    ...(options.downstream ? { downstream: true } : {}),
    ...(options.upstream ? { upstream: true } : {}),
  };
  return repair(
    config,
    operators,
    runId,
    (dag) => {
      // Whether a task is mapped is in the DAG; which map indexes it has is in the run (the planner checks).
      const unmapped = taskIds.filter((id) => dag.tasks.some((task) => task.id === id && !task.map));
      if (mapIndexes !== undefined && unmapped.length > 0) {
        throw new UsageError(`--map-index: ${unmapped.map((id) => `'${id}'`).join(', ')} is not a mapped task`);
      }
      return request;
    },
    options,
  );
}

async function repair(
  config: CliConfig,
  operators: OperatorRegistry,
  runId: string,
  requestFor: (dag: DagSpec) => RepairRequest,
  options: { dryRun?: boolean; json?: boolean; timeoutMs?: number },
): Promise<number> {
  const store = await openStore(config);
  try {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`no run '${runId}' in namespace '${config.namespace}'`);
    const dag = await findDag(config, operators, run.dagId);
    const request = requestFor(dag);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let result: RepairRequestResult;
    try {
      result = await requestRepair(store, dag, runId, request, { dryRun: options.dryRun ?? false, timeoutMs });
    } catch (error) {
      if (isBatutaError(error, 'UNKNOWN_TASK') || isBatutaError(error, 'UNKNOWN_MAP_INDEX')) {
        throw new NotFoundError(error.message);
      }
      throw error;
    }
    const { plan, done } = result;
    const report: RepairReport = {
      runId,
      dagId: dag.id,
      action: request.action,
      dryRun: options.dryRun ?? false,
      applied: false,
      tasks: plan.taskIds,
      changes: plan.changes.map(({ taskId, mapIndex, from, to, tryNumber }) => ({
        taskId,
        mapIndex,
        from,
        to,
        tryNumber,
      })),
    };
    if (result.status === 'dry-run' || result.status === 'nothing-to-change') {
      print(report, options.json ?? false, options.dryRun ? 'would change' : 'nothing to change');
      return 0;
    }
    if (!done) {
      print(report, options.json ?? false, 'requested');
      console.error(
        `batuta: no scheduler applied the ${request.action} of run ${runId} within ${Math.round(timeoutMs / 1000)} s; ` +
          'is a scheduler running on this namespace? The request stays in the control stream for 10 minutes',
      );
      return 1;
    }
    if (done.error) {
      if (['UNKNOWN_TASK', 'UNKNOWN_RUN', 'UNKNOWN_MAP_INDEX'].includes(done.error.code)) {
        throw new NotFoundError(done.error.message);
      }
      console.error(`batuta: scheduler ${done.schedulerId} refused the request: ${done.error.message}`);
      return 1;
    }
    report.applied = done.applied;
    report.appliedBy = done.schedulerId;
    print(report, options.json ?? false, done.applied ? 'changed' : 'nothing to change');
    return 0;
  } finally {
    await store.close();
  }
}

function print(report: RepairReport, json: boolean, verb: string): void {
  if (json) {
    console.log(JSON.stringify(report));
    return;
  }
  const by = report.appliedBy ? ` (applied by ${report.appliedBy})` : '';
  console.log(`run ${report.runId}: ${report.action}, ${report.changes.length} instances ${verb}${by}`);
  for (const change of report.changes) {
    const index = change.mapIndex === -1 ? '' : `[${change.mapIndex}]`;
    const tries = change.tryNumber > 0 ? ` (tries so far: ${change.tryNumber})` : '';
    console.log(`  ${change.taskId}${index}: ${change.from} → ${change.to}${tries}`);
  }
}

/**
 * `batuta tasks test DAG TASK [--date D] [--conf JSON] [--from-run RUN] [--map-index I]`: runs one task
 * alone in this process, ignoring its dependencies and recording nothing (Airflow's `tasks test`). Its
 * upstream outputs come from RUN when given (read only), else are null; a mapped task is expanded over
 * them and instance I runs. Prints the task's output; exit 1 when it throws.
 */
export async function tasksTest(
  config: CliConfig,
  operators: OperatorRegistry,
  dagId: string,
  taskId: string,
  options: TasksTestOptions = {},
): Promise<number> {
  const dag = await findDag(config, operators, dagId);
  const task = dag.tasks.find((t) => t.id === taskId);
  if (!task) {
    throw new NotFoundError(
      `DAG '${dagId}' has no task '${taskId}' (its tasks: ${dag.tasks.map((t) => t.id).join(', ')})`,
    );
  }
  let logicalDateMs = Date.now();
  if (options.date !== undefined) {
    const parsed = parseDateTime(options.date);
    if (parsed === undefined) throw new UsageError(`--date '${options.date}' is not an ISO 8601 date or date-time`);
    logicalDateMs = parsed;
  }
  const given = await readJsonObject({
    text: options.conf,
    file: options.confFile,
    flag: '--conf',
    limits: confLimits(config),
  });
  warnUnknownConfKeys(dag, given, '--conf');
  const conf = resolveParams(dag.params, given);
  const upstreamOutputs = new Map<string, unknown>();
  if (options.fromRun !== undefined) {
    const store = await openStore(config);
    try {
      const source = await store.getRun(options.fromRun);
      if (!source) throw new NotFoundError(`no run '${options.fromRun}' in namespace '${config.namespace}'`);
      if (source.dagId !== dagId) {
        throw new UsageError(`--from-run ${options.fromRun} is a run of DAG '${source.dagId}', not '${dagId}'`);
      }
      const outputs = await store.getOutputs(
        options.fromRun,
        task.upstream.map((id) => ({ taskId: id, mapIndex: -1 })),
      );
      for (const id of task.upstream) upstreamOutputs.set(id, outputs.get(`${id}#-1`) ?? null);
    } finally {
      await store.close();
    }
  } else {
    for (const id of task.upstream) upstreamOutputs.set(id, null);
  }
  // A mapped task is expanded over those outputs as the engine expands it; one instance runs.
  const instance = testInstance(task, options.mapIndex, (id) => upstreamOutputs.get(id) ?? null, options.fromRun);
  const label = instance.mapIndex === -1 ? taskId : `${taskId}[${instance.mapIndex}]`;
  const at = instance.mapIndex === -1 ? {} : { mapIndex: instance.mapIndex };
  // A scratch store holds the test run: nothing is recorded in the real one.
  const scratch = new MemoryStateStore();
  const runId = `test__${new Date(logicalDateMs).toISOString()}__${dagId}`;
  await scratch.createRun({
    runId,
    dagId,
    kind: 'test',
    state: 'running',
    logicalDateMs,
    conf,
    createdMs: logicalDateMs,
  });
  await scratch.applyTransition(runId, {
    outputs: [...upstreamOutputs].map(([id, value]) => ({ taskId: id, mapIndex: -1, value })),
  });
  const invoke = createTaskInvoker({ resolveDag: (id) => (id === dagId ? dag : undefined), store: scratch, operators });
  const job = {
    dagId,
    runId,
    taskId,
    mapIndex: instance.mapIndex,
    tryNumber: 1,
    ...(instance.item === undefined ? {} : { item: instance.item }),
    resources: task.resources,
    priorityWeight: task.priorityWeight,
  };
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    const output = await invoke(job, abort.signal, {
      // Straight to stderr: console.error here would be captured as the task's own console line and
      // come back through this sink, prefixed twice.
      log: (message) => process.stderr.write(`[${label}] ${message}\n`),
      progress: () => {},
    });
    if (options.json) console.log(JSON.stringify({ dagId, taskId, ...at, state: 'success', output: output ?? null }));
    else console.log(`${label}: success\n${JSON.stringify(output ?? null, null, 2)}`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (options.json) console.log(JSON.stringify({ dagId, taskId, ...at, state: 'failed', error: message }));
    else console.error(`${label}: failed: ${message}`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    await scratch.close();
  }
}
