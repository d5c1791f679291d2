// Sums an ensemble's leaves for a block of rows, tree by tree in XGBoost's order, choosing per run
// of trees the fastest correct method: QuickScorer chunks for trees with at most 32 leaves, the
// node walk for larger trees and for every row that has a missing value.
import type { FlatForest } from './flat-forest.js';
import { QUICKSCORER_MAX_LEAVES, QUICKSCORER_MAX_SPLITS, QuickScorerChunk } from './quickscorer.js';

type Segment = { kind: 'quickscorer'; chunk: QuickScorerChunk } | { kind: 'walk'; tree: number };

/** How an ensemble is scored: `compiled` quickscorer chunks, interpreted ones, or walked trees. */
export interface ForestPlan {
  quickscorerChunks: number;
  compiledChunks: number;
  walkedTrees: number;
}

/** The block driver over a FlatForest. Margins are float32, summed in tree order per row. */
export class ForestScorer {
  readonly plan: ForestPlan;
  private readonly forest: FlatForest;
  private readonly segments: Segment[];

  constructor(forest: FlatForest, options: { compile?: boolean } = {}) {
    this.forest = forest;
    const compile = options.compile ?? true;
    this.segments = [];
    let first = 0;
    let splits = 0;
    const closeChunk = (end: number): void => {
      if (end > first)
        this.segments.push({ kind: 'quickscorer', chunk: new QuickScorerChunk(forest, first, end, compile) });
    };
    for (let tree = 0; tree < forest.treeCount; tree++) {
      const leafCount = forest.treeLeafCount[tree] as number;
      if (leafCount > QUICKSCORER_MAX_LEAVES) {
        closeChunk(tree);
        this.segments.push({ kind: 'walk', tree });
        first = tree + 1;
        splits = 0;
        continue;
      }
      if (splits + leafCount - 1 > QUICKSCORER_MAX_SPLITS && tree > first) {
        closeChunk(tree);
        first = tree;
        splits = 0;
      }
      splits += leafCount - 1;
    }
    closeChunk(forest.treeCount);
    const chunks = this.segments.flatMap((segment) => (segment.kind === 'quickscorer' ? [segment.chunk] : []));
    this.plan = {
      quickscorerChunks: chunks.length,
      compiledChunks: chunks.filter((chunk) => chunk.compiled).length,
      walkedTrees: this.segments.length - chunks.length,
    };
  }

  /**
   * Adds every tree's leaf to `margins` (rowCount × groupCount) for the rows of `x` (row-major,
   * values rounded to float32, NaN = missing). `missing[row]` is 1 for rows with a NaN;
   * `anyMissing` says whether any row has one.
   */
  accumulate(x: Float64Array, rowCount: number, missing: Uint8Array, anyMissing: boolean, margins: Float32Array): void {
    const forest = this.forest;
    const featureCount = forest.featureCount;
    const groupCount = forest.groupCount;
    for (const segment of this.segments) {
      if (segment.kind === 'quickscorer') {
        segment.chunk.accumulate(x, rowCount, missing, margins);
        continue;
      }
      const group = forest.treeGroup[segment.tree] as number;
      for (let row = 0; row < rowCount; row++) {
        if (missing[row] !== 0) continue;
        const at = row * groupCount + group;
        margins[at] = (margins[at] as number) + forest.walk(segment.tree, x, row * featureCount);
      }
    }
    if (!anyMissing) return;
    for (let row = 0; row < rowCount; row++) {
      if (missing[row] === 0) continue;
      for (let tree = 0; tree < forest.treeCount; tree++) {
        const at = row * groupCount + (forest.treeGroup[tree] as number);
        margins[at] = (margins[at] as number) + forest.walk(tree, x, row * featureCount);
      }
    }
  }
}
