// The TypeScript twin of dag.yaml: the same DAG, built with the DSL and the ML operators by name.
// Run it: npx --no-install batuta dags test examples/iris-batch/dag.ts
import { defineDag } from '@batuta/scheduler';

export const irisBatch = defineDag({
  id: 'iris_batch_ts',
  description: 'Score the iris batch with the XGBoost model and publish the predictions to Redis',
  tags: ['ml', 'batch', 'iris'],
  owner: 'ml-team',
  schedule: { cron: '0 */4 * * *', timezone: 'America/Argentina/Buenos_Aires' },
  maxActiveRuns: 1,
  defaults: {
    retry: { retries: 2, delay: '5s', backoff: 'exponential', maxDelay: '1m' },
    resources: { cpu: 1, memoryMb: 256 },
    timeout: '5m',
  },
});

const start = irisBatch.operator('start', { operator: 'empty' });
const loadData = irisBatch.operator('load_data', {
  upstream: [start],
  operator: 'ml.loadCsv',
  with: { url: 'data/iris.csv', header: false },
});
const loadModel = irisBatch.operator('load_model', {
  upstream: [start],
  operator: 'ml.loadModel',
  with: { url: 'data/model.json' },
});
const validate = irisBatch.operator('validate', {
  upstream: [loadModel],
  operator: 'ml.validateModel',
  with: {
    model: 'load_model',
    features: { url: 'data/iris.csv', header: false },
    labels: { url: 'data/iris_y.csv', header: false },
    bounds: { accuracy: { min: 0.9 } },
  },
});
// Four partitions, one mapped instance each: several workers share a large batch.
const predict = irisBatch.operator('predict', {
  upstream: [loadData, loadModel, validate],
  operator: 'ml.batchPredict',
  over: { partition: [0, 1, 2, 3] },
  with: {
    model: 'load_model',
    data: 'load_data',
    partitions: 4,
    keyScheme: { scheme: 'python-text' },
    classNames: ['setosa', 'versicolor', 'virginica'],
  },
});
const ingest = irisBatch.operator('ingest', {
  upstream: [predict],
  operator: 'ml.ingestRedis',
  with: { model: 'iris', from: 'predict' },
});
irisBatch.operator('end', { upstream: [ingest], operator: 'empty' });
