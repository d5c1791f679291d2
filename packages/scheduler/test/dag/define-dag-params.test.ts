import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DagValidationError, defineDag, isBatutaError, resolveParams } from '../../src/index.js';

describe('defineDag with a zod params schema', () => {
  const dag = defineDag({
    id: 'zod_params',
    params: z.object({
      size: z.number().int().min(1).max(10).default(3).describe('rows per batch'),
      mode: z.enum(['fast', 'exact']),
    }),
  });
  dag.task('only', { run: ({ params }) => params.size });

  it('describes the schema as param specs for listings and warnings', () => {
    expect(dag.spec.params).toEqual({
      size: { type: 'integer', default: 3, description: 'rows per batch', minimum: 1, maximum: 10 },
      mode: { type: 'string', enum: ['fast', 'exact'], required: true },
    });
    expect(dag.spec.paramsSchema).toBeDefined();
  });

  it('fills defaults and keeps unknown keys when the conf fits the schema', () => {
    const conf = resolveParams(dag.spec.params, { mode: 'fast', extra: 1 }, 'conf', dag.spec.paramsSchema);
    expect(conf).toEqual({ mode: 'fast', size: 3, extra: 1 });
  });

  it('refuses a conf the schema rejects with BAD_PARAMS naming the field', () => {
    let caught: unknown;
    try {
      resolveParams(dag.spec.params, { mode: 'slow', size: 20 }, 'conf', dag.spec.paramsSchema);
    } catch (error) {
      caught = error;
    }
    expect(isBatutaError(caught, 'BAD_PARAMS')).toBe(true);
    expect((caught as Error).message).toMatch(/conf\.size: .*10/);
    expect((caught as Error).message).toMatch(/conf\.mode: /);
  });
});

describe('branch targets', () => {
  it('accepts a branch whose targets are exactly its direct downstreams', () => {
    const dag = defineDag({ id: 'branch_ok' }, (d) => {
      const choose = d.branch('choose', { targets: ['a', 'b'], run: () => 'a' });
      return [d.task('a', { upstream: [choose], run: () => 1 }), d.task('b', { upstream: [choose], run: () => 2 })];
    });
    expect(dag.spec.tasks.map((t) => t.id)).toEqual(['choose', 'a', 'b']);
  });

  it('refuses a target that is not a direct downstream', () => {
    const dag = defineDag({ id: 'branch_stray' }, (d) => {
      const choose = d.branch('choose', { targets: ['a', 'b'], run: () => 'a' });
      return [d.task('a', { upstream: [choose], run: () => 1 })];
    });
    expect(() => dag.spec).toThrow(DagValidationError);
    expect(() => dag.spec).toThrow(/branch 'choose' targets .*'b' not a direct downstream/);
  });
});
