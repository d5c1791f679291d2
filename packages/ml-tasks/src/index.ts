export { MlTasksError, type MlTasksErrorCode } from './errors.js';
export {
  evaluateModel,
  type GateReport,
  type MetricBounds,
  type MetricName,
  measureModel,
  metricBoundsSchema,
  type TrustedSet,
  validateModel,
} from './gate/validity-gate.js';
export {
  type IngestOptions,
  type IngestResult,
  ingestPredictions,
  PredictionWriter,
} from './ingest/ingest-predictions.js';
export {
  checkMinKeepShare,
  DEFAULT_MIN_KEEP_SHARE,
  type IngestGateInput,
  type IngestGateRecord,
  ingestSafetyVerdict,
} from './ingest/ingest-safety-gate.js';
export { MsetEncoder } from './ingest/mset-command.js';
export {
  deleteMatching,
  type LayoutInfo,
  PredictionSets,
  rollback,
  type VersionInfo,
  type VersionMeta,
} from './ingest/prediction-sets.js';
export { checkName, DEFAULT_NAMESPACE, PredictionKeys, type PredictionLayout } from './ingest/redis-layout.js';
export { readBytes, writeBytes } from './io/blob.js';
export { type CsvOptions, type NumericTable, parseNumericCsv } from './io/csv.js';
export { type LoadCsvOptions, type LoadedTable, loadCsv, loadModel, saveCsv } from './io/load.js';
export { type Location, parseLocation } from './io/location.js';
export { resolveS3Options, type S3Options } from './io/s3.js';
export {
  entityIdKey,
  fixedPointKey,
  type KeyScheme,
  keyForLookup,
  keySchemeSchema,
  keysForRows,
  PYTHON_TEXT_SCHEME,
  pythonText,
  pythonTextKey,
  sha256Hex,
} from './keys/key-schemes.js';
export { pythonFloatString } from './keys/python-float.js';
export { RowKeyEncoder, writePythonFloat } from './keys/row-key-encoder.js';
export { ShortSha256 } from './keys/short-sha256.js';
export { type DrainedMisses, drainMisses, recordMiss } from './lookup/misses.js';
export {
  type LiveScorer,
  type LookupQuery,
  type LookupResult,
  liveScorer,
  type MissPolicy,
  PredictionClient,
  type PredictionClientOptions,
} from './lookup/prediction-client.js';
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
export { DEFAULT_REDIS_URL, openRedis, redisUrlFor } from './operators/task-inputs.js';
export { validateModelArgs } from './operators/validate-model-operator.js';
export { ML_OPERATOR_NAMES, registerMlOperators } from './operators.js';
export {
  type BatchPredictions,
  type BatchPredictOptions,
  batchPredict,
  featureLayoutOf,
  partitionRange,
} from './predict/batch-predict.js';
export { type PredictAndIngestOptions, predictAndIngest } from './predict/predict-and-ingest.js';
export { SUPPORTED_OBJECTIVES } from './xgboost/objectives.js';
export {
  type FeatureLayout,
  type FeatureMatrix,
  XgboostModel,
  type XgboostModelOptions,
} from './xgboost/xgboost-model.js';
