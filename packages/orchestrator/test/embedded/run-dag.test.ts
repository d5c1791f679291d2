import { defineDag, isBatutaError, MemoryStateStore } from '@batuta/scheduler';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { LocalExecutor, runDag } from '../../src/index.js';

const scoring = defineDag(
  {
    id: 'scoring',
    params: z.object({ partitions: z.number().int().min(1).default(3), label: z.string().default('x') }),
  },
  (dag) => {
    const parts = dag.task('parts', {
      run: ({ params }) => Array.from({ length: params.partitions }, (_, i) => i),
    });
    const score = dag.map('score', { upstream: [parts], over: { part: parts }, run: ({ item }) => item.part * 10 });
    const choose = dag.branch('choose', {
      upstream: [score],
      targets: ['big', 'small'],
      run: ({ inputs }) => (inputs.score.length > 2 ? 'big' : 'small'),
    });
    const big = dag.task('big', {
      upstream: [choose, score],
      run: ({ inputs, params }) => `${params.label}:${inputs.score.join(',')}`,
    });
    const small = dag.task('small', { upstream: [choose], run: () => 'small' });
    return [parts, score, choose, big, small];
  },
);

describe('runDag', () => {
  it('runs a DAG in this process and returns outputs keyed by task id, mapped tasks as lists', async () => {
    const result = await runDag(scoring, { conf: { partitions: 4 } });
    expect(result.state).toBe('success');
    expect(result.outputs.parts).toEqual([0, 1, 2, 3]);
    expect(result.outputs.score).toEqual([0, 10, 20, 30]);
    expect(result.outputs.big).toBe('x:0,10,20,30');
    expect(result.outputs).not.toHaveProperty('small');
    expect(result.tasks.find((t) => t.taskId === 'small')?.state).toBe('skipped');
    expectTypeOf(result.outputs.score).toEqualTypeOf<number[] | undefined>();
    expectTypeOf(result.outputs.big).toEqualTypeOf<string | undefined>();
  });

  it('fills params defaults from the schema', async () => {
    const result = await runDag(scoring);
    expect(result.outputs.score).toEqual([0, 10, 20]);
    expect(result.outputs.big).toBe('x:0,10,20');
  });

  it('makes a wrong conf type and an unknown output key compile errors', async () => {
    // @ts-expect-error: partitions is a number
    const refused = runDag(scoring, { conf: { partitions: 'four' } });
    await expect(refused).rejects.toSatisfy((error) => isBatutaError(error, 'BAD_PARAMS'));
    const result = await runDag(scoring, { conf: { partitions: 1 } });
    // @ts-expect-error: no task 'scor'
    expect(result.outputs.scor).toBeUndefined();
    expect(result.outputs.small).toBe('small');
  });

  it('reports failed tasks with their errors and uses a given store and executor factory', async () => {
    const failing = defineDag({ id: 'failing' }, (dag) => [
      dag.task('boom', {
        run: (): number => {
          throw new Error('no data');
        },
      }),
    ]);
    const store = new MemoryStateStore();
    const result = await runDag(failing, {
      store,
      executor: (invoke) => new LocalExecutor({ capacity: { cpu: 1, memoryMb: 512, gpu: 0, custom: {} }, invoke }),
    });
    expect(result.state).toBe('failed');
    expect(result.errors.boom?.message).toBe('no data');
    expect(await store.getRun(result.runId)).toMatchObject({ state: 'failed' });
    await store.close();
  });

  it('runs a DAG defined statement by statement, outputs typed unknown', async () => {
    const plain = defineDag({ id: 'plain' });
    plain.task('one', { run: () => 1 });
    const result = await runDag(plain);
    expect(result.outputs).toEqual({ one: 1 });
    expectTypeOf(result.outputs.one).toEqualTypeOf<unknown>();
  });
});
