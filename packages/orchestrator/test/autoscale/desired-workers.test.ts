// Desired workers per pool: tables over backlogs and declared needs.
import type { ResourceSpec } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { desiredWorkers, type PoolBacklog, packedWorkers } from '../../src/autoscale/desired-workers.js';
import type { WorkerPool } from '../../src/pools/worker-pool.js';

const need = (cpu: number, memoryMb = 0, gpu = 0): ResourceSpec => ({ cpu, memoryMb, gpu, custom: {} });
const times = (count: number, spec: ResourceSpec) => Array.from({ length: count }, () => spec);
const cpu4: WorkerPool = {
  name: 'cpu',
  capacity: { cpu: 4, memoryMb: 8192, gpu: 0, custom: {} },
  labels: {},
  minWorkers: 1,
  maxWorkers: 10,
};

describe('desiredWorkers', () => {
  it.each<[string, PoolBacklog, number]>([
    ['an empty queue keeps the minimum', { waiting: 0, active: 0 }, 1],
    ['four 1-cpu jobs fit one 4-cpu worker', { waiting: 4, active: 0, waitingNeeds: times(4, need(1)) }, 1],
    ['five 1-cpu jobs need two', { waiting: 5, active: 0, waitingNeeds: times(5, need(1)) }, 2],
    [
      'three 3-cpu jobs need three (they cannot share a worker)',
      { waiting: 3, active: 0, waitingNeeds: times(3, need(3)) },
      3,
    ],
    ['memory can be the tight dimension', { waiting: 4, active: 0, waitingNeeds: times(4, need(1, 6000)) }, 4],
    [
      'running jobs count too',
      { waiting: 2, active: 4, waitingNeeds: times(2, need(2)), activeNeeds: times(4, need(1)) },
      2,
    ],
    [
      'a big and small mix packs first-fit decreasing',
      { waiting: 6, active: 0, waitingNeeds: [need(3), need(3), need(1), need(1), need(2), need(2)] },
      3,
    ],
    ['a sample stands for the whole backlog', { waiting: 40, active: 0, waitingNeeds: times(4, need(1)) }, 10],
    ['the maximum bounds it', { waiting: 400, active: 0, waitingNeeds: times(400, need(4)) }, 10],
    ['with no needs known, each job takes a worker', { waiting: 3, active: 0 }, 3],
    ['needs no worker can hold are left out', { waiting: 2, active: 0, waitingNeeds: [need(64), need(1)] }, 2],
  ])('%s', (_name, backlog, expected) => {
    expect(desiredWorkers(cpu4, backlog)).toBe(expected);
  });

  it('does not count slot-pool counters against a worker', () => {
    const withSlots = { cpu: 1, memoryMb: 0, gpu: 0, custom: { db: 1 } };
    const backlog = { waiting: 4, active: 0, waitingNeeds: times(4, withSlots) };
    expect(desiredWorkers(cpu4, backlog, { slotPools: [{ name: 'db', slots: 2 }] })).toBe(1);
  });

  it('scales to zero when the pool allows it', () => {
    expect(desiredWorkers({ ...cpu4, minWorkers: 0 }, { waiting: 0, active: 0 })).toBe(0);
  });
});

describe('packedWorkers', () => {
  it('is never below the per-dimension lower bound', () => {
    const needs = [need(1, 7000), need(3, 100), need(2, 2000), need(2, 2000), need(1, 1000)];
    const lowerBound = Math.max(Math.ceil(9 / 4), Math.ceil(12_100 / 8192));
    expect(packedWorkers(needs, cpu4.capacity)).toBeGreaterThanOrEqual(lowerBound);
    expect(packedWorkers(needs, cpu4.capacity)).toBe(3);
  });
});
