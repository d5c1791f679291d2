// An XGBoost model read from its JSON format and scored in TypeScript, as XGBoost scores it: the
// same float32 comparisons and float32 margin sums in tree order, missing values (NaN) following
// each split's default direction, base_score turned into a margin by the objective, then the
// objective's transform.
import type { z } from 'zod';
import { MlTasksError } from '../errors.js';
import { FlatForest } from './flat-forest.js';
import { type ForestPlan, ForestScorer } from './forest-scorer.js';
import { xgboostModelSchema } from './model-schema.js';
import { type ObjectiveSpec, type OutputTransform, objectiveSpec } from './objectives.js';

/** Row-major feature values; NaN marks a missing value. */
export type FeatureMatrix = Float32Array | Float64Array | readonly number[];

/** Where the features sit in each row of a wider table: `stride` values per row, features from `offset`. */
export interface FeatureLayout {
  stride: number;
  offset: number;
}

/** Options for reading a model. */
export interface XgboostModelOptions {
  /** Named in error messages (a path or URL). */
  source?: string;
  /** Compile the QuickScorer scans to JavaScript (default true); false forces the interpreted loop. */
  compile?: boolean;
}

/** Rows scored per block: a block's features, leaf sets and margins stay in L1. */
const BLOCK_ROWS = 256;

function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `  ${path}: ${issue.message}`;
  });
  const more = error.issues.length > 5 ? `\n  … and ${error.issues.length - 5} more` : '';
  return `${source} is not an XGBoost JSON model:\n${lines.join('\n')}${more}`;
}

/** A scorer for one XGBoost JSON model. The `…Into` methods allocate nothing: reuse them in loops. */
export class XgboostModel {
  /** Where the model came from (a path or URL), for messages. */
  readonly source: string;
  readonly objective: string;
  readonly featureCount: number;
  /** Margins per row: the class count for softmax objectives, else the target count (usually 1). */
  readonly groupCount: number;
  readonly treeCount: number;
  /** Values `predictInto` writes per row: 1 for multi:softmax (the class), else groupCount. */
  readonly outputsPerRow: number;
  /** The XGBoost version that wrote the file, when it says. */
  readonly writerVersion: readonly number[] | undefined;
  readonly featureNames: readonly string[] | undefined;
  /** Starting margin of each group (float32). */
  readonly baseMargins: Float32Array;
  /** How the trees are scored (QuickScorer chunks, compiled or not; walked trees). */
  readonly plan: ForestPlan;

  private readonly scorer: ForestScorer;
  private readonly transform: OutputTransform;
  private readonly blockFeatures: Float64Array;
  private readonly blockMissing: Uint8Array;
  private readonly blockMargins: Float32Array;
  private readonly classMargins: Float64Array;
  private readonly groupScratch: Float64Array;
  /** BLOCK_ROWS copies of the base margins, copied over a block's margins before summing. */
  private readonly baseBlock: Float32Array;

  private constructor(
    source: string,
    spec: ObjectiveSpec,
    forest: FlatForest,
    baseMargins: Float32Array,
    document: { version: readonly number[] | undefined; featureNames: readonly string[] | undefined },
    compile: boolean,
  ) {
    this.source = source;
    this.objective = spec.name;
    this.transform = spec.transform;
    this.featureCount = forest.featureCount;
    this.groupCount = forest.groupCount;
    this.treeCount = forest.treeCount;
    this.outputsPerRow = spec.transform === 'argmax' ? 1 : forest.groupCount;
    this.baseMargins = baseMargins;
    this.writerVersion = document.version;
    this.featureNames = document.featureNames;
    this.scorer = new ForestScorer(forest, { compile });
    this.plan = this.scorer.plan;
    this.blockFeatures = new Float64Array(BLOCK_ROWS * forest.featureCount);
    this.blockMissing = new Uint8Array(BLOCK_ROWS);
    this.blockMargins = new Float32Array(BLOCK_ROWS * forest.groupCount);
    this.classMargins = new Float64Array(BLOCK_ROWS * forest.groupCount);
    this.groupScratch = new Float64Array(forest.groupCount);
    this.baseBlock = new Float32Array(BLOCK_ROWS * forest.groupCount);
    for (let i = 0; i < this.baseBlock.length; i++) this.baseBlock[i] = baseMargins[i % forest.groupCount] as number;
  }

