// A sanity check of the engine's cost per event, not a test (nothing is asserted; timings vary by
// machine). Run: npx tsx packages/scheduler/test/run/engine-perf.ts
// It runs no-op DAGs to completion (start, then complete every 'run' decision with success) and
// prints the time per shape and size. Expect roughly linear growth from 10k to 100k tasks.
import type { TaskSpec } from '../../src/dag/model.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import type { Decision } from '../../src/run/types.js';
import { dag, task } from './helpers.js';

/** One root → n-1 leaves. */
export function wide(n: number): TaskSpec[] {
  return Array.from({ length: n }, (_, i) => task(`t${i}`, i === 0 ? [] : ['t0']));
}

/** A chain t0 → t1 → … */
export function deep(n: number): TaskSpec[] {
  return Array.from({ length: n }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
}

/** Layers of `width` tasks, each depending on two neighbours of the layer before (diamonds). */
export function lattice(n: number, width = 100): TaskSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const layer = Math.floor(i / width);
    if (layer === 0) return task(`t${i}`);
    const column = i % width;
    const above = (layer - 1) * width;
    return task(`t${i}`, [`t${above + column}`, `t${above + ((column + 1) % width)}`]);
  });
}

/** Runs the DAG to the end; returns the number of run decisions completed. */
export function runToCompletion(engine: RunEngine): number {
  const pending: Decision[] = engine.start(0);
  let completed = 0;
  for (let i = 0; i < pending.length; i++) {
    const decision = pending[i]!;
    if (decision.kind !== 'run') continue;
    completed++;
    for (const next of engine.complete(decision, { status: 'success', output: undefined }, i)) pending.push(next);
  }
  return completed;
}

function measure(name: string, tasks: TaskSpec[]): void {
  const plan = compilePlan(dag(tasks));
  // A warm-up run so the JIT has compiled the hot paths, then the median and best of five.
  runToCompletion(new RunEngine(plan, { runId: 'warm' }));
  const times: number[] = [];
  let state = '';
  for (let k = 0; k < 5; k++) {
    const started = performance.now();
    const engine = new RunEngine(plan, { runId: `measured_${k}` });
    runToCompletion(engine);
    times.push(performance.now() - started);
    state = engine.state;
  }
  times.sort((a, b) => a - b);
  const median = times[2]!.toFixed(1).padStart(7);
  const best = times[0]!.toFixed(1).padStart(7);
  console.log(
    `${name.padEnd(8)} ${String(tasks.length).padStart(7)} tasks  median ${median} ms  best ${best} ms  (${state})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const n of [10_000, 100_000]) {
    measure('wide', wide(n));
    measure('deep', deep(n));
    measure('lattice', lattice(n));
  }
}
