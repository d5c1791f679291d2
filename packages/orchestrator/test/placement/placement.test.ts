// Placement tables: which pool runs a task, and the load-time error when none can.
import { type DagSpec, DEFAULT_RETRY, type ResourceSpec, type TaskSpec } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { assertDagPlaceable, choosePool, placeDag, rankPools } from '../../src/placement/placement.js';
import type { WorkerPool } from '../../src/pools/worker-pool.js';

const spec = (resources: Partial<ResourceSpec> = {}): ResourceSpec => ({
  cpu: 0,
  memoryMb: 0,
  gpu: 0,
  ...resources,
  custom: { ...resources.custom },
});
const pool = (name: string, capacity: Partial<ResourceSpec>, labels: Record<string, string> = {}): WorkerPool => ({
  name,
  capacity: spec(capacity),
  labels,
  minWorkers: 1,
  maxWorkers: 2,
});

const pools = [
  pool('small', { cpu: 2, memoryMb: 4096 }, { zone: 'a' }),
  pool('large', { cpu: 16, memoryMb: 65536 }, { zone: 'b' }),
  pool('gpu', { cpu: 8, memoryMb: 32768, gpu: 1 }, { zone: 'a' }),
  pool('licensed', { cpu: 4, memoryMb: 8192, custom: { licenses: 2 } }),
];

describe('choosePool', () => {
  it.each<[string, Partial<ResourceSpec>, Record<string, string> | undefined, string]>([
    ['a 1-cpu task goes to the smallest pool that holds it', { cpu: 1, memoryMb: 512 }, undefined, 'small'],
    ['a task too big for small goes to the tighter of the rest', { cpu: 4, memoryMb: 4096 }, undefined, 'licensed'],
    ['a cpu-only task avoids the gpu pool when another fits', { cpu: 8, memoryMb: 8192 }, undefined, 'large'],
    ['a gpu task can only go to the gpu pool', { cpu: 1, gpu: 1 }, undefined, 'gpu'],
    ['a custom counter needs a pool offering it', { cpu: 1, custom: { licenses: 1 } }, undefined, 'licensed'],
    ['a selector narrows the candidates', { cpu: 1 }, { zone: 'b' }, 'large'],
    ['a selector matching several still picks the tightest', { cpu: 1 }, { zone: 'a' }, 'small'],
  ])('%s', (_name, need, selector, expected) => {
    const placement = choosePool({ taskId: 't', resources: spec(need), ...(selector ? { selector } : {}) }, pools);
    expect(placement.pool?.name).toBe(expected);
  });

  it('breaks a tie in fit by the shorter backlog, then by name', () => {
    const twins = [pool('b', { cpu: 4 }), pool('a', { cpu: 4 })];
    const request = { taskId: 't', resources: spec({ cpu: 1 }) };
    expect(rankPools(request, twins).map((p) => p.name)).toEqual(['a', 'b']);
    expect(rankPools(request, twins, { backlog: { a: 10, b: 2 } }).map((p) => p.name)).toEqual(['b', 'a']);
  });

  it('honours a task that names its pool, and refuses one that does not fit it', () => {
    expect(choosePool({ taskId: 't', resources: spec({ cpu: 1 }), pool: 'large' }, pools).pool?.name).toBe('large');
    const tooBig = choosePool({ taskId: 't', resources: spec({ cpu: 4 }), pool: 'small' }, pools);
    expect(tooBig.issue).toMatchObject({ code: 'NO_POOL_FITS', field: 'tasks.t.resources' });
    expect(tooBig.issue?.message).toContain("its pool 'small' does not fit: small offers cpu=2,memoryMb=4096,gpu=0");
  });

  it('names an unknown pool', () => {
    const placement = choosePool({ taskId: 't', resources: spec({ cpu: 1 }), pool: 'nope' }, pools);
    expect(placement.issue).toMatchObject({ code: 'UNKNOWN_POOL', field: 'tasks.t.pool' });
    expect(placement.issue?.message).toContain('pools: small, large, gpu, licensed');
  });

  it('explains NO_POOL_FITS with the need and every pool’s capacity and shortfall', () => {
    const placement = choosePool({ taskId: 'train', resources: spec({ cpu: 32, gpu: 2 }) }, pools);
    expect(placement.issue?.code).toBe('NO_POOL_FITS');
    expect(placement.issue?.message).toBe(
      "task 'train' needs cpu=32,memoryMb=0,gpu=2 but no pool fits: " +
        'small offers cpu=2,memoryMb=4096,gpu=0 (short of cpu by 30, gpu by 2); ' +
        'large offers cpu=16,memoryMb=65536,gpu=0 (short of cpu by 16, gpu by 2); ' +
        'gpu offers cpu=8,memoryMb=32768,gpu=1 (short of cpu by 24, gpu by 1); ' +
        'licensed offers cpu=4,memoryMb=8192,gpu=0,licenses=2 (short of cpu by 28, gpu by 2). ' +
        'Lower the task’s resources, add or enlarge a pool, or relax its selector',
    );
  });

  it('counts slot-pool counters against the slot pool, not a worker', () => {
    const slotPools = [{ name: 'db', slots: 2 }];
    const request = { taskId: 't', resources: spec({ cpu: 1, custom: { db: 1 } }) };
    expect(choosePool(request, pools).issue?.code).toBe('NO_POOL_FITS');
    expect(choosePool(request, pools, { slotPools }).pool?.name).toBe('small');
    const greedy = { taskId: 't', resources: spec({ cpu: 1, custom: { db: 3 } }) };
    expect(choosePool(greedy, pools, { slotPools }).issue).toMatchObject({
      code: 'SLOT_POOL_TOO_SMALL',
      field: 'tasks.t.resources.db',
    });
  });

  it('explains a selector no pool matches', () => {
    const placement = choosePool({ taskId: 't', resources: spec({ cpu: 1 }), selector: { zone: 'c' } }, pools);
    expect(placement.issue?.message).toContain('on a pool labelled zone=c but no pool fits');
    expect(placement.issue?.message).toContain('small offers cpu=2,memoryMb=4096,gpu=0 (label zone is a, not c)');
    expect(placement.issue?.message).toContain('licensed offers cpu=4,memoryMb=8192,gpu=0,licenses=2 (no label zone)');
  });
});

