// Which instance `batuta tasks test --map-index` runs: the pure resolution from a task's map spec and
// its sources' outputs, table-driven; the exit code each refusal maps to follows from its error class.
import type { MapSpec } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { CliError, NotFoundError, UsageError } from '../src/cli-error.js';
import { testInstance } from '../src/commands/mapped-instance.js';

const overList: MapSpec = { over: { n: { fromTask: 'list' } }, maxLength: 1024 };
const literal: MapSpec = {
  over: { region: { values: ['eu', 'us'] }, day: { values: ['mon', 'tue', 'wed'] } },
  maxLength: 1024,
};
const outputs = (values: Record<string, unknown>) => (id: string) => values[id] ?? null;

describe('testInstance', () => {
  it.each([
    ['an upstream list: the element at the index', overList, 1, { list: [5, 6, 7] }, { n: 6 }, 3],
    ['literal lists: the cross product, first list slowest', literal, 4, {}, { region: 'us', day: 'tue' }, 6],
    ['a mapped source: its aggregate list', overList, 0, { list: [null, 'b'] }, { n: null }, 2],
  ])('runs %s', (_name, map, mapIndex, values, item, count) => {
    expect(testInstance({ id: 'each', map }, mapIndex, outputs(values), 'r1')).toEqual({ mapIndex, item, count });
  });

  it('runs an unmapped task as map index -1 with no item', () => {
    expect(testInstance({ id: 'plain' }, undefined, outputs({}), undefined)).toEqual({
      mapIndex: -1,
      item: undefined,
      count: undefined,
    });
  });

  it.each([
    [
      'a mapped task without a map index',
      overList,
      undefined,
      { list: [1, 2] },
      UsageError,
      'its map indexes in run r1: 0..1',
    ],
    ['a map index of -1 on a mapped task', literal, -1, {}, UsageError, 'its map indexes in run r1: 0..5'],
    [
      'an index past the expansion',
      overList,
      2,
      { list: [1, 2] },
      NotFoundError,
      'expands into 2 instances (map indexes: 0..1)',
    ],
    [
      'any index of an empty expansion',
      overList,
      0,
      { list: [] },
      NotFoundError,
      'expands into 0 instances (map indexes: none',
    ],
    ['a source that is not a list', overList, 0, { list: { a: 1 } }, CliError, "maps 'n' over the output of 'list'"],
    [
      'an expansion over map.maxLength',
      { ...overList, maxLength: 2 },
      0,
      { list: [1, 2, 3] },
      CliError,
      'over the cap of 2',
    ],
  ])('refuses %s', (_name, map, mapIndex, values, errorClass, message) => {
    const resolve = () => testInstance({ id: 'each', map }, mapIndex, outputs(values), 'r1');
    expect(resolve).toThrow(errorClass);
    expect(resolve).toThrow(message);
  });

  it('refuses a map index of an unmapped task as a usage error', () => {
    expect(() => testInstance({ id: 'plain' }, 0, outputs({}), undefined)).toThrow(UsageError);
  });

  it('hints at --from-run only when the outputs were stubbed', () => {
    expect(() => testInstance({ id: 'each', map: overList }, 0, outputs({}), undefined)).toThrow(
      'its upstream outputs are null without --from-run RUN',
    );
  });
});
