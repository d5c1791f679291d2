// `npm run soak -- [--minutes N] [--quick] [--seed S] [--max-memory-mb M] [--keep]`: the chaos soak
// (issue #10, point 12). A private Redis (AOF on, free port), two `batuta scheduler` and three
// `batuta worker --pool soak` processes run from the sources; a steady load of mixed DAGs on short
// schedules plus manual triggers; seeded random SIGKILL, SIGSTOP/SIGCONT and SIGTERM of schedulers and
// workers (restarted) and Redis restarts. Then quiescence, and the invariants: every run terminal, one
// run per fire, each success's side effect once for its final try, no orphaned shell task, Redis memory
// bounded. Last line: one JSON object; exit 1 when an invariant broke. --quick: ≤ 3 min, for CI.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DagRunRecord, RedisStateStore, type TaskInstanceRecord } from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Redis } from 'ioredis';
import { random } from '../bench/support/ml-bench.js';
import { Chaos } from './support/chaos.js';
import { batutaSource, Slot, sourceEnv } from './support/cluster.js';
import { writeSoakDags } from './support/dags.js';
import { checkInvariants } from './support/invariants.js';
import { markedProcesses } from './support/marked-processes.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string' },
    'max-memory-mb': { type: 'string', default: '64' },
    keep: { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const minutes = quick ? 1 : Number(values.minutes ?? 10);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const maxMemoryMb = Number(values['max-memory-mb']);
if (!(minutes > 0) || !Number.isInteger(seed) || !(maxMemoryMb > 0)) {
  console.error('usage: npm run soak -- [--minutes N] [--quick] [--seed S] [--max-memory-mb M] [--keep]');
  process.exit(2);
}
const chaosMs = minutes * 60_000;
/** With every process up again, let catch-up create the fires the outages delayed. */
const settleMs = quick ? 10_000 : 30_000;
/** Bound on the wait for every run to end (a killed worker's attempt is found after ~30-60 s). */
const quiesceMs = quick ? 85_000 : 240_000;
const rng = random(seed);
const startedMs = Date.now();
const print = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = mkdtempSync(join(tmpdir(), 'batuta-soak-'));
const marker = `batuta-soak-${process.pid}`;
const folder = writeSoakDags(dir, marker, startedMs, quick);
const redis = await RedisServer.start({ appendOnly: true });
const namespace = 'soak';
const env = {
  BATUTA_REDIS_URL: redis.url,
  BATUTA_NAMESPACE: namespace,
  BATUTA_DAGS: folder.dir,
  BATUTA_POOLS: folder.poolsFile,
};
print(
  `soak: seed ${seed}, ${minutes} min of chaos${quick ? ' (quick)' : ''}, redis ${redis.url} (AOF), dir ${dir}, marker ${marker}`,
);

const slots = [
  ...['scheduler-a', 'scheduler-b'].map((name) => new Slot(name, 'scheduler', ['scheduler'], env, dir)),
  ...['worker-1', 'worker-2', 'worker-3'].map(
    (name) => new Slot(name, 'worker', ['worker', '--pool', 'soak'], env, dir),
  ),
];
const chaos = new Chaos({
  slots,
  redis,
  random: rng,
  marker,
  startedMs,
  gapMs: quick ? [3_000, 8_000] : [5_000, 20_000],
  stopMs: quick ? [1_000, 10_000] : [1_000, 45_000],
  redisDownMs: [500, 6_000],
  print,
});

// Redis memory, sampled while the soak runs (a sample during an outage is skipped).
const monitor = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 500 });
monitor.on('error', () => {});
let peakUsedMemory = 0;
const usedMemory = async (): Promise<number | undefined> => {
  try {
    const info = await monitor.info('memory');
    const bytes = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    peakUsedMemory = Math.max(peakUsedMemory, bytes);
    return bytes;
  } catch {
    return undefined;
  }
};
const sampler = setInterval(() => void usedMemory(), 5_000);

