// Runs one attempt's body: finds the task in its DAG, reads the upstream outputs and the run's params
// from the store, builds the TaskContext and calls the task function or its operator.
import type { DagSpec, TaskContext, TaskSpec } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import type { TaskInvoker } from '../executor.js';
import { withConsoleCaptured } from '../logs/console-capture.js';
import type { OperatorRegistry } from '../operators/registry.js';
import type { StateStore } from '../store/state-store.js';
import { outputKey } from '../store/state-store.js';

/** Where an invoker finds DAGs, the store and operators. */
export interface TaskInvokerOptions {
  resolveDag: (dagId: string) => DagSpec | undefined;
  store: StateStore;
  operators: OperatorRegistry;
}

interface RunFacts {
  params: Record<string, unknown>;
  logicalDateMs: number;
}

const RUN_CACHE_SIZE = 256;

/** Builds the TaskInvoker that executors call; upstream outputs arrive as `context.inputs[upstreamId]`. */
export function createTaskInvoker(options: TaskInvokerOptions): TaskInvoker {
  const runs = new Map<string, RunFacts>();
  const taskIndex = new WeakMap<DagSpec, Map<string, TaskSpec>>();

  const findTask = (dag: DagSpec, taskId: string): TaskSpec | undefined => {
    let index = taskIndex.get(dag);
    if (!index) {
      index = new Map(dag.tasks.map((t) => [t.id, t]));
      taskIndex.set(dag, index);
    }
    return index.get(taskId);
  };

  const runFacts = async (runId: string): Promise<RunFacts> => {
    const cached = runs.get(runId);
    if (cached) return cached;
    const run = await options.store.getRun(runId);
    if (!run) throw new BatutaError('UNKNOWN_RUN', `run '${runId}' is not in the store`);
    const facts = { params: run.conf, logicalDateMs: run.logicalDateMs };
    if (runs.size >= RUN_CACHE_SIZE) runs.delete(runs.keys().next().value as string);
    runs.set(runId, facts);
    return facts;
  };

  return async (job, signal, report) => {
    const dag = options.resolveDag(job.dagId);
    if (!dag) throw new BatutaError('UNKNOWN_DAG', `DAG '${job.dagId}' is not loaded in this process`);
    const task = findTask(dag, job.taskId);
    if (!task) throw new BatutaError('UNKNOWN_TASK', `task '${job.taskId}' is not in DAG '${job.dagId}'`);
    const facts = await runFacts(job.runId);
    const inputs: Record<string, unknown> = {};
    if (task.upstream.length > 0) {
      const outputs = await options.store.getOutputs(
        job.runId,
        task.upstream.map((taskId) => ({ taskId, mapIndex: -1 })),
      );
      for (const upstreamId of task.upstream) inputs[upstreamId] = outputs.get(outputKey(upstreamId, -1));
    }
    const context: TaskContext = {
      dagId: job.dagId,
      runId: job.runId,
      taskId: job.taskId,
      mapIndex: job.mapIndex,
      tryNumber: job.tryNumber,
      logicalDateMs: facts.logicalDateMs,
      params: facts.params,
      inputs,
      item: job.item,
      signal,
      log: report.log,
      progress: report.progress,
      ...(dag.sourceFile ? { dagFile: dag.sourceFile } : {}),
    };
    // The body's `console` lines are its log's, never the worker's stdout.
    const fn = task.fn;
    if (fn) return withConsoleCaptured(report.log, () => fn(context));
    const operator = options.operators.get(task.operator);
    if (!operator) {
      throw new BatutaError('UNKNOWN_OPERATOR', `operator '${task.operator}' is not registered in this process`);
    }
    const args = operator.args ? operator.args.parse(task.with) : task.with;
    return withConsoleCaptured(report.log, () => operator.run(context, args));
  };
}
