import { availableParallelism, totalmem } from 'node:os';
import type { ResourceSpec } from '@batuta/scheduler';

/** This machine's capacity: every core and 80 % of memory, no GPU (a default for in-process executors). */
export function machineCapacity(): ResourceSpec {
  return { cpu: availableParallelism(), memoryMb: Math.floor((totalmem() / 2 ** 20) * 0.8), gpu: 0, custom: {} };
}
