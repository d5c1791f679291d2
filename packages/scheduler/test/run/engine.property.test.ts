// Random DAGs driven by random event orders: whatever happens, every run ends exactly once, every
// instance ends terminal, nothing runs before its trigger rule allows it, failures reach the run
// state, and retries stay within their budget. Some runs crash and are restored midway.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type TaskSpec,
  type TaskState,
  TERMINAL_TASK_STATES,
  TRIGGER_RULES,
  type TriggerRule,
} from '../../src/dag/model.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import { evaluateTriggerRule, type UpstreamCounts } from '../../src/run/trigger-rules.js';
import type { Decision, Outcome } from '../../src/run/types.js';
import { dag, retries, task } from './helpers.js';

type Kind = 'plain' | 'branch' | 'short_all' | 'short_direct' | 'mapped_values' | 'mapped_from';

const taskShape = fc.record({
  upstreamMask: fc.array(fc.constantFrom(true, false, false), { maxLength: 20, size: 'max' }),
  rule: fc.constantFrom<TriggerRule>(...TRIGGER_RULES),
  retries: fc.integer({ min: 0, max: 2 }),
  backoff: fc.constantFrom<'fixed' | 'exponential'>('fixed', 'exponential'),
  jitter: fc.boolean(),
  kind: fc.constantFrom<Kind>(
    'plain',
    'plain',
    'plain',
    'plain',
    'branch',
    'short_all',
    'short_direct',
    'mapped_values',
    'mapped_from',
  ),
  mapLength: fc.integer({ min: 0, max: 3 }),
  maxLength: fc.integer({ min: 2, max: 4 }),
});

/** Tasks in a random topological order, declared in another random order. */
const dagShape = fc.array(taskShape, { minLength: 1, maxLength: 20, size: 'max' }).chain((shapes) =>
  fc.tuple(
    fc.constant(shapes),
    fc.shuffledSubarray(
      shapes.map((_, i) => i),
      { minLength: shapes.length, maxLength: shapes.length },
    ),
  ),
);

function buildTasks([shapes, declarationOrder]: [
  Array<typeof taskShape extends fc.Arbitrary<infer T> ? T : never>,
  number[],
]) {
  const tasks: TaskSpec[] = shapes.map((shape, i) => {
    const upstream = shapes.slice(0, i).flatMap((_, j) => (shape.upstreamMask[j] ? [`t${j}`] : []));
    const overrides: Partial<TaskSpec> = {
      triggerRule: shape.rule,
      retry: retries(shape.retries, { backoff: shape.backoff, jitter: shape.jitter, delayMs: 10, maxDelayMs: 50 }),
    };
    if (shape.kind === 'branch') overrides.branch = true;
    if (shape.kind === 'short_all') overrides.shortCircuit = 'all';
    if (shape.kind === 'short_direct') overrides.shortCircuit = 'direct';
    if (shape.kind === 'mapped_values' || (shape.kind === 'mapped_from' && upstream.length === 0)) {
      overrides.map = {
        over: { x: { values: Array.from({ length: shape.mapLength }, (_, k) => k) } },
        maxLength: shape.maxLength,
      };
    } else if (shape.kind === 'mapped_from') {
      overrides.map = { over: { x: { fromTask: upstream[0]! } }, maxLength: shape.maxLength };
    }
    return task(`t${i}`, upstream, overrides);
  });
  return declarationOrder.map((i) => tasks[i]!);
}

/** A small deterministic PRNG (mulberry32), so a failing seed replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type RunDecision = Extract<Decision, { kind: 'run' }>;
type RetryDecision = Extract<Decision, { kind: 'retry' }>;
const instanceKey = (taskId: string, mapIndex: number) => `${taskId}#${mapIndex}`;

/** What a store would hold of one instance, built only from the decisions applied so far. */
interface Persisted {
  taskId: string;
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
  nextTryAtMs?: number;
}

