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
console.log(
  `scheduler benchmark: ${dagCount} DAGs on ${schedule}, 2 scheduler processes, ${spanMs / 1000} s of real time`,
);
await new Promise((r) => setTimeout(r, spanMs));
const endedMs = Date.now();
const results = await Promise.all(
  children.map(
    (c) =>
      new Promise<{ lateness: number[]; confirmed: Array<{ logicalDateMs: number; ms: number }>; fires: unknown[] }>(
        (resolve) => {
          c.once('message', (m) =>
            resolve(
              m as { lateness: number[]; confirmed: Array<{ logicalDateMs: number; ms: number }>; fires: unknown[] },
            ),
          );
          c.kill('SIGTERM');
        },
      ),
  ),
);

const store = await RedisStateStore.connect({ url, namespace });
const runs = await store.listRuns({});
await store.close();
const byDate = new Map<string, number>();
for (const run of runs)
  byDate.set(`${run.dagId}@${run.logicalDateMs}`, (byDate.get(`${run.dagId}@${run.logicalDateMs}`) ?? 0) + 1);
const duplicates = [...byDate.values()].filter((n) => n > 1).length;
// Fires strictly inside the window (the first fire at or after start, up to the end) must all exist.
const firstFire = Math.ceil(startedMs / periodMs) * periodMs;
const expectedFires = Math.max(0, Math.floor((endedMs - 1 - firstFire) / periodMs) + 1);
let missed = 0;
for (let i = 0; i < dagCount; i++) {
  for (let f = 0; f < expectedFires; f++) if (!byDate.has(`dag_${i}@${firstFire + f * periodMs}`)) missed++;
}
const inWindow = runs.filter((r) => r.logicalDateMs >= firstFire && r.kind === 'scheduled');
const lateness = inWindow.map((r) => r.createdMs - r.logicalDateMs).sort((a, b) => a - b);
const perScheduler = results.map((r) => r.confirmed.filter((c) => c.logicalDateMs >= firstFire).length);
// Confirmed: until the creating scheduler had the store's answer (the run is durable and visible).
const confirmed = results
  .flatMap((r) => r.confirmed.filter((c) => c.logicalDateMs >= firstFire).map((c) => c.ms))
  .sort((a, b) => a - b);
console.log(
  `runs created in the window: ${inWindow.length} (${expectedFires} fires × ${dagCount} DAGs expected), by scheduler: ${perScheduler.join(' / ')}`,
);
console.log(`lateness ms: p50 ${percentile(lateness, 50)}, p99 ${percentile(lateness, 99)}, max ${lateness.at(-1)}`);
console.log(
  `confirmed ms: p50 ${percentile(confirmed, 50)}, p99 ${percentile(confirmed, 99)}, max ${confirmed.at(-1)}`,
);
// The slowest run of each fire, per scheduler: one slow fire is 1,000 of the 5,000 samples.
const slowest = new Map<number, number[]>();
for (const [index, r] of results.entries()) {
  for (const c of r.confirmed) {
    if (c.logicalDateMs < firstFire) continue;
    const row = slowest.get(c.logicalDateMs) ?? results.map(() => 0);
    row[index] = Math.max(row[index]!, c.ms);
    slowest.set(c.logicalDateMs, row);
  }
}
if (process.env.SHOW_FIRES) for (const r of results) for (const fire of r.fires) console.log(JSON.stringify(fire));
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
    confirmedP50Ms: percentile(confirmed, 50),
    confirmedP99Ms: percentile(confirmed, 99),
    confirmedMaxMs: confirmed.at(-1) ?? null,
    duplicates,
    missed,
    targets: { p99Ms: 100, duplicates: 0 },
  }),
);
