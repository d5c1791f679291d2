// Dynamic mapping: `partitions` returns a list at run time, `score` fans out into one instance per
// element, and `total` receives the list of the instances' outputs, in order.
// Run it: npx --no-install batuta dags test examples/mapping/dag.ts --conf '{"partitions": 8}'
import { defineDag } from '@batuta/scheduler';
import { z } from 'zod';

export const mapping = defineDag(
  {
    id: 'mapping',
    description: 'Fan out over a list produced upstream, then reduce',
    params: z.object({ partitions: z.number().int().min(0).max(1024).default(4) }),
    maxActiveTasks: 4,
  },
  (dag) => {
    const partitions = dag.task('partitions', {
      run: ({ params }) => Array.from({ length: params.partitions }, (_, i) => ({ id: i, rows: 1000 + i })),
    });

    const score = dag.map('score', {
      upstream: [partitions],
      over: { part: partitions },
      resources: { cpu: 1 },
      run: async ({ item, progress }) => {
        progress(0.5);
        return { id: item.part.id, scored: item.part.rows };
      },
    });

    const total = dag.task('total', {
      upstream: [score],
      run: ({ inputs }) => inputs.score.reduce((sum, part) => sum + part.scored, 0),
    });
    return [partitions, score, total];
  },
);
