// `npm run bench -- dagload [--quick]`: load a folder of 1,000 YAML DAG files (5–12 tasks each, with
// schedules, retries, resources, mapping and anchors) and validate them. Prints the cold load (first,
// in a fresh process, as a daemon starts) and the median of warm reloads. Last line: `ms` = cold load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorRegistry, loadDagDirectory } from '@batuta/scheduler';

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
const time = async () => {
  const started = performance.now();
  const result = await loadDagDirectory(dir, { operators });
  const ms = performance.now() - started;
  if (result.errors.length > 0) throw new Error(result.errors[0]!.error.message);
  if (result.dags.length !== files) throw new Error(`loaded ${result.dags.length} DAGs`);
  return ms;
};
const cold = await time();
const warm: number[] = [];
for (let i = 0; i < (quick ? 3 : 7); i++) warm.push(await time());
warm.sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)]!;
console.log(
  `dagload: ${files} YAML files, cold ${cold.toFixed(0)} ms, warm median ${median.toFixed(0)} ms (${(median / files).toFixed(2)} ms per file)`,
);
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'dagload',
    quick,
    files,
    ms: Math.round(cold),
    warmMs: Math.round(median),
    msPerFile: Number((cold / files).toFixed(3)),
    target: { ms: 1000 },
  }),
);
