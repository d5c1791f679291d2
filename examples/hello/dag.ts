// The TypeScript twin of dag.yaml. Run it: npx batuta dags test examples/hello/dag.ts
import { defineDag } from '@batuta/scheduler';

export const hello = defineDag({
  id: 'hello_ts',
  description: 'A first DAG — typed task outputs flow to their downstreams',
  tags: ['example'],
  owner: 'data-team',
  schedule: '@daily',
  params: { greeting: { type: 'string', default: 'hello' } },
  defaults: {
    retry: { retries: 2, delay: '1s', backoff: 'exponential', maxDelay: '10s' },
    resources: { cpu: 0.5, memoryMb: 64 },
  },
});

const extract = hello.task('extract', {
  run: ({ params }) => ({ greeting: String(params.greeting), rows: [3, 1, 4, 1, 5] }),
});

const transform = hello.task('transform', {
  upstream: [extract],
  // `inputs.extract` is typed { greeting: string; rows: number[] }: a typo here is a compile error.
  run: ({ inputs }) => inputs.extract.rows.map((n) => n * 2),
});

const report = hello.task('report', {
  upstream: [extract],
  run: ({ inputs, log }) => {
    log(`${inputs.extract.greeting}: ${inputs.extract.rows.length} rows`);
    return inputs.extract.rows.length;
  },
});

hello.task('load', {
  upstream: [transform, report],
  run: ({ inputs }) => ({ total: inputs.transform.reduce((a, b) => a + b, 0), count: inputs.report }),
});