function simulate(tasks: TaskSpec[], seed: number, crashes: boolean) {
  const next = random(seed);
  const plan = compilePlan(dag(tasks));
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const downstreamIds = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  for (const t of tasks) for (const u of t.upstream) downstreamIds.get(u)!.push(t.id);
  const mapSources = new Set(
    tasks.flatMap((t) => Object.values(t.map?.over ?? {}).flatMap((s) => ('fromTask' in s ? [s.fromTask] : []))),
  );

  // Descendants of each task, for the branch and short-circuit checks.
  const descendants = new Map<string, Set<string>>();
  for (const t of [...tasks].sort((a, b) => Number(b.id.slice(1)) - Number(a.id.slice(1)))) {
    const set = new Set<string>();
    for (const d of downstreamIds.get(t.id)!) {
      set.add(d);
      for (const dd of descendants.get(d)!) set.add(dd);
    }
    descendants.set(t.id, set);
  }
  // What a completed branch chose / which short-circuits fired, once their success is persisted.
  const reported = new Map<string, unknown>();
  const branchChoice = new Map<string, string[]>();
  const shortCircuited = new Set<string>();

  let engine = new RunEngine(plan, { runId: `run_${seed}` });
  const persisted = new Map<string, Persisted>();
  const stateOf = (key: string): TaskState => persisted.get(key)?.state ?? 'none';
  const tries = new Map<string, Set<number>>();
  const runDecisions = new Map<string, number>();
  const outputs = new Map<string, unknown>();
  let pending: RunDecision[] = [];
  let retriesDue: RetryDecision[] = [];
  const finishes: Array<Extract<Decision, { kind: 'finish' }>> = [];
  const problems: string[] = [];
  let crashCount = 0;

  // How many instances each mapped task expanded into, from its 'expand' decision.
  const expandedInto = new Map<string, number>();
  // The reference count, Airflow's way: an expanded mapped upstream counts each instance by its own state.
  const counts = (t: TaskSpec): UpstreamCounts => {
    const c = { total: t.upstream.length, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, removed: 0, done: 0 };
    const tally = (state: TaskState) => {
      if (TERMINAL_TASK_STATES.has(state)) c.done++;
      if (state === 'success') c.success++;
      if (state === 'failed') c.failed++;
      if (state === 'upstream_failed') c.upstreamFailed++;
      if (state === 'skipped') c.skipped++;
    };
    for (const u of t.upstream) {
      const instances = expandedInto.get(u) ?? 0;
      if (instances === 0) tally(stateOf(instanceKey(u, -1)));
      else {
        c.total += instances - 1;
        for (let i = 0; i < instances; i++) tally(stateOf(instanceKey(u, i)));
      }
    }
    return c;
  };

  const record = (taskId: string, mapIndex: number, change: Partial<Persisted>) => {
    const key = instanceKey(taskId, mapIndex);
    const current = persisted.get(key) ?? { taskId, mapIndex, state: 'none' as TaskState, tryNumber: 0 };
    const updated = { ...current, ...change };
    if (updated.state !== 'up_for_retry') delete updated.nextTryAtMs;
    persisted.set(key, updated);
  };

  /** Applies decisions in order, as an adapter does; `upTo` < length simulates a crash mid-batch. */
  const apply = (decisions: Decision[], upTo = decisions.length) => {
    for (const d of decisions.slice(0, upTo)) {
      if (d.kind === 'finish') {
        finishes.push(d);
        continue;
      }
      const t = byId.get(d.taskId)!;
      const mapIndex = d.kind === 'expand' ? -1 : d.mapIndex;
      const key = instanceKey(d.taskId, mapIndex);
      const fresh = (d.kind === 'run' && d.tryNumber === 1 && !d.reason.startsWith('resumed')) || d.kind === 'expand';
      if (fresh && mapIndex === -1) {
        const verdict = evaluateTriggerRule(t.triggerRule, counts(t));
        if (verdict.action !== 'run') problems.push(`${d.kind} ${key} while its rule says ${verdict.reason}`);
        if (persisted.has(key) && d.kind === 'run') problems.push(`${d.kind} ${key} again while ${stateOf(key)}`);
      }
      if (fresh && mapIndex === -1) {
        for (const u of t.upstream) {
          const chosen = branchChoice.get(u);
          if (chosen && !chosen.some((c) => c === d.taskId || descendants.get(c)!.has(d.taskId))) {
            problems.push(`${d.kind} ${key} although branch ${u} chose ${JSON.stringify(chosen)}`);
          }
        }
        for (const s of shortCircuited) {
          const mode = byId.get(s)!.shortCircuit;
          const hit = mode === 'all' ? descendants.get(s)!.has(d.taskId) : t.upstream.includes(s);
          if (hit) problems.push(`${d.kind} ${key} after short-circuit ${s} (${mode}) returned a falsy value`);
        }
      }
      if (d.kind === 'mark' && d.state === 'success' && mapIndex === -1 && reported.has(d.taskId)) {
        const output = reported.get(d.taskId);
        if (t.branch) branchChoice.set(d.taskId, output === null ? [] : (output as string[]));
        if (t.shortCircuit && !output) shortCircuited.add(d.taskId);
      }
      if (d.kind === 'expand') {
        for (const source of Object.values(t.map?.over ?? {})) {
          if ('fromTask' in source && !TERMINAL_TASK_STATES.has(stateOf(instanceKey(source.fromTask, -1)))) {
            problems.push(`expanded ${d.taskId} before its source ${source.fromTask} was done`);
          }
        }
      }
      if (d.kind === 'mark' && mapIndex === -1 && d.reason.includes('; rule ')) {
        // An auto-mark from a rule must agree with the rule on what was known at that moment.
        const verdict = evaluateTriggerRule(t.triggerRule, counts(t));
        const expected = d.state === 'skipped' ? 'skip' : d.state;
        if (verdict.action !== expected) problems.push(`marked ${key} ${d.state} but its rule says ${verdict.reason}`);
      }
      if (d.kind === 'mark' && TERMINAL_TASK_STATES.has(stateOf(key))) {
        problems.push(`marked ${key} ${d.state} after it was already ${stateOf(key)}`);
      }
      if (d.kind === 'run') {
        record(d.taskId, d.mapIndex, { state: 'scheduled', tryNumber: d.tryNumber });
        const set = tries.get(key) ?? new Set<number>();
        set.add(d.tryNumber);
        tries.set(key, set);
        runDecisions.set(key, (runDecisions.get(key) ?? 0) + 1);
        pending = pending.filter((p) => instanceKey(p.taskId, p.mapIndex) !== key);
        pending.push(d);
      } else if (d.kind === 'retry') {
        record(d.taskId, d.mapIndex, { state: 'up_for_retry', nextTryAtMs: d.atMs });
        retriesDue = retriesDue.filter((r) => instanceKey(r.taskId, r.mapIndex) !== key);
        retriesDue.push(d);
      } else if (d.kind === 'expand') {
        expandedInto.set(d.taskId, d.count);
        record(d.taskId, -1, { state: 'running' });
      } else {
        record(d.taskId, d.mapIndex, { state: d.state });
      }
    }
  };

  /** Either applies the batch, or crashes partway through it and restores from what was persisted. */
  const handle = (decisions: Decision[], now: number) => {
    if (!crashes || next() >= 0.08) {
      apply(decisions);
      return;
    }
    crashCount++;
    apply(decisions, Math.floor(next() * (decisions.length + 1)));
    if (finishes.length > 0) return; // the run's end was persisted: nobody restores a finished run
    const snapshots = [...persisted.values()].map((p) => ({ ...p, reason: 'persisted' }));
    engine = RunEngine.restore(plan, { runId: `run_${seed}` }, snapshots, outputs);
    pending = [];
    retriesDue = [];
    apply(engine.resume(now));
  };

  const outcomeFor = (d: RunDecision): Outcome => {
    const t = byId.get(d.taskId)!;
    const roll = next();
    if (roll < 0.25)
      return { status: 'failed', error: { message: 'boom', ...(next() < 0.2 ? { retryable: false } : {}) } };
    if (roll < 0.33) return { status: 'skipped', reason: 'nothing to do' };
    let output: unknown = null;
    if (t.branch && d.mapIndex === -1) {
      const options = downstreamIds.get(t.id)!;
      const pick = options.filter(() => next() < 0.5);
      output = next() < 0.05 ? 'not_a_downstream' : next() < 0.15 ? null : pick;
    } else if (t.shortCircuit) {
      output = next() < 0.5;
    } else if (mapSources.has(t.id)) {
      output = next() < 0.05 ? 'not a list' : Array.from({ length: Math.floor(next() * 4) }, (_, k) => k);
    }
    return { status: 'success', output };
  };

  handle(engine.start(0), 0);
  let now = 0;
  let steps = 0;
  for (; steps < 5_000 && finishes.length === 0; steps++) {
    if (pending.length === 0 && retriesDue.length === 0) break;
    now += 1;
    const useRetry = retriesDue.length > 0 && (pending.length === 0 || next() < 0.3);
    if (useRetry) {
      const [due] = retriesDue.splice(Math.floor(next() * retriesDue.length), 1);
      now = Math.max(now, due!.atMs);
      handle(engine.retryDue(due!, now), now);
      continue;
    }
    const [run] = pending.splice(Math.floor(next() * pending.length), 1);
    if (next() < 0.5) engine.queued(run!, now);
    if (next() < 0.5) engine.running(run!, now);
    const outcome = outcomeFor(run!);
    if (outcome.status === 'success') {
      outputs.set(instanceKey(run!.taskId, run!.mapIndex), outcome.output);
      const t = byId.get(run!.taskId)!;
      if ((t.branch || t.shortCircuit) && run!.mapIndex === -1) reported.set(t.id, outcome.output);
      else reported.delete(t.id);
    }
    handle(engine.complete(run!, outcome, now), now);
  }
  return { engine, persisted, tries, runDecisions, finishes, problems, steps, byId, crashCount };
}