function task(id: string, resources: Partial<ResourceSpec>, extra: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id,
    operator: 'empty',
    with: {},
    upstream: [],
    triggerRule: 'all_success',
    retry: DEFAULT_RETRY,
    resources: spec(resources),
    priorityWeight: 1,
    dependsOnPast: false,
    branch: false,
    outlets: [],
    ...extra,
  };
}

function dag(tasks: TaskSpec[]): DagSpec {
  return {
    id: 'ml',
    tags: [],
    catchup: false,
    maxActiveRuns: 1,
    maxActiveTasks: 16,
    params: {},
    tasks,
    sourceFile: 'dags/ml.yaml',
  };
}

describe('placeDag', () => {
  it('gives every task a pool', () => {
    const placed = placeDag(dag([task('load', { cpu: 1 }), task('train', { cpu: 2, gpu: 1 })]), pools);
    expect(placed.issues).toEqual([]);
    expect(Object.fromEntries(placed.pools)).toEqual({ load: 'small', train: 'gpu' });
  });

  it('reports every task that fits no pool, as a load-time error naming the file and field', () => {
    const spec = dag([task('ok', { cpu: 1 }), task('huge', { cpu: 64 }), task('lost', { cpu: 1 }, { pool: 'x' })]);
    const placed = placeDag(spec, pools);
    expect(placed.issues.map((issue) => [issue.code, issue.taskId])).toEqual([
      ['NO_POOL_FITS', 'huge'],
      ['UNKNOWN_POOL', 'lost'],
    ]);
    expect(() => assertDagPlaceable(spec, pools)).toThrow(
      /^dags\/ml\.yaml: NO_POOL_FITS tasks\.huge\.resources: task 'huge' needs cpu=64/,
    );
  });

  it('applies selectors given by task id', () => {
    const placed = placeDag(dag([task('t', { cpu: 1 })]), pools, { selectors: { t: { zone: 'b' } } });
    expect(placed.pools.get('t')).toBe('large');
  });
});
