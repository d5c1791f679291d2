// Dynamic mapping: `partitions` returns a list at run time, `score` fans out into one instance per
// element, and `total` receives the list of the instances' outputs, in order.
// Run it: npx batuta dags test examples/mapping/dag.ts --conf '{"partitions": 8}'
import { defineDag } from '@batuta/scheduler';

export const mapping = defineDag({
  id: 'mapping',
  description: 'Fan out over a list produced upstream, then reduce',
  params: { partitions: { type: 'integer', default: 4, minimum: 0, maximum: 1024 } },
  maxActiveTasks: 4,
});

const partitions = mapping.task('partitions', {
  run: ({ params }) => Array.from({ length: Number(params.partitions) }, (_, i) => ({ id: i, rows: 1000 + i })),
});

const score = mapping.map('score', {
  upstream: [partitions],
  over: { part: partitions },
  resources: { cpu: 1 },
  run: async ({ item, progress }) => {
    progress(0.5);
    return { id: item.part.id, scored: item.part.rows };
  },
});

mapping.task('total', {
  upstream: [score],
  run: ({ inputs }) => inputs.score.reduce((sum, part) => sum + part.scored, 0),
});
