// One call runs a DAG once and hands back its state and outputs: the store, the task invoker, the
// executor and the coordinator that a user would otherwise wire from two packages (ADR 015).
import {
  type Clock,
  createOperatorRegistry,
  createTaskInvoker,
  type Dag,
  type DagSpec,
  type Executor,
  MemoryStateStore,
  type OperatorRegistry,
  outputKey,
  RunCoordinator,
  type RunListener,
  type RunState,
  type StateStore,
  type TaskError,
  type TaskInstanceRecord,
  type TaskInvoker,
} from '@batuta/scheduler';
import { LocalExecutor } from '../local/local-executor.js';
import { machineCapacity } from '../local/machine-capacity.js';

/** How `runDag` runs a DAG; every field has a default that runs it in this process. */
export interface RunDagOptions<Params> {
  /** The run's conf; a typed DAG checks it against its params at compile time, and every DAG at run time. */
  conf?: Partial<Params>;
  /**
   * Where tasks run: an executor (started and closed by `runDag`), or a factory given the invoker of this
   * DAG's tasks. Default: a LocalExecutor with this machine's capacity.
   */
  executor?: Executor | ((invoke: TaskInvoker) => Executor);
  /** Where the run is recorded; default a fresh MemoryStateStore (closed after). A given store is left open. */
  store?: StateStore;
  /** Operators the DAG's tasks name; default the built-ins (`empty`, `shell`, `module`). */
  operators?: OperatorRegistry;
  /** The run's logical date; default now. */
  logicalDate?: Date;
  clock?: Clock;
  /** Task changes, logs and progress as they happen. */
  listener?: RunListener;
}

/** A finished run: its state, every task instance, and each task's output keyed by task id. */
export interface DagRunResult<Outputs> {
  runId: string;
  dagId: string;
  state: RunState;
  reason?: string;
  /** Outputs of the tasks that produced one (a mapped task's is the list of its instances' outputs). */
  outputs: Partial<Outputs>;
  /** Errors of the task instances that failed, keyed `taskId` or `taskId[mapIndex]`. */
  errors: Record<string, TaskError>;
  tasks: TaskInstanceRecord[];
}

/** Runs a DAG once, in this process by default, and resolves when the run has ended. */
export async function runDag<Params, Outputs>(
  dag: Dag<Params, Outputs>,
  options?: RunDagOptions<Params>,
): Promise<DagRunResult<Outputs>>;
export async function runDag(
  dag: DagSpec,
  options?: RunDagOptions<Record<string, unknown>>,
): Promise<DagRunResult<Record<string, unknown>>>;
export async function runDag(
  dag: Dag<unknown, unknown> | DagSpec,
  options: RunDagOptions<unknown> = {},
): Promise<DagRunResult<unknown>> {
  const spec = 'spec' in dag ? dag.spec : dag;
  const store = options.store ?? new MemoryStateStore();
  const invoke = createTaskInvoker({
    resolveDag: (id) => (id === spec.id ? spec : undefined),
    store,
    operators: options.operators ?? createOperatorRegistry(),
  });
  const executor =
    typeof options.executor === 'function'
      ? options.executor(invoke)
      : (options.executor ?? new LocalExecutor({ capacity: machineCapacity(), invoke }));
  const coordinator = new RunCoordinator({
    store,
    executor,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.listener ? { listener: options.listener } : {}),
  });
  try {
    const handle = await coordinator.startRun(spec, {
      kind: 'manual',
      conf: (options.conf ?? {}) as Record<string, unknown>,
      ...(options.logicalDate ? { logicalDateMs: options.logicalDate.getTime() } : {}),
    });
    const run = await handle.done;
    const stored = await store.getOutputs(
      run.runId,
      spec.tasks.map((task) => ({ taskId: task.id, mapIndex: -1 })),
    );
    const outputs: Record<string, unknown> = {};
    for (const task of spec.tasks) {
      const key = outputKey(task.id, -1);
      if (stored.has(key)) outputs[task.id] = stored.get(key);
    }
    const tasks = await store.getTaskInstances(run.runId);
    const errors: Record<string, TaskError> = {};
    for (const instance of tasks) {
      if (instance.state === 'failed' && instance.error) {
        errors[instance.mapIndex >= 0 ? `${instance.taskId}[${instance.mapIndex}]` : instance.taskId] = instance.error;
      }
    }
    return {
      runId: run.runId,
      dagId: run.dagId,
      state: run.state,
      ...(run.reason === undefined ? {} : { reason: run.reason }),
      outputs,
      errors,
      tasks,
    };
  } finally {
    await coordinator.close();
    if (!options.store) await store.close();
  }
}
