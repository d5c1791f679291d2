// @batuta/ml-tasks/internals — the parts the CLI, tests and benchmarks use but a
// user does not need (stream names, lease keys, the compiled plan, client options, pure helpers).
// Not covered by semver: import from the root entry unless you are extending Batuta itself.
export { MsetEncoder } from './ingest/mset-command.js';
export { deleteMatching, type LayoutInfo } from './ingest/prediction-sets.js';
export { checkName, PredictionKeys, type PredictionLayout } from './ingest/redis-layout.js';
export { readBytes, writeBytes } from './io/blob.js';
export { pythonFloatString } from './keys/python-float.js';
export { RowKeyEncoder, writePythonFloat } from './keys/row-key-encoder.js';
export { ShortSha256 } from './keys/short-sha256.js';
export { batchPredictArgs, partitionOf } from './operators/batch-predict-operator.js';
export { drainMissesArgs } from './operators/drain-misses-operator.js';
export { ingestRedisArgs, type PredictionsFileResult } from './operators/ingest-redis-operator.js';
export { loadCsvArgs } from './operators/load-csv-operator.js';
export { loadModelArgs } from './operators/load-model-operator.js';
export {
  decodeFloat64,
  encodeFloat64,
  type ModelPayload,
  modelOf,
  type PredictionsPayload,
  type TablePayload,
  tableOf,
} from './operators/payloads.js';
export { validateModelArgs } from './operators/validate-model-operator.js';
export { featureLayoutOf, partitionRange } from './predict/batch-predict.js';
