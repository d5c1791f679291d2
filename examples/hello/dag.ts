// The TypeScript twin of dag.yaml. Run it with the CLI: npx --no-install batuta dags test examples/hello/dag.ts
// or from code, once, in this process: npx tsx examples/hello/dag.ts
import { pathToFileURL } from 'node:url';
import { runDag } from '@batuta/orchestrator';
import { defineDag } from '@batuta/scheduler';
import { z } from 'zod';

export const hello = defineDag(
  {
    id: 'hello_ts',
    description: 'A first DAG — typed params, and typed task outputs that flow to their downstreams',
    tags: ['example'],
    owner: 'data-team',
    schedule: '@daily',
    // The zod schema checks every run's conf and types `params` in every task.
    params: z.object({ greeting: z.string().default('hello') }),
    defaults: {
      retry: { retries: 2, delay: '1s', backoff: 'exponential', maxDelay: '10s' },
      resources: { cpu: 0.5, memoryMb: 64 },
    },
  },
  (dag) => {
    const extract = dag.task('extract', {
      run: ({ params }) => ({ greeting: params.greeting, rows: [3, 1, 4, 1, 5] }),
    });

    const transform = dag.task('transform', {
      upstream: [extract],
      // `inputs.extract` is typed { greeting: string; rows: number[] }: a typo here is a compile error.
      run: ({ inputs }) => inputs.extract.rows.map((n) => n * 2),
    });

    const report = dag.task('report', {
      upstream: [extract],
      run: ({ inputs, log }) => {
        log(`${inputs.extract.greeting}: ${inputs.extract.rows.length} rows`);
        return inputs.extract.rows.length;
      },
    });

    const load = dag.task('load', {
      upstream: [transform, report],
      run: ({ inputs }) => ({ total: inputs.transform.reduce((a, b) => a + b, 0), count: inputs.report }),
    });
    // The refs returned here type the outputs runDag gives back.
    return [extract, transform, report, load];
  },
);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runDag(hello, { conf: { greeting: 'hi' } });
  // result.outputs.load is typed { total: number; count: number } | undefined
  console.log(`${result.state}: total ${result.outputs.load?.total} over ${result.outputs.load?.count} rows`);
}
