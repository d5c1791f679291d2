import type { ResourceSpec } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { ResourceLedger } from '../../src/resources/resource-ledger.js';

function spec(cpu: number, memoryMb = 0, gpu = 0, custom: Record<string, number> = {}): ResourceSpec {
  return { cpu, memoryMb, gpu, custom };
}

describe('ResourceLedger', () => {
  it('hands out and takes back on every dimension, tracking each dimension peak', () => {
    const ledger = new ResourceLedger(spec(4, 1024, 1, { licenses: 2 }), 'test');
    ledger.reserve(spec(3, 256, 0, { licenses: 1 }));
    expect(ledger.free).toEqual(spec(1, 768, 1, { licenses: 1 }));
    expect(ledger.fitsFree(spec(2))).toBe(false);
    expect(ledger.fitsFree(spec(1, 768, 1, { licenses: 1 }))).toBe(true);
    ledger.release(spec(3, 256, 0, { licenses: 1 }));
    ledger.reserve(spec(1, 1024, 1));
    expect(ledger.inUse()).toEqual(spec(1, 1024, 1, { licenses: 0 }));
    expect(ledger.peakInUse()).toEqual(spec(3, 1024, 1, { licenses: 1 }));
  });

  it('tells a need too big for the whole capacity from one that waits for a release', () => {
    const ledger = new ResourceLedger(spec(2), 'test');
    ledger.reserve(spec(2));
    expect(ledger.fitsCapacity(spec(2))).toBe(true);
    expect(ledger.fitsFree(spec(2))).toBe(false);
    expect(ledger.fitsCapacity(spec(3))).toBe(false);
  });

  it('does not drift on fractional cpu', () => {
    const ledger = new ResourceLedger(spec(1), 'test');
    for (let i = 0; i < 10; i++) ledger.reserve(spec(0.1));
    expect(ledger.free.cpu).toBe(0);
    for (let i = 0; i < 10; i++) ledger.release(spec(0.1));
    expect(ledger.inUse().cpu).toBe(0);
  });

  it('refuses an invalid capacity with BAD_CAPACITY naming its owner', () => {
    expect(() => new ResourceLedger(spec(-1), 'worker')).toThrow(/worker capacity has cpu=-1/);
  });

  it('keeps its own copy of the capacity', () => {
    const capacity = spec(2, 0, 0, { licenses: 1 });
    const ledger = new ResourceLedger(capacity, 'test');
    capacity.custom.licenses = 9;
    expect(ledger.capacity.custom.licenses).toBe(1);
  });
});
