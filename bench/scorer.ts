// `npm run bench -- scorer [--quick]`: the TypeScript XGBoost scorer alone vs XGBoost's own
// inplace_predict with one thread (Debian's python3-xgboost), on the same model and the same
// 1,000,000 rows resampled from the example's iris.csv: the seed's 30-tree model and the 300-tree
// iris model (packages/ml-tasks/scripts/train-300.py). Medians of several runs, both sides in this
// run; predictions are compared too. Last line: one JSON object; `ratio` = Batuta/XGBoost, the
// smaller of the two models' ratios (the conservative figure).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCsv, XgboostModel } from '@batuta/ml-tasks';
import { findPython, random } from './support/ml-bench.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const ROWS = quick ? 200_000 : 1_000_000;
const RUNS = quick ? 3 : 5;
const MODELS = [
  { name: 'seed-30-trees', path: join(root, 'examples/iris-batch/data/model.json') },
  { name: 'iris-300-trees', path: join(root, 'packages/ml-tasks/test/golden/iris-300.model.json') },
];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const iris = await loadCsv(join(root, 'examples/iris-batch/data/iris.csv'), { header: false });
const next = random(42);
const features = new Float32Array(ROWS * 4);
for (let row = 0; row < ROWS; row++) {
  const source = Math.floor(next() * iris.rows);
  for (let f = 0; f < 4; f++) features[row * 4 + f] = iris.data[source * 4 + f] as number;
}
const dir = mkdtempSync(join(tmpdir(), 'batuta-bench-scorer-'));
writeFileSync(join(dir, 'rows.f32'), Buffer.from(features.buffer));

console.log(
  `scorer benchmark: ${ROWS.toLocaleString('en')} rows resampled from iris.csv; medians of ${RUNS} XGBoost runs and of ${2 * RUNS} of ours (half before, half after)`,
);
const loaded = MODELS.map((spec) => {
  const model = XgboostModel.fromJsonText(readFileSync(spec.path, 'utf8'), { source: spec.path });
  const out = new Float32Array(ROWS * model.outputsPerRow);
  model.predictInto(features.subarray(0, 40_000), 10_000, out);
  return { spec, model, out, seconds: [] as number[] };
});
// Our runs are split before and after the baseline's, so a change in the machine's load during the
// benchmark (it is shared) weighs on both sides alike.
function measureOurs(): void {
  for (const entry of loaded) {
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      entry.model.predictInto(features, ROWS, entry.out);
      entry.seconds.push((performance.now() - started) / 1000);
    }
  }
}
measureOurs();

const python = findPython(['xgboost']);
let baseline: { xgboost: string; results: { rowsPerSecond: number; seconds: number[] }[] } | undefined;
if (python) {
  const result = spawnSync(
    python,
    [
      join(root, 'bench/python/scorer_baseline.py'),
      join(dir, 'rows.f32'),
      String(ROWS),
      String(RUNS),
      dir,
      ...MODELS.map((m) => m.path),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (result.status === 0) baseline = JSON.parse(result.stdout.trim().split('\n').at(-1) as string);
  else console.log(`baseline unavailable: ${python} failed: ${result.stderr.trim().split('\n').at(-1)}`);
} else {
  console.log('baseline unavailable: no python3 with xgboost (apt-get install -y python3-xgboost)');
}
measureOurs();
const ours = loaded.map(({ spec, model, out, seconds }) => {
  const rowsPerSecond = ROWS / median(seconds);
  console.log(
    `  batuta  ${spec.name.padEnd(15)} ${Math.round(rowsPerSecond).toLocaleString('en').padStart(12)} rows/s  (${model.plan.compiledChunks} compiled chunks; ${seconds.length} runs)`,
  );
  return { name: spec.name, trees: model.treeCount, rowsPerSecond, seconds, out, outputsPerRow: model.outputsPerRow };
});

const models = ours.map((mine, index) => {
  const theirs = baseline?.results[index];
  let maxAbsDiff: number | undefined;
  if (theirs) {
    const bytes = readFileSync(join(dir, `${index}.f32`));
    const reference = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    maxAbsDiff = 0;
    for (let i = 0; i < reference.length; i++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs((mine.out[i] as number) - (reference[i] as number)));
    console.log(
      `  xgboost ${mine.name.padEnd(15)} ${Math.round(theirs.rowsPerSecond).toLocaleString('en').padStart(12)} rows/s  (1 thread)  → ratio ${(mine.rowsPerSecond / theirs.rowsPerSecond).toFixed(2)}, max |Δp| ${maxAbsDiff.toExponential(1)} on 100k rows`,
    );
  }
  return {
    model: mine.name,
    trees: mine.trees,
    batutaRowsPerSec: Math.round(mine.rowsPerSecond),
    ...(theirs
      ? {
          xgboostRowsPerSec: Math.round(theirs.rowsPerSecond),
          ratio: Number((mine.rowsPerSecond / theirs.rowsPerSecond).toFixed(3)),
          maxAbsDiff,
        }
      : {}),
  };
});
rmSync(dir, { recursive: true, force: true });
const ratios = models.flatMap((m) => (m.ratio === undefined ? [] : [m.ratio]));
console.log(
  JSON.stringify({
    bench: 'scorer',
    quick,
    rows: ROWS,
    runs: { xgboost: RUNS, batuta: 2 * RUNS },
    node: process.version,
    models,
    baseline: baseline
      ? { implementation: 'xgboost inplace_predict, nthread=1', xgboost: baseline.xgboost, python }
      : 'baseline unavailable',
    ratio: ratios.length === models.length ? Math.min(...ratios) : null,
  }),
);
