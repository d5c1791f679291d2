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
export { listPredictionModels } from './ingest/prediction-models.js';
export { PredictionSets, rollback, type VersionInfo, type VersionMeta } from './ingest/prediction-sets.js';
export { DEFAULT_NAMESPACE } from './ingest/redis-layout.js';
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
export { type DrainedMisses, drainMisses, recordMiss } from './lookup/misses.js';
export {
  type LiveScorer,
  type LookupArm,
  type LookupQuery,
  type LookupResult,
  liveScorer,
  type MissPolicy,
  PredictionClient,
  type PredictionClientOptions,
} from './lookup/prediction-client.js';
export { type ServedModelScorerOptions, servedModelScorer } from './lookup/served-model-scorer.js';
export { DEFAULT_REDIS_URL, openRedis, redisUrlFor } from './operators/task-inputs.js';
export { ML_OPERATOR_NAMES, registerMlOperators } from './operators.js';
export { type BatchPredictions, type BatchPredictOptions, batchPredict } from './predict/batch-predict.js';
export { type PredictAndIngestOptions, predictAndIngest } from './predict/predict-and-ingest.js';
export { type ArmStats, type BanditAlgorithm, BanditPolicy } from './rollout/bandit.js';
export { CachedRollout } from './rollout/cached-rollout.js';
export {
  type ArmFigures,
  type CanaryAction,
  type CanaryDecision,
  type CanaryFigures,
  decideCanary,
  emptyArmFigures,
} from './rollout/canary.js';
export { type RandomSource, SeededRandom } from './rollout/random.js';
export { routerFor, secondOpinion } from './rollout/rollout-router.js';
export {
  type CanaryGuards,
  type CanaryStep,
  type RolloutSpec,
  type RolloutSpecInput,
  type RolloutStrategy,
  rolloutSpecSchema,
} from './rollout/rollout-spec.js';
export {
  type ArmFigureRow,
  armFigureRows,
  HOLDOUT,
  type RecordOutcome,
  RecordTally,
  type RolloutFigures,
  type RolloutLogEntry,
  type RolloutReport,
  RolloutStore,
  type RolloutStoreOptions,
  type StoredRollout,
  versionsOf,
} from './rollout/rollout-store.js';
export {
  candidateShare,
  promotedVersion,
  type RolloutState,
  type RolloutStatus,
  type Route,
  rolloutSplit,
  route,
  stickyBucket,
} from './rollout/router.js';
export {
  type DifferenceReport,
  fixedHorizonSampleSize,
  type Interval,
  type MeanSummary,
  meanDifference,
  type Proportion,
  proportionDifference,
  type SampleRatioReport,
  SequentialTest,
  sampleRatioMismatch,
  wilsonInterval,
} from './rollout/statistics.js';
export {
  ModelServer,
  type ModelServerOptions,
  type ModelStatus,
  type Prediction,
  type ServedVersion,
} from './serving/model-server.js';
export { SUPPORTED_OBJECTIVES } from './xgboost/objectives.js';
export {
  type FeatureLayout,
  type FeatureMatrix,
  XgboostModel,
  type XgboostModelOptions,
} from './xgboost/xgboost-model.js';
