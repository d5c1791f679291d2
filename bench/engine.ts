// `npm run bench -- engine [--quick]`: no-op DAGs of 1,000 / 10,000 / 100,000 tasks in three shapes
// (wide, deep, diamond lattice), run to completion in-process.
//  - engine: the pure RunEngine alone (start, then complete every 'run' decision in FIFO order);
//  - embedded: the whole embedded path (RunCoordinator → LocalExecutor → MemoryStateStore).
// The plan is compiled once per DAG (as the coordinator does) and its time is printed apart.
// Prints tasks/s per size and shape, and as its last line one JSON object with `tasksPerSec` (engine,
// 10,000 tasks, slowest shape) and `scaleRatio` = time(100k)/time(10k) (largest over the shapes).
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  DEFAULT_RESOURCES,
  DEFAULT_RETRY,
  type Decision,
  MemoryStateStore,
  RunCoordinator,
  type TaskSpec,
} from '@batuta/scheduler';
import { compilePlan, type ExecutionPlan, RunEngine } from '@batuta/scheduler/internals';

type Shape = 'wide' | 'deep' | 'lattice';
const quick = process.argv.includes('--quick');
const sizes = quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000];
const repeats = quick ? 5 : 9;
const shapes: Shape[] = ['wide', 'deep', 'lattice'];

function task(id: string, upstream: string[]): TaskSpec {
  return {
    id,
    operator: 'function',
    with: {},
    upstream,
    triggerRule: 'all_success',
    retry: DEFAULT_RETRY,
    resources: DEFAULT_RESOURCES,
    priorityWeight: 1,
    dependsOnPast: false,
    branch: false,
    outlets: [],
    fn: () => undefined,
  };
}

