// `npm run bench -- pipeline [--quick]`: the whole batch pipeline — read the CSV, score, key, ingest
// into Redis — on 1,000,000 rows resampled from the example's iris.csv with the seed model, vs a
// plain Python implementation of the original (pandas + xgboost + hashlib + redis-py pipeline,
// bench/python/pipeline_baseline.py) in the same run, against the same Redis.
//
// Batuta writes the plain layout (bare `SET key label`, the bytes the original writes) for the
// headline `ratio`, and the versioned layout (the default: its own key space plus the atomic
// switch) as `ratioVersioned`. Redis: BATUTA_REDIS_URL when set, else a private redis-server.
// Every key gets a per-run prefix and is deleted afterwards, so a shared Redis is left as found.
//
// Resampled rows repeat (about a thousand distinct keys), so Redis mostly overwrites. `--distinct`
// draws each value uniformly in iris' ranges instead (one decimal; about 70% of the keys distinct),
// which makes Redis store a million new keys: the figure for a batch without repeats.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCsv, PredictionSets, predictAndIngest, XgboostModel } from '@batuta/ml-tasks';
import { deleteMatching } from '@batuta/ml-tasks/internals';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Redis } from 'ioredis';
import { findPython, random } from './support/ml-bench.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const distinct = process.argv.includes('--distinct');
const ROWS = quick ? 200_000 : 1_000_000;
const RUNS = quick ? 3 : 5;
const MODEL = join(root, 'examples/iris-batch/data/model.json');
const CLASS_NAMES = ['setosa', 'versicolor', 'virginica'];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

// The input: ROWS lines resampled from iris.csv, header-less, one decimal, as the original's file.
const lines = readFileSync(join(root, 'examples/iris-batch/data/iris.csv'), 'utf8').trim().split('\n');
const next = random(7);
const dir = mkdtempSync(join(tmpdir(), 'batuta-bench-pipeline-'));
const csvPath = join(dir, 'batch.csv');
const RANGES: [number, number][] = [
  [4.3, 7.9],
  [2.0, 4.4],
  [1.0, 6.9],
  [0.1, 2.5],
];
const drawRow = (): string =>
  distinct
    ? RANGES.map(([low, high]) => (Math.round((low + next() * (high - low)) * 10) / 10).toFixed(1)).join(',')
    : (lines[Math.floor(next() * lines.length)] as string);
writeFileSync(csvPath, `${Array.from({ length: ROWS }, drawRow).join('\n')}\n`);

const external = process.env.BATUTA_REDIS_URL;
const server = external ? undefined : await RedisServer.start();
const redisUrl = external ?? (server as RedisServer).url;
const redis = new Redis(redisUrl);
const tag = `bench-${process.pid}`;
console.log(
  `pipeline benchmark: ${ROWS.toLocaleString('en')} rows ${distinct ? 'drawn uniformly (--distinct)' : 'resampled from iris.csv'}, medians of ${RUNS} runs each (ours half before, half after the baseline's); Redis ${external ? `at BATUTA_REDIS_URL` : `private redis-server ${redisUrl}`}`,
);

async function batuta(layout: 'plain' | 'versioned', run: number): Promise<number> {
  const started = performance.now();
  const table = await loadCsv(csvPath, { header: false });
  const model = XgboostModel.fromJsonText(readFileSync(MODEL, 'utf8'), { source: MODEL });
  const result = await predictAndIngest(redis, model, table, {
    model: layout === 'plain' ? 'iris-plain' : 'iris',
    namespace: tag,
    classNames: CLASS_NAMES,
    ...(layout === 'plain' ? { layout: 'plain', prefix: `${tag}:plain:` } : { version: `run${run}`, keep: 0 }),
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.rows !== ROWS) throw new Error(`ingested ${result.rows} rows, expected ${ROWS}`);
  if (layout === 'plain') await deleteMatching(redis, `${tag}:plain:*`);
  else await new PredictionSets(redis, { model: 'iris', namespace: tag }).activate(`run${run}`);
  return seconds;
}

// Our runs are split before and after the baseline's, so a change in the machine's load during the
// benchmark (it is shared) weighs on both sides alike.
const measured: Record<'plain' | 'versioned', number[]> = { plain: [], versioned: [] };
let runNumber = 0;
async function measureOurs(runs: number): Promise<void> {
  for (let run = 0; run < runs; run++, runNumber++) {
    for (const layout of ['plain', 'versioned'] as const) measured[layout].push(await batuta(layout, runNumber));
  }
}
// One unmeasured run per layout first: V8 compiles the hot paths (XGBoost's Python side has no JIT).
await batuta('plain', runNumber);
await batuta('versioned', runNumber++);
await measureOurs(Math.ceil(RUNS / 2));

const python = findPython(['xgboost', 'pandas', 'redis']);
let baseline:
  | { rowsPerSecond: number; medianSeconds: number; runs: { seconds: number }[]; xgboost: string }
  | undefined;
if (python) {
  const result = spawnSync(
    python,
    [join(root, 'bench/python/pipeline_baseline.py'), csvPath, MODEL, redisUrl, `${tag}:python:`, String(RUNS)],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (result.status === 0) baseline = JSON.parse(result.stdout.trim().split('\n').at(-1) as string);
  else console.log(`baseline unavailable: ${python} failed: ${result.stderr.trim().split('\n').at(-1)}`);
} else {
  console.log(
    'baseline unavailable: no python3 with xgboost, pandas and redis (apt-get install -y python3-xgboost python3-pandas python3-redis)',
  );
}
await measureOurs(RUNS - Math.ceil(RUNS / 2));
// Drop everything the runs wrote (the versioned sets, the layout records).
await deleteMatching(redis, `batuta:${tag}:*`);
const plainRate = ROWS / median(measured.plain);
const versionedRate = ROWS / median(measured.versioned);
console.log(
  `  batuta plain      ${Math.round(plainRate).toLocaleString('en').padStart(10)} rows/s  runs ${measured.plain.map((s) => s.toFixed(2)).join(' ')} s`,
);
console.log(
  `  batuta versioned  ${Math.round(versionedRate).toLocaleString('en').padStart(10)} rows/s  runs ${measured.versioned.map((s) => s.toFixed(2)).join(' ')} s`,
);
if (baseline) {
  console.log(
    `  python original   ${Math.round(baseline.rowsPerSecond).toLocaleString('en').padStart(10)} rows/s  runs ${baseline.runs.map((r) => r.seconds.toFixed(2)).join(' ')} s`,
  );
}

await redis.quit();
await server?.stop();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'pipeline',
    quick,
    rowsDrawn: distinct ? 'uniform in iris ranges (--distinct)' : 'resampled from iris.csv',
    rows: ROWS,
    runs: RUNS,
    redis: external ? 'BATUTA_REDIS_URL' : 'private redis-server',
    batutaRowsPerSec: Math.round(plainRate),
    batutaVersionedRowsPerSec: Math.round(versionedRate),
    baseline: baseline
      ? {
          implementation: 'python: pandas + xgboost + hashlib + redis-py pipeline',
          xgboost: baseline.xgboost,
          rowsPerSec: Math.round(baseline.rowsPerSecond),
        }
      : 'baseline unavailable',
    ratio: baseline ? Number((plainRate / baseline.rowsPerSecond).toFixed(2)) : null,
    ratioVersioned: baseline ? Number((versionedRate / baseline.rowsPerSecond).toFixed(2)) : null,
  }),
);
