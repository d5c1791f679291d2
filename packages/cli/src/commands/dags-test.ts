import { LocalExecutor, machineCapacity, parseCapacity } from '@batuta/orchestrator';
import {
  createTaskInvoker,
  type DagSpec,
  DagValidationError,
  DEFAULT_JSON_LIMITS,
  loadDagsFromFile,
  MemoryLogStore,
  MemoryStateStore,
  type OperatorRegistry,
  type ResourceSpec,
  RunCoordinator,
  validateDag,
} from '@batuta/scheduler';
import { NotFoundError, UsageError } from '../cli-error.js';
import { readJsonObject } from '../json-input.js';
import { RunGrid } from '../render/grid.js';
import { warnUnknownConfKeys } from './runs.js';

export interface DagsTestOptions {
  file: string;
  dagId?: string;
  conf?: string;
  /** A file holding the conf (`-`: stdin). */
  confFile?: string;
  capacity?: string;
  operators: OperatorRegistry;
  /** Per task id, `with` values to override (the demo's `--predictions`). */
  withOverrides?: Record<string, Record<string, unknown>>;
}

/** Picks the DAG to run from a file that may define several. */
export async function pickDag(file: string, dagId: string | undefined, operators: OperatorRegistry): Promise<DagSpec> {
  const dags = await loadDagsFromFile(file, { operators });
  const dag = dagId ? dags.find((d) => d.id === dagId) : dags[0];
  if (!dag) throw new NotFoundError(`${file} defines no DAG '${dagId}' (it has: ${dags.map((d) => d.id).join(', ')})`);
  if (!dagId && dags.length > 1) {
    throw new UsageError(`${file} defines several DAGs (${dags.map((d) => d.id).join(', ')}): choose one with --dag`);
  }
  const issues = validateDag(dag, { operators });
  if (issues.length > 0) throw new DagValidationError(issues);
  return dag;
}

/** `batuta dags test FILE`: runs the whole DAG in this process with a live grid; exit 1 if the run failed. */
export async function dagsTest(options: DagsTestOptions): Promise<number> {
  const picked = await pickDag(options.file, options.dagId, options.operators);
  const overrides = options.withOverrides ?? {};
  const dag: DagSpec = {
    ...picked,
    tasks: picked.tasks.map((t) => (overrides[t.id] ? { ...t, with: { ...t.with, ...overrides[t.id] } } : t)),
  };
  const conf = await readJsonObject({
    text: options.conf,
    file: options.confFile,
    flag: '--conf',
    limits: DEFAULT_JSON_LIMITS,
  });
  warnUnknownConfKeys(dag, conf, '--conf');
  const capacity = options.capacity ? parseCapacity(options.capacity) : machineCapacity();
  const store = new MemoryStateStore();
  const live = Boolean(process.stdout.isTTY);
  const grid = new RunGrid(dag, process.stdout, live);
  // Every attempt's lines go through the same LogStore port as on workers; this one feeds the view.
  const logStore = new MemoryLogStore({
    onAppend: (attempt, lines) => grid.addLogLines(attempt.taskId, attempt.mapIndex, lines),
  });
  const executor = new LocalExecutor({
    capacity,
    logStore,
    invoke: createTaskInvoker({
      resolveDag: (id) => (id === dag.id ? dag : undefined),
      store,
      operators: options.operators,
    }),
  });
  const coordinator = new RunCoordinator({
    store,
    executor,
    listener: {
      taskChanged: (_run, instance) => grid.update(instance),
      progress: (_runId, taskId, _mapIndex, fraction) => grid.setProgress(taskId, fraction),
      callbackFailed: (_runId, what, error) => console.error(`callback ${what} failed: ${String(error)}`),
    },
  });
  console.log(`dags test ${dag.id}: ${dag.tasks.length} tasks, capacity ${capacityText(capacity)}`);
  const started = Date.now();
  const handle = await coordinator.startRun(dag, { kind: 'test', conf });
  const timer = live ? setInterval(() => grid.draw(Date.now()), 100) : undefined;
  const run = await handle.done.finally(() => {
    if (timer) clearInterval(timer);
  });
  grid.draw(Date.now());
  await coordinator.close();
  console.log(`\n${grid.summary(Date.now())}\n`);
  const leaves = dag.tasks.filter((t) => !dag.tasks.some((other) => other.upstream.includes(t.id)));
  const outputs = await store.getOutputs(
    run.runId,
    leaves.map((t) => ({ taskId: t.id, mapIndex: -1 })),
  );
  for (const [key, value] of outputs) {
    const text = JSON.stringify(value);
    console.log(`output of ${key.replace(/#-1$/, '')}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
  const failedTasks = (await store.getTaskInstances(run.runId)).filter((i) => i.state === 'failed' && i.error);
  for (const instance of failedTasks) {
    const where = instance.mapIndex >= 0 ? `${instance.taskId}#${instance.mapIndex}` : instance.taskId;
    console.log(`${where} failed on try ${instance.tryNumber}: ${instance.error?.message}`);
  }
  console.log(
    `run ${run.runId}: ${run.state} in ${((Date.now() - started) / 1000).toFixed(2)} s${run.reason ? ` (${run.reason})` : ''}`,
  );
  return run.state === 'success' ? 0 : 1;
}

function capacityText(spec: ResourceSpec): string {
  const custom = Object.entries(spec.custom)
    .map(([k, v]) => `, ${k}=${v}`)
    .join('');
  return `cpu=${spec.cpu}, memoryMb=${spec.memoryMb}, gpu=${spec.gpu}${custom}`;
}
