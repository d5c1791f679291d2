import type { ResourceSpec } from '@batuta/scheduler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrchestratorError } from '../../src/errors.js';
import {
  addResources,
  fits,
  formatResources,
  invalidResourceDimension,
  maxResources,
  minResources,
  parseCapacity,
  resourcesEqual,
  scaleResources,
  subtractResources,
  zeroResources,
} from '../../src/resources/resources.js';

function spec(cpu: number, memoryMb = 0, gpu = 0, custom: Record<string, number> = {}): ResourceSpec {
  return { cpu, memoryMb, gpu, custom };
}

/** Amounts with up to 3 decimals, the precision people write (0.5 cpu, 0.125 gpu). */
const amount = fc.integer({ min: 0, max: 1_000_000 }).map((milli) => milli / 1000);
const counterName = fc.constantFrom('licenses', 'tokens', 'slots.db', 'fpga');
const resourceSpec = fc.record({
  cpu: amount,
  memoryMb: amount,
  gpu: amount,
  custom: fc.dictionary(counterName, amount, { maxKeys: 3 }),
});

describe('fits', () => {
  it.each([
    ['equal needs and free', spec(4, 1024, 1), spec(4, 1024, 1), true],
    ['zero needs in zero free', spec(0), zeroResources(), true],
    ['fractional cpu', spec(0.5), spec(0.5), true],
    ['cpu over', spec(4.5), spec(4, 9999, 9), false],
    ['memory over', spec(1, 2048), spec(8, 2047, 1), false],
    ['gpu over', spec(1, 0, 1), spec(8, 9999, 0), false],
    ['custom counter covered', spec(1, 0, 0, { licenses: 2 }), spec(1, 0, 0, { licenses: 2 }), true],
    ['custom counter over', spec(1, 0, 0, { licenses: 3 }), spec(1, 0, 0, { licenses: 2 }), false],
    ['custom counter absent from free counts as 0', spec(1, 0, 0, { licenses: 1 }), spec(8), false],
    ['a zero custom need fits anywhere', spec(1, 0, 0, { licenses: 0 }), spec(8), true],
    ['free counters the need does not name are ignored', spec(1), spec(1, 0, 0, { licenses: 5 }), true],
  ])('%s', (_, need, free, expected) => {
    expect(fits(need, free)).toBe(expected);
  });
});

describe('addResources and subtractResources', () => {
  it('adds and subtracts every dimension, custom counters as a union', () => {
    const a = spec(2, 512, 1, { licenses: 1 });
    const b = spec(0.5, 256, 0, { tokens: 3 });
    expect(addResources(a, b)).toEqual(spec(2.5, 768, 1, { licenses: 1, tokens: 3 }));
    expect(subtractResources(a, b)).toEqual(spec(1.5, 256, 1, { licenses: 1, tokens: -3 }));
  });

  it('does not drift on fractional cpu', () => {
    let free = spec(1);
    for (let i = 0; i < 10; i++) free = subtractResources(free, spec(0.1));
    expect(free.cpu).toBe(0);
    let used = zeroResources();
    for (let i = 0; i < 3; i++) used = addResources(used, spec(0.1));
    expect(used.cpu).toBe(0.3);
    expect(fits(spec(0.3), used)).toBe(true);
  });

  it('leaves its arguments unchanged', () => {
    const a = spec(1, 1, 1, { licenses: 1 });
    const b = spec(1, 1, 1, { licenses: 1 });
    addResources(a, b);
    subtractResources(a, b);
    expect(a).toEqual(spec(1, 1, 1, { licenses: 1 }));
  });

  it('round-trips: (a + b) - b equals a, and the sum fits b', () => {
    fc.assert(
      fc.property(resourceSpec, resourceSpec, (a, b) => {
        const sum = addResources(a, b);
        expect(resourcesEqual(subtractResources(sum, b), a)).toBe(true);
        expect(fits(b, sum)).toBe(true);
        expect(fits(a, sum)).toBe(true);
      }),
    );
  });

  it('takes any series of needs out of a capacity and puts them back to exactly the capacity', () => {
    fc.assert(
      fc.property(resourceSpec, fc.array(resourceSpec, { maxLength: 20 }), (capacity, needs) => {
        let free = capacity;
        for (const need of needs) free = subtractResources(free, need);
        for (const need of [...needs].reverse()) free = addResources(free, need);
        expect(resourcesEqual(free, capacity)).toBe(true);
      }),
    );
  });
});

