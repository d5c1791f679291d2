// Branching and a join: `choose` follows one path, the other is skipped, and `join` runs with the
// trigger rule none_failed_min_one_success (Airflow's recommended rule after a branch). `targets` lists
// the branch's downstreams, so returning any other id — or adding a downstream not listed — is a compile error.
// Run it: npx --no-install batuta dags test examples/branching/dag.ts --conf '{"size": 5000}'
import { defineDag } from '@batuta/scheduler';
import { z } from 'zod';

export const branching = defineDag(
  {
    id: 'branching',
    description: 'Choose a small or a large path by the batch size, then join',
    params: z.object({ size: z.number().int().min(0).default(100) }),
  },
  (dag) => {
    const measure = dag.task('measure', { run: ({ params }) => params.size });

    const choose = dag.branch('choose', {
      upstream: [measure],
      targets: ['small_batch', 'large_batch'],
      run: ({ inputs }) => (inputs.measure > 1000 ? 'large_batch' : 'small_batch'),
    });

    const small = dag.task('small_batch', { upstream: [choose], run: () => 'scored in-process' });
    const large = dag.task('large_batch', {
      upstream: [choose],
      resources: { cpu: 2 },
      run: () => 'scored on the big pool',
    });

    const join = dag.task('join', {
      upstream: [small, large],
      triggerRule: 'none_failed_min_one_success',
      run: ({ inputs }) => inputs.small_batch ?? inputs.large_batch,
    });
    return [measure, choose, small, large, join];
  },
);