describe('RunEngine on random DAGs', () => {
  it('ends every run once, respects trigger rules, keeps failures and retry budgets', () => {
    fc.assert(
      fc.property(dagShape, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), (shape, seed, crashes) => {
        const tasks = buildTasks(shape);
        const { engine, persisted, tries, runDecisions, finishes, problems, byId } = simulate(tasks, seed, crashes);
        expect(problems).toEqual([]);
        expect(finishes).toHaveLength(1);

        const instances = engine.instances();
        for (const instance of instances) {
          expect(
            TERMINAL_TASK_STATES.has(instance.state),
            `${instance.taskId}#${instance.mapIndex} ${instance.state}`,
          ).toBe(true);
          // The decisions alone tell an adapter every final state.
          expect(persisted.get(instanceKey(instance.taskId, instance.mapIndex))?.state).toBe(instance.state);
        }

        // Without crashes every run decision is a new attempt; a crash may re-issue one with the same try.
        if (!crashes) {
          for (const [key, count] of runDecisions) {
            expect(count).toBeLessThanOrEqual(byId.get(key.split('#')[0]!)!.retry.retries + 1);
          }
        }
        for (const [key, set] of tries) {
          const t = byId.get(key.split('#')[0]!)!;
          expect(set.size).toBeLessThanOrEqual(t.retry.retries + 1);
          expect([...set].sort()).toEqual(Array.from({ length: set.size }, (_, k) => k + 1));
        }

        const hasDownstream = new Set(tasks.flatMap((t) => t.upstream));
        const leafStates = tasks
          .filter((t) => !hasDownstream.has(t.id))
          .map((t) => engine.instance({ taskId: t.id, mapIndex: -1 })!.state);
        const leafFailed = leafStates.some((s) => s === 'failed' || s === 'upstream_failed');
        expect(finishes[0]!.state).toBe(leafFailed ? 'failed' : 'success');
        expect(engine.state).toBe(finishes[0]!.state);
        if (finishes[0]!.state === 'success')
          expect(leafStates.every((s) => s === 'success' || s === 'skipped')).toBe(true);

        // A mapped parent's state is the aggregate of its instances.
        for (const t of tasks) {
          if (!t.map) continue;
          const children = instances.filter((i) => i.taskId === t.id && i.mapIndex >= 0).map((i) => i.state);
          if (children.length === 0) continue;
          const parent = engine.instance({ taskId: t.id, mapIndex: -1 })!.state;
          const aggregate = children.includes('failed')
            ? 'failed'
            : children.includes('upstream_failed')
              ? 'upstream_failed'
              : children.includes('success')
                ? 'success'
                : 'skipped';
          expect(parent).toBe(aggregate);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('runs a 100,000-task chain to completion (perf smoke, not timed)', () => {
    const n = 100_000;
    const engine = new RunEngine(
      compilePlan(dag(Array.from({ length: n }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`])))),
      { runId: 'chain' },
    );
    let batch = engine.start(0);
    let completed = 0;
    for (;;) {
      const run = batch.find((d): d is RunDecision => d.kind === 'run');
      if (!run) break;
      completed++;
      batch = engine.complete(run, { status: 'success', output: undefined }, completed);
    }
    expect(completed).toBe(n);
    expect(engine.state).toBe('success');
  });
});
