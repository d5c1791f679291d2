import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineDag } from '../../src/index.js';

describe('typed DAGs (compile-time checks)', () => {
  it('types params from the zod schema in every task', () => {
    defineDag(
      { id: 'typed_params', params: z.object({ size: z.number().int().default(100), name: z.string() }) },
      (dag) => {
        const a = dag.task('a', {
          run: ({ params }) => {
            expectTypeOf(params).toEqualTypeOf<{ size: number; name: string }>();
            return params.size;
          },
        });
        // @ts-expect-error: size is a number, not a string
        dag.task('b', { upstream: [a], run: ({ params }): string => params.size });
        return [a];
      },
    );
  });

  it('types the outputs a builder returns, mapped tasks as arrays', () => {
    const dag = defineDag({ id: 'typed_outputs' }, (d) => {
      const list = d.task('list', { run: () => [1, 2, 3] });
      const square = d.map('square', { over: { n: list }, run: ({ item }) => item.n * item.n });
      const total = d.task('total', {
        upstream: [square],
        run: ({ inputs }) => inputs.square.reduce((a, b) => a + b, 0),
      });
      return [list, square, total];
    });
    type Outputs = NonNullable<typeof dag.outputs>;
    expectTypeOf<Outputs>().toEqualTypeOf<{ list: number[]; square: number[]; total: number }>();
    // @ts-expect-error: no task 'totl'
    type _Missing = Outputs['totl'];
  });

  it('checks a branch return value and its downstreams against its targets', () => {
    defineDag({ id: 'typed_branch' }, (dag) => {
      const choose = dag.branch('choose', {
        targets: ['small', 'large'],
        // @ts-expect-error: 'huge' is not a target
        run: () => 'huge',
      });
      const ok = dag.branch('ok', {
        targets: ['small', 'large'],
        run: ({ inputs }) => (Object.keys(inputs).length > 0 ? 'small' : ['large']),
      });
      const small = dag.task('small', { upstream: [choose, ok], run: () => 1 });
      // @ts-expect-error: 'medium' is not in the targets of branch 'choose'
      dag.task('medium', { upstream: [choose], run: () => 2 });
      return [small];
    });
  });
});
