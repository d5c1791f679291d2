// `batuta db clean --older-than 30d [--dag ID] [--dry-run]`: Airflow's `db clean` for Batuta. Removes
// ended runs older than the cutoff with their instances, outputs and leases, in bounded batches (one
// store call each, every run whole), and prints what it removed, or with --dry-run what it would.
import { formatDuration, type PrunedRun, parseDuration } from '@batuta/scheduler';
import { UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { openLogStore, openStore } from '../store.js';

/** Runs removed per store call: each call blocks Redis for its length (~50 µs a run). */
const BATCH = 500;

/** Lists shown in a dry run at most (the count is always exact). */
const DRY_RUN_LISTED = 10_000;

export async function dbClean(
  config: CliConfig,
  options: { olderThan: string; dag?: string; dryRun: boolean; nowMs?: number },
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  let ageMs: number;
  try {
    ageMs = parseDuration(options.olderThan);
  } catch (error) {
    throw new UsageError(`--older-than: ${(error as Error).message}`);
  }
  const cutoffMs = (options.nowMs ?? Date.now()) - ageMs;
  const store = await openStore(config);
  const logStore = openLogStore(config);
  const removed: PrunedRun[] = [];
  try {
    const query = { endedBeforeMs: cutoffMs, ...(options.dag ? { dagId: options.dag } : {}) };
    if (options.dryRun) {
      // A dry run cannot page by removing, so it asks for one large listing instead.
      removed.push(...(await store.pruneRuns({ ...query, limit: DRY_RUN_LISTED, dryRun: true })));
    } else {
      for (;;) {
        const batch = await store.pruneRuns({ ...query, limit: BATCH });
        removed.push(...batch);
        for (const run of batch) await logStore.removeRun(run.runId);
        if (batch.length < BATCH) break;
      }
    }
  } finally {
    await logStore.close();
    await store.close();
  }
  for (const run of removed) {
    const ended = run.endMs === undefined ? '' : ` ended ${new Date(run.endMs).toISOString()}`;
    print(`${options.dryRun ? 'would remove' : 'removed'} ${run.runId} (${run.dagId}, ${run.state}${ended})`);
  }
  const scope = options.dag ? ` of DAG ${options.dag}` : '';
  print(
    `${options.dryRun ? 'would remove' : 'removed'} ${removed.length} ended run(s)${scope} older than ` +
      `${formatDuration(ageMs)} (before ${new Date(cutoffMs).toISOString()}), with their task instances, ` +
      'outputs, leases and task logs',
  );
  return 0;
}
