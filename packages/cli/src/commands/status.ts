// `batuta status [--json]`: schedulers (live leases), DAGs (schedule, next fire, paused), runs in flight,
// workers per pool. The facts are gathered once, then printed as text or as one JSON document.

import { poolMetrics } from '@batuta/orchestrator';
import { poolQueue } from '@batuta/orchestrator/internals';
import { type OperatorRegistry, redactCredentials } from '@batuta/scheduler';
import { SCHEDULERS_STREAM, schedulerLease, Timetable } from '@batuta/scheduler/internals';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { CliConfig } from '../config.js';
import { printJson, statusJson } from '../json-shapes.js';
import { redisOptionsOf } from '../redis-options.js';
import { loadFolder, openStore } from '../store.js';
import { scheduleText } from './dags-list.js';
import { poolsOf } from './scheduler.js';

type Status = z.input<typeof statusJson>;

/** `batuta status`: what the namespace holds and who works on it. */
export async function statusCommand(
  config: CliConfig,
  operators: OperatorRegistry,
  options: { json?: boolean } = {},
): Promise<number> {
  const status = await gatherStatus(config, operators);
  if (options.json) printJson(statusJson, status);
  else printStatus(status);
  return 0;
}

async function gatherStatus(config: CliConfig, operators: OperatorRegistry): Promise<Status> {
  const store = await openStore(config);
  try {
    const now = Date.now();
    const announced = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await store.readEvents(SCHEDULERS_STREAM, after, 1_000);
      if (page.length === 0) break;
      for (const e of page) announced.add(String((e.payload as { schedulerId?: string }).schedulerId));
      after = page.at(-1)!.id;
    }
    const schedulers: string[] = [];
    for (const id of announced) if (await store.getLeaseOwner(schedulerLease(id), now)) schedulers.push(id);

    const folder = await loadFolder(config, operators);
    const dags: Status['dags'] = [];
    for (const dag of folder.dags.values()) {
      const next = Timetable.of(dag)?.nextFire(now);
      dags.push({
        dagId: dag.id,
        schedule: scheduleText(dag.schedule),
        nextFire: next ? new Date(next).toISOString() : null,
        paused: await store.isDagPaused(dag.id),
      });
    }
    const brokenFiles = [...folder.failures].map(([file, message]) => ({
      file,
      message: message.split('\n')[0] ?? '',
    }));
    const runsInFlight = (await store.listRuns({ states: ['queued', 'running'], limit: 50 })).map((r) => ({
      runId: r.runId,
      dagId: r.dagId,
      state: r.state as 'queued' | 'running',
    }));

    let pools: Status['pools'] = null;
    if (config.executor === 'bullmq') {
      const configured = (await poolsOf(config)).pools;
      const connection = new Redis(config.redisUrl, { ...redisOptionsOf(config), maxRetriesPerRequest: null });
      pools = [];
      try {
        for (const pool of configured) {
          const queue = poolQueue(connection, config.namespace, pool.name);
          const [workers, metrics] = await Promise.all([queue.getWorkers(), poolMetrics(queue, { pool })]);
          pools.push({
            pool: pool.name,
            workers: workers.length,
            waiting: metrics.waiting,
            active: metrics.active,
            delayed: metrics.delayed,
            desiredWorkers: metrics.desiredWorkers ?? null,
            minWorkers: pool.minWorkers,
            maxWorkers: pool.maxWorkers,
          });
          await queue.close();
        }
      } finally {
        connection.disconnect();
      }
    }
    return {
      namespace: config.namespace,
      redis: redactCredentials(config.redisUrl),
      schedulers,
      dagFolder: folder.dir,
      dags,
      brokenFiles,
      runsInFlight,
      pools,
    };
  } finally {
    await store.close();
  }
}

function printStatus(status: Status): void {
  console.log(`namespace ${status.namespace} at ${status.redis}`);
  console.log(`\nschedulers: ${status.schedulers.length > 0 ? status.schedulers.join(', ') : 'none alive'}`);
  console.log(`\nDAGs in ${status.dagFolder}:`);
  for (const dag of status.dags) {
    console.log(
      `  ${dag.dagId.padEnd(24)} ${dag.schedule.padEnd(34)} next ${dag.nextFire ?? '-'.padEnd(24)}${dag.paused ? '  PAUSED' : ''}`,
    );
  }
  for (const { file, message } of status.brokenFiles) console.log(`  ✖ ${file}: ${message}`);
  console.log(`\nruns in flight: ${status.runsInFlight.length}`);
  for (const r of status.runsInFlight) console.log(`  ${r.state.padEnd(8)} ${r.runId}`);
  if (status.pools) {
    console.log('\nworkers:');
    for (const p of status.pools)
      console.log(
        `  pool ${p.pool}: ${p.workers} worker(s), waiting ${p.waiting}, active ${p.active}, delayed ${p.delayed}, desired workers ${p.desiredWorkers ?? '-'} (min ${p.minWorkers}, max ${p.maxWorkers})`,
      );
  }
}
