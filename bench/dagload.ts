// `npm run bench -- dagload [--quick]`: load a folder of 1,000 YAML DAG files (5–12 tasks each, with
// schedules, retries, resources, mapping and anchors) and validate them. Prints the cold load (first,
// in a fresh process, through DagFolder as the scheduler daemon starts), the median of warm loads
// through DagFolder and through loadDagDirectory, and the daemon's periodic rescan of an unchanged
// folder. Last line: `ms` = cold load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorRegistry, DagFolder, loadDagDirectory } from '@batuta/scheduler';

const quick = process.argv.includes('--quick');
const files = 1_000;
const dir = mkdtempSync(join(tmpdir(), 'batuta-bench-dagload-'));
const crons = ['0 */4 * * *', '@daily', '*/15 * * * *', '30 2 * * 1-5'];
for (let i = 0; i < files; i++) {
  const n = 5 + (i % 8);
  // The first task defines an anchor the others merge (`<<: *task_defaults`).
  const tasks = [
    '  start:\n    operator: empty\n    <<: &task_defaults\n      resources: { cpu: 1, memoryMb: 512 }\n      timeout: 10m',
  ];
  for (let t = 1; t < n; t++) {
    const upstream = t === 1 ? 'start' : `step_${t - 1}`;
    const map = t === 2 ? '\n    map: { over: { part: [0, 1, 2, 3] } }' : '';
    tasks.push(
      `  step_${t}:\n    operator: shell\n    upstream: [${upstream}]\n    <<: *task_defaults\n    with: { command: "echo ${i}-${t}" }${map}`,
    );
  }
  const text = [
    `id: dag_${i}`,
    `description: generated DAG ${i}`,
    `tags: [bench, team_${i % 10}]`,
    `schedule: { cron: "${crons[i % crons.length]}", timezone: Europe/Madrid }`,
    'maxActiveRuns: 2',
    'defaults:',
    '  retry: { retries: 2, delay: 30s, backoff: exponential, maxDelay: 10m }',
    'tasks:',
    ...tasks,
    '',
  ].join('\n');
  writeFileSync(join(dir, `dag_${String(i).padStart(4, '0')}.yaml`), text);
}
const operators = createOperatorRegistry();
const check = (loaded: number, errors: number, firstError?: string) => {
  if (errors > 0) throw new Error(firstError);
  if (loaded !== files) throw new Error(`loaded ${loaded} DAGs`);
};
/** A fresh DagFolder's first scan: what `batuta scheduler` does before its first pass. */
const timeFolder = async () => {
  const started = performance.now();
  const folder = new DagFolder(dir, operators);
  const change = await folder.scan();
  const ms = performance.now() - started;
  check(folder.dags.size, change.failed.length, change.failed[0]?.message);
  return { ms, folder };
};
const timeDirectory = async () => {
  const started = performance.now();
  const result = await loadDagDirectory(dir, { operators });
  const ms = performance.now() - started;
  check(result.dags.length, result.errors.length, result.errors[0]?.error.message);
  return ms;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const { ms: cold, folder } = await timeFolder();
const rounds = quick ? 3 : 7;
const folderWarm: number[] = [];
const directoryWarm: number[] = [];
const rescan: number[] = [];
for (let i = 0; i < rounds; i++) {
  folderWarm.push((await timeFolder()).ms);
  directoryWarm.push(await timeDirectory());
  const started = performance.now();
  await folder.scan();
  rescan.push(performance.now() - started);
}
console.log(
  `dagload: ${files} YAML files, cold ${cold.toFixed(0)} ms (DagFolder, as the daemon starts); warm median ` +
    `${median(folderWarm).toFixed(0)} ms DagFolder, ${median(directoryWarm).toFixed(0)} ms loadDagDirectory ` +
    `(${(median(folderWarm) / files).toFixed(2)} ms per file); rescan of the unchanged folder ${median(rescan).toFixed(1)} ms`,
);
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'dagload',
    quick,
    files,
    ms: Math.round(cold),
    warmMs: Math.round(median(folderWarm)),
    directoryWarmMs: Math.round(median(directoryWarm)),
    rescanMs: Number(median(rescan).toFixed(1)),
    msPerFile: Number((cold / files).toFixed(3)),
    target: { ms: 1000 },
  }),
);
