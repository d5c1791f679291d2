import { describe, expect, it } from 'vitest';
import { BatutaError } from '../../src/errors.js';
import { compilePlan, type ExecutionPlan } from '../../src/run/plan.js';
import { dag, task } from './helpers.js';

const ids = (plan: ExecutionPlan, indexes: Int32Array | number[]) => [...indexes].map((i) => plan.tasks[i]!.id);
const downstreamOf = (plan: ExecutionPlan, id: string) => {
  const t = plan.taskIndex.get(id)!;
  return ids(plan, plan.downstream.subarray(plan.downstreamStart[t]!, plan.downstreamStart[t + 1]!));
};
const upstreamOf = (plan: ExecutionPlan, id: string) => {
  const t = plan.taskIndex.get(id)!;
  return ids(plan, plan.upstream.subarray(plan.upstreamStart[t]!, plan.upstreamStart[t + 1]!));
};

function thrown(fn: () => unknown): BatutaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BatutaError) return error;
    throw error;
  }
  throw new Error('expected a BatutaError');
}

describe('compilePlan', () => {
  it('builds CSR adjacency both ways, upstream totals, roots, leaves and a topological order', () => {
    // Declared out of topological order on purpose.
    const plan = compilePlan(
      dag([task('join', ['b', 'c']), task('b', ['a']), task('a'), task('c', ['a', 'a']), task('x', ['a'])]),
    );
    expect(plan.taskCount).toBe(5);
    expect(downstreamOf(plan, 'a')).toEqual(['b', 'c', 'x']);
    expect(upstreamOf(plan, 'join')).toEqual(['b', 'c']);
    expect(upstreamOf(plan, 'c')).toEqual(['a']); // the repeated upstream counts once
    expect([...plan.upstreamTotal]).toEqual([2, 1, 0, 1, 1]);
    expect(ids(plan, plan.roots)).toEqual(['a']);
    expect(ids(plan, plan.leaves)).toEqual(['join', 'x']);
    const order = ids(plan, plan.topologicalOrder);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('join'));
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('join'));
    for (let r = 0; r < plan.taskCount; r++) expect(plan.topologicalRank[plan.topologicalOrder[r]!]).toBe(r);
    expect(plan.downstream).toBeInstanceOf(Int32Array);
  });

  it('flags tasks that a mapped task maps over', () => {
    const plan = compilePlan(
      dag([task('list'), task('each', ['list'], { map: { over: { x: { fromTask: 'list' } }, maxLength: 10 } })]),
    );
    expect([...plan.isMapSource]).toEqual([1, 0]);
  });

  it('compiles an empty DAG', () => {
    const plan = compilePlan(dag([]));
    expect(plan.taskCount).toBe(0);
    expect(plan.leaves).toHaveLength(0);
  });

  it('throws DAG_CYCLE naming the cycle instead of hanging', () => {
    const error = thrown(() =>
      compilePlan(dag([task('a', ['c']), task('b', ['a']), task('c', ['b']), task('d', ['c'])])),
    );
    expect(error.code).toBe('DAG_CYCLE');
    expect(error.message).toContain("has a cycle: 'a' → 'b' → 'c' → 'a'");
    expect(thrown(() => compilePlan(dag([task('self', ['self'])]))).code).toBe('DAG_CYCLE');
  });

  it('throws UNKNOWN_UPSTREAM and DUPLICATE_TASK_ID', () => {
    const unknown = thrown(() => compilePlan(dag([task('a', ['ghost'])])));
    expect(unknown.code).toBe('UNKNOWN_UPSTREAM');
    expect(unknown.message).toContain("'ghost'");
    expect(unknown.field).toBe('tasks.a.upstream[0]');
    expect(thrown(() => compilePlan(dag([task('a'), task('a')]))).code).toBe('DUPLICATE_TASK_ID');
  });

  it('compiles a 100,000-task chain without recursion', () => {
    const tasks = Array.from({ length: 100_000 }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
    const plan = compilePlan(dag(tasks));
    expect(plan.leaves).toHaveLength(1);
    expect(plan.topologicalRank[99_999]).toBe(99_999);
  });
});
