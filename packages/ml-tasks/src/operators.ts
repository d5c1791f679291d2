// The ML operators, registered by name for YAML DAGs and workers:
//   ml.loadCsv, ml.loadModel, ml.validateModel, ml.batchPredict, ml.ingestRedis, ml.drainMisses,
//   ml.rollout.start, ml.rollout.advance, ml.rollout.promote, ml.rollout.abort.
// Their outputs travel between tasks through the state store as JSON (see operators/payloads.ts):
// small tables and models inline, large ones by reference (a URL the next task re-reads).
import type { OperatorRegistry } from '@batuta/scheduler';
import { batchPredictOperator } from './operators/batch-predict-operator.js';
import { drainMissesOperator } from './operators/drain-misses-operator.js';
import { ingestRedisOperator } from './operators/ingest-redis-operator.js';
import { loadCsvOperator } from './operators/load-csv-operator.js';
import { loadModelOperator } from './operators/load-model-operator.js';
import {
  rolloutAbortOperator,
  rolloutAdvanceOperator,
  rolloutPromoteOperator,
  rolloutStartOperator,
} from './operators/rollout-operators.js';
import { validateModelOperator } from './operators/validate-model-operator.js';

/** The names registerMlOperators adds. */
export const ML_OPERATOR_NAMES = [
  'ml.loadCsv',
  'ml.loadModel',
  'ml.validateModel',
  'ml.batchPredict',
  'ml.ingestRedis',
  'ml.drainMisses',
  'ml.rollout.start',
  'ml.rollout.advance',
  'ml.rollout.promote',
  'ml.rollout.abort',
] as const;

/** Registers the ML operators on a registry (returns it, for chaining). */
export function registerMlOperators(registry: OperatorRegistry, options: { replace?: boolean } = {}): OperatorRegistry {
  registry.register(loadCsvOperator, options);
  registry.register(loadModelOperator, options);
  registry.register(validateModelOperator, options);
  registry.register(batchPredictOperator, options);
  registry.register(ingestRedisOperator, options);
  registry.register(drainMissesOperator, options);
  registry.register(rolloutStartOperator, options);
  registry.register(rolloutAdvanceOperator, options);
  registry.register(rolloutPromoteOperator, options);
  registry.register(rolloutAbortOperator, options);
  return registry;
}