  /** Reads a model from its JSON text (what `Booster.save_model('model.json')` writes). */
  static fromJsonText(text: string, options: XgboostModelOptions = {}): XgboostModel {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      const source = options.source ?? 'model';
      throw new MlTasksError('INVALID_MODEL', `${source} is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return XgboostModel.fromJson(document, options);
  }

  /** Reads a model from its parsed JSON document, validated with errors that name the field. */
  static fromJson(document: unknown, options: XgboostModelOptions = {}): XgboostModel {
    const source = options.source ?? 'model';
    const parsed = xgboostModelSchema.safeParse(document);
    if (!parsed.success) throw new MlTasksError('INVALID_MODEL', describeIssues(parsed.error, source));
    const learner = parsed.data.learner;
    const booster = learner.gradient_booster;
    if (booster.name !== 'gbtree') {
      throw new MlTasksError(
        'UNSUPPORTED_MODEL',
        `${source}: booster '${booster.name}' is not supported (only gbtree); retrain with booster='gbtree'`,
      );
    }
    const spec = objectiveSpec(learner.objective.name);
    const params = learner.learner_model_param;
    const featureCount = params.num_feature;
    const isSoftmax = spec.transform === 'softmax' || spec.transform === 'argmax';
    const groupCount = isSoftmax ? params.num_class : Math.max(1, params.num_target ?? 1);
    if (isSoftmax && groupCount < 2) {
      throw new MlTasksError('INVALID_MODEL', `${source}: ${spec.name} needs num_class >= 2, got ${params.num_class}`);
    }
    const model = booster.model;
    if (model.trees.length !== model.tree_info.length || model.trees.length !== model.gbtree_model_param.num_trees) {
      throw new MlTasksError(
        'INVALID_MODEL',
        `${source}: ${model.trees.length} trees, ${model.tree_info.length} tree_info entries and num_trees ${model.gbtree_model_param.num_trees} disagree`,
      );
    }
    const badGroup = model.tree_info.findIndex((group) => group >= groupCount);
    if (badGroup >= 0) {
      throw new MlTasksError(
        'INVALID_MODEL',
        `${source}: tree_info[${badGroup}] = ${model.tree_info[badGroup]} but the model has ${groupCount} output groups`,
      );
    }
    const scores = params.base_score;
    if (scores.length !== 1 && scores.length !== groupCount) {
      throw new MlTasksError(
        'INVALID_MODEL',
        `${source}: base_score has ${scores.length} values; expected 1 or ${groupCount} (one per output group)`,
      );
    }
    const baseMargins = new Float32Array(groupCount);
    for (let group = 0; group < groupCount; group++) {
      baseMargins[group] = spec.baseMargin(Math.fround((scores.length === 1 ? scores[0] : scores[group]) as number));
    }
    const forest = new FlatForest(model.trees, model.tree_info, featureCount, groupCount);
    const names = learner.feature_names && learner.feature_names.length > 0 ? learner.feature_names : undefined;
    return new XgboostModel(
      source,
      spec,
      forest,
      baseMargins,
      { version: parsed.data.version, featureNames: names },
      options.compile ?? true,
    );
  }

  /** True for objectives whose outputs are classes (softmax, softprob, logistic, logitraw). */
  get isClassifier(): boolean {
    return (
      this.transform === 'softmax' ||
      this.transform === 'argmax' ||
      this.transform === 'sigmoid' ||
      this.objective === 'binary:logitraw'
    );
  }

  /**
   * XGBoost's `predict()` for `rowCount` rows: probabilities (softprob, one per class), the class
   * index (softmax), a probability (logistic) or the value (regression); `out` needs
   * rowCount × outputsPerRow entries. `features` is row-major, `featureCount` values per row
   * unless `layout` says where they sit in wider rows.
   */
  predictInto(
    features: FeatureMatrix,
    rowCount: number,
    out: Float32Array | Float64Array,
    layout?: FeatureLayout,
  ): void {
    const resolved = this.checkSizes(features, rowCount, out, this.outputsPerRow, layout);
    this.run(features, resolved, 0, rowCount, out, 0, this.transform);
  }

  /** The summed margins before the transform (XGBoost's `output_margin=True`); rowCount × groupCount. */
  predictMarginInto(
    features: FeatureMatrix,
    rowCount: number,
    out: Float32Array | Float64Array,
    layout?: FeatureLayout,
  ): void {
    const resolved = this.checkSizes(features, rowCount, out, this.groupCount, layout);
    this.run(features, resolved, 0, rowCount, out, 0, 'identity');
  }

  /** Class indices (XGBoost's first maximum of the margins; margin > 0 for one logistic output). */
  predictClassesInto(
    features: FeatureMatrix,
    rowCount: number,
    out: Int32Array | Uint8Array | Float64Array,
    layout?: FeatureLayout,
  ): void {
    if (!this.isClassifier) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        `${this.source}: ${this.objective} is a regression; it has no classes`,
      );
    }
    const resolved = this.checkSizes(features, rowCount, out, 1, layout);
    const margins = this.classMargins;
    for (let start = 0; start < rowCount; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, rowCount - start);
      this.run(features, resolved, start, rows, margins, 0, 'identity');
      for (let row = 0; row < rows; row++) out[start + row] = this.classOf(margins, row * this.groupCount);
    }
  }

  /** Scores one row; allocates its result (use predictInto for batches). */
  predictRow(features: ArrayLike<number>): number[] {
    if (features.length !== this.featureCount) {
      throw new MlTasksError(
        'FEATURE_COUNT_MISMATCH',
        `${this.source} expects ${this.featureCount} features, got ${features.length}`,
      );
    }
    const out = new Float64Array(this.outputsPerRow);
    this.predictInto(Float64Array.from(features), 1, out);
    return Array.from(out);
  }

  private classOf(margins: Float64Array, base: number): number {
    if (this.groupCount === 1) return (margins[base] as number) > 0 ? 1 : 0;
    let best = 0;
    let bestValue = margins[base] as number;
    for (let group = 1; group < this.groupCount; group++) {
      const value = margins[base + group] as number;
      if (value > bestValue) {
        bestValue = value;
        best = group;
      }
    }
    return best;
  }

  private checkSizes(
    features: FeatureMatrix,
    rowCount: number,
    out: ArrayLike<number>,
    perRow: number,
    layout: FeatureLayout | undefined,
  ): FeatureLayout {
    const resolved = layout ?? { stride: this.featureCount, offset: 0 };
    if (resolved.offset < 0 || resolved.offset + this.featureCount > resolved.stride) {
      throw new MlTasksError(
        'FEATURE_COUNT_MISMATCH',
        `${this.source} needs ${this.featureCount} features; rows of ${resolved.stride} values from offset ${resolved.offset} do not hold them`,
      );
    }
    if (rowCount > 0 && features.length < (rowCount - 1) * resolved.stride + resolved.offset + this.featureCount) {
      throw new MlTasksError(
        'FEATURE_COUNT_MISMATCH',
        `${this.source}: ${rowCount} rows of ${resolved.stride} values need ${rowCount * resolved.stride} values, got ${features.length}`,
      );
    }
    if (out.length < rowCount * perRow) {
      throw new MlTasksError('INVALID_ARGUMENT', `output holds ${out.length} values, ${rowCount * perRow} needed`);
    }
    return resolved;
  }

  // Scores rows [firstRow, firstRow + rowCount) block by block into out[outOffset…].
  private run(
    features: FeatureMatrix,
    layout: FeatureLayout,
    firstRow: number,
    rowCount: number,
    out: Float32Array | Float64Array,
    outOffset: number,
    transform: OutputTransform,
  ): void {
    const featureCount = this.featureCount;
    const groupCount = this.groupCount;
    const perRow = transform === 'argmax' ? 1 : groupCount;
    const { stride, offset } = layout;
    const x = this.blockFeatures;
    const missing = this.blockMissing;
    const margins = this.blockMargins;
    for (let start = 0; start < rowCount; start += BLOCK_ROWS) {
      const rows = Math.min(rowCount - start, BLOCK_ROWS);
      let anyMissing = false;
      if (stride === featureCount) {
        // Dense rows: one flat copy, rounding to float32; NaN is checked per row only when present.
        const from = (firstRow + start) * featureCount + offset;
        const count = rows * featureCount;
        for (let i = 0; i < count; i++) {
          const value = Math.fround(features[from + i] as number);
          x[i] = value;
          if (Number.isNaN(value)) anyMissing = true;
        }
        if (anyMissing) {
          for (let row = 0; row < rows; row++) {
            let rowMissing = 0;
            for (let f = 0; f < featureCount; f++) if (Number.isNaN(x[row * featureCount + f])) rowMissing = 1;
            missing[row] = rowMissing;
          }
        } else {
          missing.fill(0, 0, rows);
        }
      } else {
        for (let row = 0; row < rows; row++) {
          const from = (firstRow + start + row) * stride + offset;
          const to = row * featureCount;
          let rowMissing = 0;
          for (let feature = 0; feature < featureCount; feature++) {
            const value = Math.fround(features[from + feature] as number);
            x[to + feature] = value;
            if (Number.isNaN(value)) rowMissing = 1;
          }
          missing[row] = rowMissing;
          if (rowMissing === 1) anyMissing = true;
        }
      }
      margins.set(this.baseBlock.subarray(0, rows * groupCount));
      this.scorer.accumulate(x, rows, missing, anyMissing, margins);
      writeOutputs(margins, rows, groupCount, transform, out, outOffset + start * perRow, this.groupScratch);
    }
  }
}

// The objective's transform, from float32 margins to outputs. Softmax subtracts the row maximum
// before exponentiating, as XGBoost does; the result is within 1e-7 of XGBoost's float32 one.
function writeOutputs(
  margins: Float32Array,
  rows: number,
  groupCount: number,
  transform: OutputTransform,
  out: Float32Array | Float64Array,
  outBase: number,
  scratch: Float64Array,
): void {
  const count = rows * groupCount;
  switch (transform) {
    case 'identity':
      for (let i = 0; i < count; i++) out[outBase + i] = margins[i] as number;
      return;
    case 'sigmoid':
      for (let i = 0; i < count; i++) out[outBase + i] = 1 / (1 + Math.exp(-(margins[i] as number)));
      return;
    case 'exp':
      for (let i = 0; i < count; i++) out[outBase + i] = Math.exp(margins[i] as number);
      return;
    case 'softmax':
      // exp(max - max) = 1 needs no call: K - 1 exponentials per row instead of K.
      for (let row = 0; row < rows; row++) {
        const base = row * groupCount;
        let top = 0;
        let max = margins[base] as number;
        for (let group = 1; group < groupCount; group++) {
          const value = margins[base + group] as number;
          if (value > max) {
            max = value;
            top = group;
          }
        }
        let sum = 1;
        for (let group = 0; group < groupCount; group++) {
          const value = group === top ? 1 : Math.exp((margins[base + group] as number) - max);
          scratch[group] = value;
          if (group !== top) sum += value;
        }
        for (let group = 0; group < groupCount; group++) out[outBase + base + group] = (scratch[group] as number) / sum;
      }
      return;
    case 'argmax':
      for (let row = 0; row < rows; row++) {
        const base = row * groupCount;
        let best = 0;
        let bestValue = margins[base] as number;
        for (let group = 1; group < groupCount; group++) {
          const value = margins[base + group] as number;
          if (value > bestValue) {
            bestValue = value;
            best = group;
          }
        }
        out[outBase + row] = best;
      }
      return;
  }
}
