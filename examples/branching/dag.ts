// Branching and a join: `choose` follows one path, the other is skipped, and `join` runs with the
// trigger rule none_failed_min_one_success (Airflow's recommended rule after a branch).
// Run it: npx batuta dags test examples/branching/dag.ts --conf '{"size": 5000}'
import { defineDag } from '@batuta/scheduler';

export const branching = defineDag({
  id: 'branching',
  description: 'Choose a small or a large path by the batch size, then join',
  params: { size: { type: 'integer', default: 100, minimum: 0 } },
});

const measure = branching.task('measure', { run: ({ params }) => Number(params.size) });

const choose = branching.branch('choose', {
  upstream: [measure],
  run: ({ inputs }) => (inputs.measure > 1000 ? 'large_batch' : 'small_batch'),
});

const small = branching.task('small_batch', { upstream: [choose], run: () => 'scored in-process' });
const large = branching.task('large_batch', {
  upstream: [choose],
  resources: { cpu: 2 },
  run: () => 'scored on the big pool',
});

branching.task('join', {
  upstream: [small, large],
  triggerRule: 'none_failed_min_one_success',
  run: ({ inputs }) => inputs.small_batch ?? inputs.large_batch,
});
