// `npm run bench -- yamlload [--quick]`: parse one YAML DAG file of 1,000 and of 10,000 tasks, each
// task merging an anchor and aliasing another (2 aliases per task), and compare. Linear loading gives
// a ratio near 10; yaml's own alias resolution was quadratic (10,000 aliases took 7 s), near 100.
// This timing used to be asserted in packages/scheduler/test/dag/yaml-loader.test.ts, where a busy
// machine made it fail; tests count work, benchmarks time it. Last line: `scaleRatio` = ms10k / ms1k.
import { parseDagYaml } from '@batuta/scheduler';

const quick = process.argv.includes('--quick');
const repeats = quick ? 3 : 7;

function fileOf(taskCount: number): string {
  const lines = [
    'id: yaml_scale',
    'tasks:',
    '  t0: &base',
    '    operator: empty',
    '    resources: { cpu: 1, memoryMb: 64 }',
    '    retry: &r { retries: 1 }',
  ];
  for (let index = 1; index < taskCount; index++) {
    lines.push(`  t${index}:`, '    <<: *base', '    retry: *r', `    upstream: [t${index - 1}]`);
  }
  return `${lines.join('\n')}\n`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timeLoad(taskCount: number): number {
  const text = fileOf(taskCount);
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const started = performance.now();
    const dag = parseDagYaml(text, 'yaml-scale.yaml');
    times.push(performance.now() - started);
    if (dag.tasks.length !== taskCount) throw new Error(`loaded ${dag.tasks.length} tasks, expected ${taskCount}`);
  }
  return median(times);
}

timeLoad(1_000); // warm up
const ms1k = timeLoad(1_000);
const ms10k = timeLoad(10_000);
console.log(`1,000 tasks: ${ms1k.toFixed(1)} ms; 10,000 tasks: ${ms10k.toFixed(1)} ms (median of ${repeats})`);
console.log(
  JSON.stringify({
    bench: 'yamlload',
    quick,
    ms1k: Number(ms1k.toFixed(1)),
    ms10k: Number(ms10k.toFixed(1)),
    scaleRatio: Number((ms10k / ms1k).toFixed(2)),
    targets: { scaleRatio: 20 },
  }),
);