describe('resourcesEqual and maxResources', () => {
  it('treats an absent custom counter as 0', () => {
    expect(resourcesEqual(spec(1, 0, 0, { licenses: 0 }), spec(1))).toBe(true);
    expect(resourcesEqual(spec(1, 0, 0, { licenses: 1 }), spec(1))).toBe(false);
    expect(resourcesEqual(spec(1), spec(1, 1))).toBe(false);
  });

  it('takes each dimension on its own', () => {
    expect(maxResources(spec(4, 100, 0, { a: 1 }), spec(1, 200, 1, { b: 2 }))).toEqual(spec(4, 200, 1, { a: 1, b: 2 }));
  });
});

describe('invalidResourceDimension', () => {
  it.each([
    [spec(-1), 'cpu=-1'],
    [spec(1, Number.NaN), 'memoryMb=NaN'],
    [spec(1, 0, Number.POSITIVE_INFINITY), 'gpu=Infinity'],
    [spec(1, 0, 0, { licenses: -2 }), 'licenses=-2'],
  ])('names the bad dimension of %o', (value, fragment) => {
    expect(invalidResourceDimension(value)).toContain(fragment);
  });

  it('accepts a valid spec', () => {
    expect(invalidResourceDimension(spec(0.5, 512, 1, { licenses: 2 }))).toBeUndefined();
  });
});

describe('parseCapacity', () => {
  it.each([
    ['cpu=4,memoryMb=8192,gpu=1,licenses=2', spec(4, 8192, 1, { licenses: 2 })],
    ['cpu=0.5', spec(0.5)],
    [' cpu = 2 , memoryMb = 1024 ', spec(2, 1024)],
    ['gpu=2', spec(0, 0, 2)],
    ['tokens=1e3,slots.db=3,fpga_x-1=1', spec(0, 0, 0, { tokens: 1000, 'slots.db': 3, 'fpga_x-1': 1 })],
    ['cpu=.25', spec(0.25)],
  ])('reads %s', (text, expected) => {
    expect(parseCapacity(text)).toEqual(expected);
  });

  it.each([
    ['', 'it is empty'],
    ['  ', 'it is empty'],
    ['cpu=4,', 'empty entry'],
    ['cpu', "'cpu' is not name=amount"],
    ['cpu=abc', "'abc' is not a non-negative number for cpu"],
    ['cpu=-1', "'-1' is not a non-negative number for cpu"],
    ['cpu=', "'' is not a non-negative number for cpu"],
    ['cpu=0x10', "'0x10' is not a non-negative number"],
    ['cpu=1,cpu=2', "'cpu' is given twice"],
    ['=4', "'' is not a resource name"],
    ['9lives=1', "'9lives' is not a resource name"],
    ['cpu=1e999', 'too large'],
  ])('rejects %j with BAD_CAPACITY saying %s', (text, fragment) => {
    let thrown: unknown;
    try {
      parseCapacity(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OrchestratorError);
    expect(thrown).toMatchObject({ code: 'BAD_CAPACITY' });
    expect((thrown as Error).message).toContain(fragment);
    expect((thrown as Error).message).toContain("expected e.g. 'cpu=4,memoryMb=8192,gpu=1,licenses=2'");
  });
});

describe('formatResources', () => {
  it('writes every built-in dimension and custom counters sorted by name', () => {
    expect(formatResources(spec(4, 8192, 1, { tokens: 3, licenses: 2 }))).toBe(
      'cpu=4,memoryMb=8192,gpu=1,licenses=2,tokens=3',
    );
    expect(formatResources(zeroResources())).toBe('cpu=0,memoryMb=0,gpu=0');
  });

  it('is read back by parseCapacity', () => {
    fc.assert(
      fc.property(resourceSpec, (value) => {
        expect(parseCapacity(formatResources(value))).toEqual(value);
      }),
    );
  });
});

describe('minResources and scaleResources', () => {
  it('takes each dimension smaller amount; a counter on one side only drops out', () => {
    expect(minResources(spec(2, 512, 1, { licenses: 3, tokens: 1 }), spec(4, 256, 0, { licenses: 1 }))).toEqual(
      spec(2, 256, 0, { licenses: 1 }),
    );
  });

  it('scales every dimension without drift', () => {
    expect(scaleResources(spec(0.1, 256, 1, { licenses: 2 }), 3)).toEqual(spec(0.3, 768, 3, { licenses: 6 }));
  });
});
