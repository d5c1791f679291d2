import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityFifo, type QueueSlot } from '../../src/local/priority-fifo.js';

describe('PriorityFifo', () => {
  it('serves higher priority first and first-in first-out within a priority', () => {
    const queue = new PriorityFifo<string>();
    for (const [item, priority] of [
      ['low-1', 1],
      ['high-1', 10],
      ['mid-1', 5],
      ['high-2', 10],
      ['low-2', 1],
      ['negative', -3],
    ] as const) {
      queue.push(item, priority);
    }
    const order: string[] = [];
    for (let slot = queue.first(); slot; slot = queue.first()) {
      order.push(slot.item);
      queue.remove(slot);
    }
    expect(order).toEqual(['high-1', 'high-2', 'mid-1', 'low-1', 'low-2', 'negative']);
    expect(queue.size).toBe(0);
  });

  it('removes from the middle, ignores a second removal and searches behind the head within a budget', () => {
    const queue = new PriorityFifo<string>();
    const slots = ['a', 'b', 'c', 'd', 'e'].map((item) => queue.push(item, 0));
    queue.remove(slots[1]!);
    queue.remove(slots[1]!);
    expect(queue.size).toBe(4);
    const items: string[] = [];
    queue.forEach((item) => {
      items.push(item);
    });
    expect(items).toEqual(['a', 'c', 'd', 'e']);
    expect(queue.findBehindFirst(10, () => true)?.item).toBe('c');
    expect(queue.findBehindFirst(10, (item) => item !== 'c')?.item).toBe('d');
    expect(queue.findBehindFirst(10, (item) => item === 'a')).toBeUndefined();
    // a, b (dead), c, d: the budget counts dead slots too, so 'e' is out of reach.
    expect(queue.findBehindFirst(4, (item) => item === 'e')).toBeUndefined();
    expect(queue.findBehindFirst(5, (item) => item === 'e')?.item).toBe('e');
    expect(queue.drain()).toEqual(['a', 'c', 'd', 'e']);
    expect(queue.first()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('behaves like a sorted list under any mix of pushes and removals', () => {
    type Op = { kind: 'push'; priority: number } | { kind: 'removeFirst' } | { kind: 'removeAt'; index: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -2, max: 3 }) }),
      fc.constant({ kind: 'removeFirst' as const }),
      fc.record({ kind: fc.constant('removeAt' as const), index: fc.nat(50) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const queue = new PriorityFifo<number>();
        let model: Array<{ id: number; priority: number; slot: QueueSlot<number> }> = [];
        let nextId = 0;
        for (const step of ops) {
          if (step.kind === 'push') {
            const id = nextId++;
            model.push({ id, priority: step.priority, slot: queue.push(id, step.priority) });
            // Stable sort keeps insertion order within a priority.
            model.sort((a, b) => b.priority - a.priority);
          } else if (step.kind === 'removeFirst') {
            const first = queue.first();
            expect(first?.item).toBe(model[0]?.id);
            if (first) queue.remove(first);
            model = model.slice(1);
          } else if (model.length > 0) {
            const victim = model[step.index % model.length]!;
            queue.remove(victim.slot);
            model = model.filter((entry) => entry !== victim);
          }
          expect(queue.size).toBe(model.length);
          expect(queue.first()?.item).toBe(model[0]?.id);
        }
        const items: number[] = [];
        queue.forEach((item) => {
          items.push(item);
        });
        expect(items).toEqual(model.map((e) => e.id));
        expect(queue.findBehindFirst(Number.POSITIVE_INFINITY, () => true)?.item).toBe(model[1]?.id);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps its order across compaction of a long queue', () => {
    const queue = new PriorityFifo<number>();
    for (let i = 0; i < 5000; i++) queue.push(i, 0);
    for (let i = 0; i < 3000; i++) queue.remove(queue.first()!);
    for (let i = 5000; i < 6000; i++) queue.push(i, 0);
    expect(queue.first()?.item).toBe(3000);
    expect(queue.size).toBe(3000);
    expect(queue.drain()).toEqual(Array.from({ length: 3000 }, (_, i) => 3000 + i));
  });
});