// Manual triggers through the CLI, one at a time; a run id it printed (exit 0) must be stored at the end.
const triggeredRunIds: string[] = [];
let triggerFailures = 0;
let triggering = true;
const triggers = (async () => {
  const manual = folder.dags.map((dag) => dag.id);
  while (triggering) {
    await sleep(quick ? 4_000 + rng() * 6_000 : 5_000 + rng() * 10_000);
    if (!triggering) break;
    // soak_long in two of five triggers: its 25 s task is what a worker kill most often lands in.
    const draw = rng();
    const dagId = draw < 0.4 ? 'soak_long' : manual[Math.floor(((draw - 0.4) / 0.6) * manual.length)]!;
    const child = spawn(process.execPath, ['--import', 'tsx', batutaSource, 'dags', 'trigger', dagId], {
      env: { ...process.env, ...sourceEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (data) => {
      out += data;
    });
    child.stderr.on('data', (data) => {
      err = (err + data).slice(-300);
    });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timeout);
    const runId = out.trim().split('\n').at(-1);
    if (code === 0 && runId) {
      triggeredRunIds.push(runId);
      chaos.note(`triggered ${dagId}: ${runId}`);
    } else {
      triggerFailures++;
      chaos.note(`trigger of ${dagId} failed (exit ${code}): ${err.trim().split('\n').join(' | ')}`);
    }
  }
})();

const waitFor = async (what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await sleep(500);
  }
  chaos.note(`gave up waiting: ${what} (${ms / 1000} s)`);
  return false;
};
const logHas = (slot: Slot, text: string) => {
  try {
    return readFileSync(slot.log, 'utf8').includes(text);
  } catch {
    return false;
  }
};

chaos.startAll();
await waitFor(
  'every process started',
  () => slots.every((s) => logHas(s, s.kind === 'scheduler' ? '"scheduler_started"' : '"worker_started"')),
  60_000,
);
const windowStartMs = Date.now();
const initialMemory = (await usedMemory()) ?? 0;
chaos.note(`all processes up; chaos for ${chaosMs / 1000} s`);
chaos.begin();
await sleep(chaosMs);
const windowEndMs = Date.now();
await chaos.end();
triggering = false;
chaos.note('chaos over: every process resumed, Redis up');
await waitFor('every process running again', () => slots.every((s) => s.state === 'running'), 90_000);
await triggers;
await sleep(settleMs);

// Quiescence: pause the schedules, then wait (bounded) for every run to end.
const store = await RedisStateStore.connect({ url: redis.url, namespace });
for (const dag of folder.dags) if (dag.periodMs !== undefined) await store.setDagPaused(dag.id, true);
chaos.note('schedules paused; waiting for every run to end');
let runs: DagRunRecord[] = [];
const quiet = await waitFor(
  'every run terminal',
  async () => {
    runs = await store.listRuns({});
    return runs.every((run) => run.state === 'success' || run.state === 'failed');
  },
  quiesceMs,
);
if (quiet) chaos.note(`quiescent: ${runs.length} runs, all terminal`);

