// Expanding a mapped task over its sources' outputs (the part the engine shares with `tasks test`):
// lists in key order, the cross product's size, and the item each map index gets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MapSpec } from '../../src/dag/model.js';
import { expandOver } from '../../src/run/expansion.js';
import { mapItem } from '../../src/run/mapped-group.js';

const spec = (over: MapSpec['over'], maxLength = 1024): MapSpec => ({ over, maxLength });

describe('expandOver', () => {
  it.each([
    ['one upstream list', spec({ n: { fromTask: 'list' } }), { list: [1, 2, 3] }, 'expand', 3],
    [
      'a cross product of a literal and an upstream list',
      spec({ a: { values: [1, 2] }, b: { fromTask: 'list' } }),
      { list: ['x', 'y', 'z'] },
      'expand',
      6,
    ],
    ['an empty list: skipped', spec({ n: { fromTask: 'list' } }), { list: [] }, 'mark', 0],
    ['a value that is not a list', spec({ n: { fromTask: 'list' } }), { list: 'abc' }, 'fail', undefined],
    ['over maxLength', spec({ n: { fromTask: 'list' } }, 2), { list: [1, 2, 3] }, 'fail', undefined],
  ])('%s', (_name, map, outputs, kind, count) => {
    const expansion = expandOver('each', map, (id) => (outputs as Record<string, unknown>)[id]);
    expect(expansion.kind).toBe(kind);
    if (expansion.kind === 'expand' || expansion.kind === 'mark') expect(expansion.count).toBe(count);
  });

  it('names the source and the value when it is not a list', () => {
    const expansion = expandOver('each', spec({ n: { fromTask: 'list' } }), () => null);
    expect(expansion).toMatchObject({
      kind: 'fail',
      code: 'MAP_SOURCE_NOT_LIST',
      message: expect.stringContaining("maps 'n' over the output of 'list', which is null, not a list"),
    });
  });
});

describe('mapItem', () => {
  it('enumerates the cross product once, first argument varying slowest', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), (lengths) => {
        const lists = lengths.map((length, k) => Array.from({ length }, (_, i) => `${k}:${i}`));
        const names = lists.map((_, k) => `a${k}`);
        const count = lengths.reduce((x, y) => x * y, 1);
        const items = Array.from({ length: count }, (_, m) => JSON.stringify(mapItem(names, lists, m)));
        expect(new Set(items).size).toBe(count);
        expect(mapItem(names, lists, 0)).toEqual(Object.fromEntries(names.map((name, k) => [name, lists[k]![0]])));
        if (count > 1 && lengths[0]! > 1) expect(mapItem(names, lists, count - 1)[names[0]!]).toBe(lists[0]!.at(-1));
      }),
    );
  });
});
