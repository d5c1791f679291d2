export { MlTasksError, type MlTasksErrorCode } from './errors.js';
export {
  entityIdKey,
  fixedPointKey,
  type KeyScheme,
  keyForLookup,
  keySchemeSchema,
  keysForRows,
  pythonText,
  pythonTextKey,
  sha256Hex,
} from './keys/key-schemes.js';
export { pythonFloatString } from './keys/python-float.js';
export { SUPPORTED_OBJECTIVES } from './xgboost/objectives.js';
export {
  type FeatureLayout,
  type FeatureMatrix,
  XgboostModel,
  type XgboostModelOptions,
} from './xgboost/xgboost-model.js';
