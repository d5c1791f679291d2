// `npm run bench -- scheduler [--quick]`: 1,000 DAGs on `* * * * *`, two scheduler processes on one
// Redis, real clock for 5 minutes. Measures lateness from fire time to run created (p50, p99, max),
// duplicates (two runs of one DAG for one logical date) and missed fires. --quick: 1,000 DAGs on
// `every: 10s` for 45 s (same code path, shorter period). CHILD_ARGS adds Node flags to the scheduler
// processes (e.g. CHILD_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile them).
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStateStore } from '@batuta/scheduler';
import { LatencyHistogram, type LatencyHistogramSnapshot } from '@batuta/scheduler/internals';
import { RedisServer } from '@batuta/scheduler/redis-server';

const quick = process.argv.includes('--quick');
const dagCount = 1_000;
const spanMs = quick ? 45_000 : 5 * 60_000;
const schedule = quick ? '{ every: 10s }' : '"* * * * *"';
const periodMs = quick ? 10_000 : 60_000;

const dir = mkdtempSync(join(tmpdir(), 'batuta-bench-scheduler-'));
const dags = join(dir, 'dags');
mkdirSync(dags);
for (let i = 0; i < dagCount; i++) {
  writeFileSync(
    join(dags, `dag_${i}.yaml`),
    `id: dag_${i}\nschedule: ${schedule}\ntasks:\n  noop: { operator: empty }\n`,
  );
}
const server = process.env.BATUTA_REDIS_URL ? undefined : await RedisServer.start();
const url = process.env.BATUTA_REDIS_URL ?? server!.url;
const namespace = `bench-scheduler-${process.pid}`;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const children = ['a', 'b'].map((id) =>
  fork(join(import.meta.dirname, 'support', 'scheduler-process.ts'), [dags, url, namespace, `bench-${id}`], {
    execArgv: ['--import', 'tsx', ...(process.env.CHILD_ARGS ? process.env.CHILD_ARGS.split(' ') : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }),
);
await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
const startedMs = Date.now();
// Fires strictly inside the window (the first fire at or after start, up to the end) must all exist.
const firstFire = Math.ceil(startedMs / periodMs) * periodMs;
for (const child of children) child.send({ windowStartMs: firstFire });
console.log(
  `scheduler benchmark: ${dagCount} DAGs on ${schedule}, 2 scheduler processes, ${spanMs / 1000} s of real time`,
);
await new Promise((r) => setTimeout(r, spanMs));
const endedMs = Date.now();
interface SchedulerFigures {
  confirmed: LatencyHistogramSnapshot;
  slowestPerFire: Array<[number, number]>;
}
const results = await Promise.all(
  children.map(
    (c) =>
      new Promise<SchedulerFigures>((resolve) => {
        c.once('message', (m) => resolve(m as SchedulerFigures));
        c.kill('SIGTERM');
      }),
  ),
);

const store = await RedisStateStore.connect({ url, namespace });
const runs = await store.listRuns({});
await store.close();
const byDate = new Map<string, number>();
for (const run of runs)
  byDate.set(`${run.dagId}@${run.logicalDateMs}`, (byDate.get(`${run.dagId}@${run.logicalDateMs}`) ?? 0) + 1);
const duplicates = [...byDate.values()].filter((n) => n > 1).length;
const expectedFires = Math.max(0, Math.floor((endedMs - 1 - firstFire) / periodMs) + 1);
let missed = 0;
for (let i = 0; i < dagCount; i++) {
  for (let f = 0; f < expectedFires; f++) if (!byDate.has(`dag_${i}@${firstFire + f * periodMs}`)) missed++;
}
const inWindow = runs.filter((r) => r.logicalDateMs >= firstFire && r.kind === 'scheduled');
const lateness = inWindow.map((r) => r.createdMs - r.logicalDateMs).sort((a, b) => a - b);
// Confirmed: until the creating scheduler had the store's answer (the run is durable and visible). Each
// scheduler counts only the fires of the window, in a bounded histogram read from its log events.
const histograms = results.map((r) => LatencyHistogram.from(r.confirmed));
const perScheduler = histograms.map((h) => h.count);
const confirmed = new LatencyHistogram();
for (const histogram of histograms) confirmed.merge(histogram);
console.log(
  `runs created in the window: ${inWindow.length} (${expectedFires} fires × ${dagCount} DAGs expected), by scheduler: ${perScheduler.join(' / ')}`,
);
console.log(`lateness ms: p50 ${percentile(lateness, 50)}, p99 ${percentile(lateness, 99)}, max ${lateness.at(-1)}`);
console.log(`confirmed ms: p50 ${confirmed.percentile(50)}, p99 ${confirmed.percentile(99)}, max ${confirmed.maxMs}`);
// The slowest run of each fire, per scheduler: one slow fire is 1,000 of the 5,000 samples.
const slowest = new Map<number, number[]>();
for (const [index, r] of results.entries()) {
  for (const [logicalDateMs, ms] of r.slowestPerFire) {
    const row = slowest.get(logicalDateMs) ?? results.map(() => 0);
    row[index] = ms;
    slowest.set(logicalDateMs, row);
  }
}
console.log(
  `slowest confirmation per fire (a / b): ${[...slowest.values()].map((row) => row.join('/')).join(', ')} ms`,
);
console.log(`duplicates: ${duplicates}, missed: ${missed}`);
await server?.stop();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'scheduler',
    quick,
    dags: dagCount,
    schedulers: 2,
    spanSec: spanMs / 1000,
    runs: inWindow.length,
    p50Ms: percentile(lateness, 50),
    p99Ms: percentile(lateness, 99),
    maxMs: lateness.at(-1) ?? null,
    confirmedP50Ms: confirmed.percentile(50),
    confirmedP99Ms: confirmed.percentile(99),
    confirmedMaxMs: confirmed.maxMs ?? null,
    duplicates,
    missed,
    targets: { p99Ms: 100, duplicates: 0 },
  }),
);