// Clean stop of everything, then what is left behind.
chaos.restarting = false;
for (const slot of slots) slot.signal('SIGTERM');
const stopped = await Promise.race([
  Promise.all(slots.map((slot) => slot.exited())).then(() => true),
  sleep(75_000).then(() => false),
]);
if (!stopped) for (const slot of slots) slot.signal('SIGKILL');
await Promise.all(slots.map((slot) => slot.exited()));
await sleep(1_000);
for (const process of markedProcesses(marker)) {
  if (chaos.orphans.has(process.pid)) continue;
  chaos.orphans.set(process.pid, { ...process, workerPid: process.parentPid, foundAtMs: Date.now() });
  chaos.note(`orphan: pid ${process.pid} (${process.attempt}) alive after every worker stopped`);
}
await sleep(8_500); // orphan checks of the last worker exits
for (const process of chaos.orphans.values()) {
  try {
    globalThis.process.kill(-process.pid, 'SIGKILL'); // its own process group (the shell operator's)
  } catch {
    try {
      globalThis.process.kill(process.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

runs = await store.listRuns({});
const instances = new Map<string, TaskInstanceRecord[]>();
for (const run of runs) instances.set(run.runId, await store.getTaskInstances(run.runId));
await store.close();
const finalMemory = (await usedMemory()) ?? Number.NaN;
const keys = await monitor.dbsize().catch(() => Number.NaN);
clearInterval(sampler);
monitor.disconnect();

const report = checkInvariants({
  runs,
  instances,
  ledgerLines: readFileSync(folder.ledger, 'utf8').split('\n'),
  dags: folder.dags,
  startDateMs: folder.startDateMs,
  windowStartMs,
  windowEndMs,
  triggeredRunIds,
});
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const unexpectedExits = slots.flatMap((slot) => slot.unexpectedExits.map((exit) => ({ slot: slot.name, ...exit })));
const memoryOk = finalMemory <= maxMemoryMb * 2 ** 20;
const ok =
  report.lost === 0 &&
  report.duplicated === 0 &&
  report.doubleEffects === 0 &&
  report.missingEffects === 0 &&
  chaos.orphans.size === 0 &&
  memoryOk;

// Evidence: each broken invariant, with the process events of the minute before (and during) its run.
const at = (ms: number) => ms - startedMs;
const byId = new Map(runs.map((run) => [run.runId, run]));
for (const violation of report.violations.slice(0, 40)) {
  print(`BROKEN ${violation.invariant}: ${violation.detail}`);
  const run = violation.runId ? byId.get(violation.runId) : undefined;
  if (!run) continue;
  const from = at(run.createdMs) - 30_000;
  const to = run.endMs === undefined ? Number.POSITIVE_INFINITY : at(run.endMs);
  const events = chaos.timeline.filter((e) => e.atMs >= from && e.atMs <= to && !e.what.startsWith('triggered'));
  print(`  run created at ${(at(run.createdMs) / 1000).toFixed(1)} s; process events from 30 s before:`);
  for (const event of events.slice(-12)) print(`    [${(event.atMs / 1000).toFixed(1)}s] ${event.what}`);
}
if (report.violations.length > 40) print(`… and ${report.violations.length - 40} more`);
for (const orphan of chaos.orphans.values())
  print(`BROKEN orphan: pid ${orphan.pid} ${orphan.attempt}: ${orphan.command}`);
if (!memoryOk) print(`BROKEN memory: used_memory ${mb(finalMemory)} MB > ${maxMemoryMb} MB`);
for (const exit of unexpectedExits) print(`note: ${exit.slot} pid ${exit.pid} exited on its own (code ${exit.code})`);
if (Object.keys(report.failureReasons).length > 0)
  print(`failed runs by reason: ${JSON.stringify(report.failureReasons)}`);

await redis.stop();
writeFileSync(join(dir, 'timeline.jsonl'), chaos.timeline.map((event) => JSON.stringify(event)).join('\n'));
if (ok && !values.keep) rmSync(dir, { recursive: true, force: true });
else print(`logs, ledger and timeline kept in ${dir}`);
console.log(
  JSON.stringify({
    soak: true,
    seed,
    minutes,
    quick,
    ok,
    runs: report.runs,
    succeeded: report.succeeded,
    failed: report.failed,
    lost: report.lost,
    nonTerminal: report.nonTerminal,
    missingFires: report.missingFires,
    missingTriggered: report.missingTriggered,
    duplicated: report.duplicated,
    expectedFires: report.expectedFires,
    doubleEffects: report.doubleEffects,
    missingEffects: report.missingEffects,
    retriedEffects: report.retriedEffects,
    ledgerLines: report.ledgerLines,
    orphans: chaos.orphans.size,
    usedMemoryMb: mb(finalMemory),
    peakUsedMemoryMb: mb(peakUsedMemory),
    memoryGrowthKbPerRun: Math.round((finalMemory - initialMemory) / 1024 / Math.max(1, report.runs)),
    keys,
    ...chaos.counts,
    triggers: triggeredRunIds.length,
    triggerFailures,
    unexpectedExits: unexpectedExits.length,
    quiescent: quiet,
    elapsedS: Math.round((Date.now() - startedMs) / 1000),
  }),
);
process.exit(ok ? 0 : 1);
