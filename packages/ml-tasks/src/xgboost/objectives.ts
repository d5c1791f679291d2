// What XGBoost does before and after summing the trees, per objective.
//
// base_score: the JSON stores it in response space (a probability for logistic objectives, a mean
// for squared error). XGBoost turns it into the starting margin with the objective's ProbToMargin:
// logit(p) for binary:logistic / reg:logistic / binary:logitraw, log(m) for count:poisson /
// reg:gamma / reg:tweedie, and identity for squared error and friends. The softmax objectives have
// no ProbToMargin: every class margin starts at base_score as written — a scalar (softmax is
// shift-invariant, so it never changes their probabilities) or, from XGBoost 3.1, a per-class
// vector, which XGBoost's predictor adds as margins too. This holds for the 1.x, 2.x and 3.x writers.
import { MlTasksError } from '../errors.js';

/** How summed margins become XGBoost's `predict()` output. */
export type OutputTransform = 'identity' | 'sigmoid' | 'exp' | 'softmax' | 'argmax';

/** One supported objective. */
export interface ObjectiveSpec {
  name: string;
  /** Response-space base_score → starting margin (float32 arithmetic, as XGBoost). */
  baseMargin: (baseScore: number) => number;
  transform: OutputTransform;
}

const identity = (value: number): number => Math.fround(value);
const logit = (probability: number): number => {
  if (!(probability > 0 && probability < 1)) {
    throw new MlTasksError('INVALID_MODEL', `base_score ${probability} must be in (0, 1) for a logistic objective`);
  }
  return Math.fround(-Math.log(1 / probability - 1));
};
const log = (mean: number): number => {
  if (!(mean > 0)) throw new MlTasksError('INVALID_MODEL', `base_score ${mean} must be > 0 for a log-link objective`);
  return Math.fround(Math.log(mean));
};

const OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'multi:softprob', baseMargin: identity, transform: 'softmax' },
  { name: 'multi:softmax', baseMargin: identity, transform: 'argmax' },
  { name: 'binary:logistic', baseMargin: logit, transform: 'sigmoid' },
  { name: 'reg:logistic', baseMargin: logit, transform: 'sigmoid' },
  { name: 'binary:logitraw', baseMargin: logit, transform: 'identity' },
  { name: 'reg:squarederror', baseMargin: identity, transform: 'identity' },
  { name: 'reg:linear', baseMargin: identity, transform: 'identity' },
  { name: 'reg:pseudohubererror', baseMargin: identity, transform: 'identity' },
  { name: 'reg:absoluteerror', baseMargin: identity, transform: 'identity' },
  { name: 'count:poisson', baseMargin: log, transform: 'exp' },
  { name: 'reg:gamma', baseMargin: log, transform: 'exp' },
  { name: 'reg:tweedie', baseMargin: log, transform: 'exp' },
];

/** The names this scorer supports. */
export const SUPPORTED_OBJECTIVES: readonly string[] = OBJECTIVES.map((objective) => objective.name);

/** The spec of an objective, or an UNSUPPORTED_MODEL error naming the supported ones. */
export function objectiveSpec(name: string): ObjectiveSpec {
  const found = OBJECTIVES.find((objective) => objective.name === name);
  if (!found) {
    throw new MlTasksError(
      'UNSUPPORTED_MODEL',
      `objective '${name}' is not supported; supported: ${SUPPORTED_OBJECTIVES.join(', ')}`,
      { details: { objective: name } },
    );
  }
  return found;
}
