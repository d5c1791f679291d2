import type { ResourceSpec } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import {
  type AdmissionMemory,
  admitFetched,
  mayFetch,
  NO_ADMISSION_MEMORY,
} from '../../src/resources/admission-policy.js';

function cpu(amount: number, custom: Record<string, number> = {}): ResourceSpec {
  return { cpu: amount, memoryMb: 0, gpu: 0, custom };
}

const capacity = cpu(4);

describe('admitFetched', () => {
  it.each([
    ['a job that fits what is free starts', cpu(2), cpu(2), 'start'],
    ['a job that fits the worker but not now goes back', cpu(3), cpu(2), 'hand-back'],
    ['a job bigger than the worker can never run here', cpu(5), cpu(4), 'too-big'],
    ['a custom counter the worker lacks is too big', cpu(1, { licenses: 1 }), cpu(4), 'too-big'],
  ] as const)('%s', (_, need, free, expected) => {
    expect(admitFetched(NO_ADMISSION_MEMORY, need, free, capacity).admission).toBe(expected);
  });

  it('remembers a handed-back job as the blocked head until a job starts', () => {
    const blocked = admitFetched(NO_ADMISSION_MEMORY, cpu(3), cpu(1), capacity).memory;
    expect(blocked.blockedNeed).toEqual(cpu(3));
    const started = admitFetched(blocked, cpu(1), cpu(1), capacity).memory;
    expect(started.blockedNeed).toBeUndefined();
  });

  it('keeps the blocked head when a too-big job comes by', () => {
    const blocked = admitFetched(NO_ADMISSION_MEMORY, cpu(3), cpu(1), capacity).memory;
    expect(admitFetched(blocked, cpu(9), cpu(1), capacity).memory.blockedNeed).toEqual(cpu(3));
  });

  it('keeps each dimension smallest need seen, too-big jobs included', () => {
    let memory: AdmissionMemory = NO_ADMISSION_MEMORY;
    memory = admitFetched(memory, { cpu: 2, memoryMb: 100, gpu: 0, custom: {} }, cpu(4), capacity).memory;
    memory = admitFetched(memory, { cpu: 9, memoryMb: 50, gpu: 0, custom: {} }, cpu(4), capacity).memory;
    expect(memory.smallestNeed).toEqual({ cpu: 2, memoryMb: 50, gpu: 0, custom: {} });
  });
});

describe('mayFetch', () => {
  it('fetches when it has seen nothing yet', () => {
    expect(mayFetch(NO_ADMISSION_MEMORY, cpu(0), 3)).toBe(true);
  });

  it('fetches only while the smallest job seen fits', () => {
    const memory: AdmissionMemory = { blockedNeed: undefined, smallestNeed: cpu(1) };
    expect(mayFetch(memory, cpu(1), 0)).toBe(true);
    expect(mayFetch(memory, cpu(0.5), 0)).toBe(false);
  });

  it('counts each fetch under way as the smallest job seen', () => {
    const memory: AdmissionMemory = { blockedNeed: undefined, smallestNeed: cpu(1) };
    expect(mayFetch(memory, cpu(3), 2)).toBe(true);
    expect(mayFetch(memory, cpu(3), 3)).toBe(false);
  });

  it('waits for the blocked head to fit, however small the other jobs', () => {
    const memory: AdmissionMemory = { blockedNeed: cpu(4), smallestNeed: cpu(1) };
    expect(mayFetch(memory, cpu(3), 0)).toBe(false);
    expect(mayFetch(memory, cpu(4), 0)).toBe(true);
  });
});
