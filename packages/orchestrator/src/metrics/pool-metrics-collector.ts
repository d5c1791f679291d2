// Prometheus gauges of the worker pools, read when scraped: queue depth, running jobs, workers alive and the
// resources admitted, per pool (from PoolStatusReader) — and, for a worker process, what its own ledger has
// admitted, fed from the worker's events.
import type { ResourceSpec } from '@batuta/scheduler';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PoolStatusReader } from '../autoscale/pool-status.js';
import type { WorkerEvent } from '../bullmq/resource-worker-options.js';
import { addResources, subtractResources, zeroResources } from '../resources/resources.js';

const resourceEntries = (spec: ResourceSpec): Array<[string, number]> => [
  ['cpu', spec.cpu],
  ['memoryMb', spec.memoryMb],
  ['gpu', spec.gpu],
  ...Object.entries(spec.custom),
];

/** Registers the pool gauges on `registry`; each scrape reads the pools once through `reader`. */
export function registerPoolMetrics(registry: Registry, reader: Pick<PoolStatusReader, 'read'>): void {
  let reading: Promise<Awaited<ReturnType<PoolStatusReader['read']>>> | undefined;
  // The gauges of one scrape share one read.
  const statuses = () => {
    reading ??= reader.read().finally(() => {
      setTimeout(() => {
        reading = undefined;
      }, 100).unref();
    });
    return reading;
  };
  const registers = [registry];
  new Gauge({
    name: 'batuta_pool_queue_depth',
    help: 'Jobs waiting for a worker, per pool',
    labelNames: ['pool'],
    registers,
    async collect() {
      this.reset();
      for (const status of await statuses()) this.set({ pool: status.pool }, status.waiting);
    },
  });
  new Gauge({
    name: 'batuta_pool_active_jobs',
    help: 'Jobs running, per pool',
    labelNames: ['pool'],
    registers,
    async collect() {
      this.reset();
      for (const status of await statuses()) this.set({ pool: status.pool }, status.active);
    },
  });
  new Gauge({
    name: 'batuta_pool_workers_alive',
    help: 'Workers connected to the pool queue',
    labelNames: ['pool'],
    registers,
    async collect() {
      this.reset();
      for (const status of await statuses()) this.set({ pool: status.pool }, status.workersAlive);
    },
  });
  new Gauge({
    name: 'batuta_pool_admitted_resources',
    help: 'Resources the running jobs of a pool were admitted with, by resource',
    labelNames: ['pool', 'resource'],
    registers,
    async collect() {
      this.reset();
      for (const status of await statuses())
        for (const [resource, amount] of resourceEntries(status.admitted))
          this.set({ pool: status.pool, resource }, amount);
    },
  });
  new Gauge({
    name: 'batuta_pool_capacity_per_worker',
    help: 'What one worker of the pool offers, by resource',
    labelNames: ['pool', 'resource'],
    registers,
    async collect() {
      this.reset();
      for (const status of await statuses())
        for (const [resource, amount] of resourceEntries(status.capacity))
          this.set({ pool: status.pool, resource }, amount);
    },
  });
}

/** A worker's own metrics: what it admitted and how its attempts ended. Pass `onEvent` to the ResourceWorker. */
export function workerMetrics(registry: Registry, pool: string): { onEvent: (event: WorkerEvent) => void } {
  const registers = [registry];
  const admitted = new Gauge({
    name: 'batuta_worker_admitted_resources',
    help: "Resources this worker's running attempts were admitted with, by pool and resource",
    labelNames: ['pool', 'resource'],
    registers,
  });
  const attempts = new Counter({
    name: 'batuta_worker_attempts_total',
    help: 'Attempts this worker finished, by pool and outcome',
    labelNames: ['pool', 'outcome'],
    registers,
  });
  let inUse = zeroResources();
  const show = () => {
    for (const [resource, amount] of resourceEntries(inUse)) admitted.set({ pool, resource }, amount);
  };
  show();
  return {
    onEvent: (event) => {
      if (event.type === 'admitted') {
        inUse = addResources(inUse, event.job.resources);
        show();
      } else if (event.type === 'finished' || event.type === 'handedBack') {
        if (event.type === 'finished') attempts.inc({ pool, outcome: event.outcome.status });
        inUse = subtractResources(inUse, event.job.resources);
        show();
      }
    },
  };
}