/** wide: one root and N−1 leaves; deep: a chain; lattice: rows of 100, each task joining two above. */
function buildDag(shape: Shape, size: number): DagSpec {
  const tasks: TaskSpec[] = [];
  if (shape === 'wide') {
    tasks.push(task('t0', []));
    for (let i = 1; i < size; i++) tasks.push(task(`t${i}`, ['t0']));
  } else if (shape === 'deep') {
    for (let i = 0; i < size; i++) tasks.push(task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
  } else {
    const width = 100;
    for (let i = 0; i < size; i++) {
      const row = Math.floor(i / width);
      const column = i % width;
      const up = row === 0 ? [] : [`t${i - width}`, `t${(row - 1) * width + ((column + 1) % width)}`];
      tasks.push(task(`t${i}`, [...new Set(up)]));
    }
  }
  return {
    id: `bench_${shape}_${size}`,
    tags: [],
    catchup: false,
    maxActiveRuns: 1,
    maxActiveTasks: 1_000_000,
    params: {},
    tasks,
  };
}

/** One run on a compiled plan (the coordinator compiles a DAG once and reuses the plan for every run). */
function runEngineOnce(dag: DagSpec, plan: ExecutionPlan): number {
  const started = performance.now();
  const engine = new RunEngine(plan, { runId: 'bench' });
  // Decisions are applied and dropped batch by batch, as the coordinator does (keeping every decision
  // of a 100k-task run alive would measure the garbage collector, not the engine).
  let pending: Decision[] = engine.start(0);
  let finished = false;
  let completed = 0;
  while (pending.length > 0) {
    const next: Decision[] = [];
    for (const decision of pending) {
      if (decision.kind === 'finish') {
        finished = true;
        continue;
      }
      if (decision.kind !== 'run') continue;
      engine.queued(decision, 0);
      engine.running(decision, 0);
      for (const d of engine.complete(decision, { status: 'success', output: undefined }, 0)) next.push(d);
      completed++;
    }
    pending = next;
  }
  const ms = performance.now() - started;
  if (!finished || completed !== dag.tasks.length) throw new Error(`engine did not finish ${dag.id} (${completed})`);
  return ms;
}

async function runEmbeddedOnce(dag: DagSpec): Promise<number> {
  const store = new MemoryStateStore();
  const executor = new LocalExecutor({
    capacity: { cpu: 1e9, memoryMb: 1e12, gpu: 0, custom: {} },
    invoke: createTaskInvoker({ resolveDag: () => dag, store, operators: createOperatorRegistry() }),
  });
  const coordinator = new RunCoordinator({ store, executor });
  const started = performance.now();
  const run = await (await coordinator.startRun(dag, { kind: 'test' })).done;
  const ms = performance.now() - started;
  await coordinator.close();
  if (run.state !== 'success') throw new Error(`embedded run of ${dag.id} ended ${run.state}`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const engineMs: Record<string, number> = {};
const compileMs: Record<string, number> = {};
const embeddedMs: Record<string, number> = {};
console.log(
  `engine benchmark: engine median of ≥ ${repeats} runs (≈1M task completions per size), embedded median of ${repeats}; node ${process.version}`,
);
console.log('shape     tasks   compile ms   engine ms   engine tasks/s   embedded ms   embedded tasks/s');
for (const shape of shapes) {
  for (const size of sizes) {
    const dag = buildDag(shape, size);
    const compileStarted = performance.now();
    const plan = compilePlan(dag);
    compileMs[`${shape}:${size}`] = performance.now() - compileStarted;
    for (let i = 0; i < 2; i++) runEngineOnce(dag, plan); // warm-up
    // Every size gets about a million task completions in all, so small and large runs are timed over
    // comparable spans (a 10k run takes ~10 ms: a few samples would be at the mercy of one GC pause).
    const engineRepeats = Math.max(repeats, Math.ceil((quick ? 300_000 : 1_000_000) / size));
    const e: number[] = [];
    for (let i = 0; i < engineRepeats; i++) {
      globalThis.gc?.();
      e.push(runEngineOnce(dag, plan));
    }
    const embeddedRepeats = size >= 100_000 ? Math.min(repeats, 3) : repeats;
    const f: number[] = [];
    for (let i = 0; i < embeddedRepeats; i++) {
      globalThis.gc?.();
      f.push(await runEmbeddedOnce(dag));
    }
    engineMs[`${shape}:${size}`] = median(e);
    embeddedMs[`${shape}:${size}`] = median(f);
    const line = [
      shape.padEnd(8),
      String(size).padStart(7),
      compileMs[`${shape}:${size}`]!.toFixed(1).padStart(12),
      median(e).toFixed(1).padStart(12),
      Math.round(size / (median(e) / 1000))
        .toLocaleString('en-US')
        .padStart(16),
      median(f).toFixed(1).padStart(13),
      Math.round(size / (median(f) / 1000))
        .toLocaleString('en-US')
        .padStart(18),
    ];
    console.log(line.join(' '));
  }
}

const perSec = (ms: number, size: number) => Math.round(size / (ms / 1000));
const at10k = shapes.map((s) => perSec(engineMs[`${s}:10000`]!, 10_000));
const ratios = shapes.map((s) => engineMs[`${s}:100000`]! / engineMs[`${s}:10000`]!);
const embeddedAt10k = shapes.map((s) => perSec(embeddedMs[`${s}:10000`]!, 10_000));
const embeddedRatios = shapes.map((s) => embeddedMs[`${s}:100000`]! / embeddedMs[`${s}:10000`]!);
console.log(
  JSON.stringify({
    bench: 'engine',
    quick,
    tasksPerSec: Math.min(...at10k),
    scaleRatio: Number(Math.max(...ratios).toFixed(2)),
    byShape: Object.fromEntries(
      shapes.map((s, i) => [
        s,
        {
          engineTasksPerSec10k: at10k[i],
          engineScaleRatio: Number(ratios[i]!.toFixed(2)),
          embeddedTasksPerSec10k: embeddedAt10k[i],
          embeddedScaleRatio: Number(embeddedRatios[i]!.toFixed(2)),
        },
      ]),
    ),
    compileMs100k: Object.fromEntries(shapes.map((s) => [s, Number(compileMs[`${s}:100000`]!.toFixed(1))])),
    embeddedTasksPerSec: Math.min(...embeddedAt10k),
    embeddedScaleRatio: Number(Math.max(...embeddedRatios).toFixed(2)),
    targets: { tasksPerSec: 100_000, scaleRatio: 12 },
  }),
);
