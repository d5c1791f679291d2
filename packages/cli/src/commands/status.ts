// `batuta status`: schedulers (live leases), DAGs (schedule, next fire, paused), runs in flight, workers.

import { poolMetrics } from '@batuta/orchestrator';
import { poolQueue } from '@batuta/orchestrator/internals';
import { type OperatorRegistry, redactCredentials } from '@batuta/scheduler';
import { SCHEDULERS_STREAM, schedulerLease, Timetable } from '@batuta/scheduler/internals';
import { Redis } from 'ioredis';
import type { CliConfig } from '../config.js';
import { redisOptionsOf } from '../redis-options.js';
import { loadFolder, openStore } from '../store.js';
import { scheduleText } from './dags-list.js';
import { poolsOf } from './scheduler.js';

export async function statusCommand(config: CliConfig, operators: OperatorRegistry): Promise<number> {
  const store = await openStore(config);
  try {
    const now = Date.now();
    console.log(`namespace ${config.namespace} at ${redactCredentials(config.redisUrl)}`);
    const announced = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await store.readEvents(SCHEDULERS_STREAM, after, 1_000);
      if (page.length === 0) break;
      for (const e of page) announced.add(String((e.payload as { schedulerId?: string }).schedulerId));
      after = page.at(-1)!.id;
    }
    const live: string[] = [];
    for (const id of announced) if (await store.getLeaseOwner(schedulerLease(id), now)) live.push(id);
    console.log(`\nschedulers: ${live.length > 0 ? live.join(', ') : 'none alive'}`);

    const folder = await loadFolder(config, operators);
    console.log(`\nDAGs in ${folder.dir}:`);
    for (const dag of folder.dags.values()) {
      const next = Timetable.of(dag)?.nextFire(now);
      const paused = await store.isDagPaused(dag.id);
      console.log(
        `  ${dag.id.padEnd(24)} ${scheduleText(dag.schedule).padEnd(34)} next ${next ? new Date(next).toISOString() : '-'.padEnd(24)}${paused ? '  PAUSED' : ''}`,
      );
    }
    for (const [file, message] of folder.failures) console.log(`  ✖ ${file}: ${message.split('\n')[0]}`);

    const inFlight = await store.listRuns({ states: ['queued', 'running'], limit: 50 });
    console.log(`\nruns in flight: ${inFlight.length}`);
    for (const r of inFlight) console.log(`  ${r.state.padEnd(8)} ${r.runId}`);

    if (config.executor === 'bullmq') {
      const { pools } = await poolsOf(config);
      const connection = new Redis(config.redisUrl, { ...redisOptionsOf(config), maxRetriesPerRequest: null });
      try {
        console.log('\nworkers:');
        for (const pool of pools) {
          const queue = poolQueue(connection, config.namespace, pool.name);
          const [workers, metrics] = await Promise.all([queue.getWorkers(), poolMetrics(queue, { pool })]);
          console.log(
            `  pool ${pool.name}: ${workers.length} worker(s), waiting ${metrics.waiting}, active ${metrics.active}, delayed ${metrics.delayed}, desired workers ${metrics.desiredWorkers ?? '-'} (min ${pool.minWorkers}, max ${pool.maxWorkers})`,
          );
          await queue.close();
        }
      } finally {
        connection.disconnect();
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}
