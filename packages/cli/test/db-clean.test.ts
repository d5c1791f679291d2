// `batuta db clean` (issue #10, point 7) against a private redis-server: ended runs older than the
// cutoff go with their instances, outputs and leases; a dry run only lists; --dag limits the scope;
// queued, running and recent runs stay. The cutoff is computed from an injected "now".
import { type DagRunRecord, RedisStateStore, runLeaseName } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbClean } from '../src/commands/db-clean.js';
import type { CliConfig } from '../src/config.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

describe('batuta db clean', () => {
  const harness = useRedisServer();
  let config: CliConfig;
  let store: RedisStateStore;

  beforeEach(async () => {
    config = {
      redisUrl: harness.url,
      namespace: harness.namespace(),
      dags: 'dags',
      executor: 'local',
      pausedOnCreation: false,
      retention: {},
      maxConfBytes: 256 * 1024,
      maxConfDepth: 64,
      logs: { store: 'redis', folder: 'logs', maxLinesPerAttempt: 100_000, maxLinesPerRun: 1_000_000 },
    };
    store = await RedisStateStore.connect({ url: harness.url, namespace: config.namespace });
    const run = (runId: string, dagId: string, state: DagRunRecord['state'], ageDays: number): DagRunRecord => ({
      runId,
      dagId,
      kind: 'scheduled',
      state,
      logicalDateMs: NOW - ageDays * DAY,
      conf: {},
      createdMs: NOW - ageDays * DAY,
      ...(state === 'success' || state === 'failed' ? { endMs: NOW - ageDays * DAY + 1 } : {}),
    });
    await store.createRuns([
      run('etl-old', 'etl', 'success', 40),
      run('etl-old-failed', 'etl', 'failed', 35),
      run('etl-recent', 'etl', 'success', 5),
      run('etl-stuck', 'etl', 'running', 50),
      run('other-old', 'other', 'success', 45),
    ]);
    await store.applyTransition('etl-old', {
      instances: [{ record: { runId: 'etl-old', taskId: 't', mapIndex: -1, state: 'success', tryNumber: 1 } }],
      outputs: [{ taskId: 't', mapIndex: -1, value: { rows: 3 } }],
    });
    await store.acquireLease(runLeaseName('etl-old'), 'scheduler-a', DAY, NOW);
  });

  afterEach(async () => {
    await store.close();
  });

  it('with --dry-run lists the old ended runs and removes nothing', async () => {
    const lines: string[] = [];
    await dbClean(config, { olderThan: '30d', dryRun: true, nowMs: NOW }, (line) => lines.push(line));
    expect(
      lines
        .slice(0, -1)
        .map((l) => l.split(' ')[2])
        .sort(),
    ).toEqual(['etl-old', 'etl-old-failed', 'other-old']);
    expect(lines.at(-1)).toMatch(/^would remove 3 ended run\(s\) older than 30d/);
    expect(await store.listRuns()).toHaveLength(5);
  });

  it('removes old ended runs with their instances, outputs and leases, and keeps the rest', async () => {
    const lines: string[] = [];
    expect(
      await dbClean(config, { olderThan: '30d', dag: 'etl', dryRun: false, nowMs: NOW }, (l) => lines.push(l)),
    ).toBe(0);
    expect(lines.at(-1)).toMatch(/^removed 2 ended run\(s\) of DAG etl older than 30d/);
    expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(['etl-recent', 'etl-stuck', 'other-old']);
    const keys = await harness.redis.keys(`batuta:${config.namespace}:*etl-old*`);
    expect(keys).toEqual([]);
    await dbClean(config, { olderThan: '30d', dryRun: false, nowMs: NOW }, () => {});
    expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(['etl-recent', 'etl-stuck']);
  });
});
