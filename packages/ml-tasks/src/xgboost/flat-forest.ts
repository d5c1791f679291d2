// XGBoost's trees flattened into typed arrays (all trees' nodes concatenated, children as absolute
// indices), and XGBoost's own walk over them: `x < threshold` goes left, a missing value (NaN)
// follows the split's default_left. Thresholds are float32 values and features are rounded to
// float32 before they are compared, so the double comparison decides exactly as XGBoost's float32
// one does. The fast scorer (quickscorer.ts) handles most rows; this walk handles the rest.
import { MlTasksError } from '../errors.js';
import type { XgboostTreeDocument } from './model-schema.js';

interface TreeShape {
  depth: number;
  nodeCount: number;
  leafCount: number;
}

function checkTree(tree: XgboostTreeDocument, index: number, featureCount: number): TreeShape {
  const nodeCount = tree.tree_param.num_nodes;
  const where = `trees[${index}]`;
  const fail = (message: string): never => {
    throw new MlTasksError('INVALID_MODEL', `${where}: ${message}`, { details: { tree: index } });
  };
  if ((tree.tree_param.size_leaf_vector ?? 1) > 1) {
    throw new MlTasksError('UNSUPPORTED_MODEL', `${where}: vector leaves (multi-target trees) are not supported`);
  }
  if ((tree.categories_nodes?.length ?? 0) > 0 || tree.split_type?.some((type) => type !== 0)) {
    throw new MlTasksError('UNSUPPORTED_MODEL', `${where}: categorical splits are not supported`);
  }
  for (const [name, values] of [
    ['left_children', tree.left_children],
    ['right_children', tree.right_children],
    ['split_indices', tree.split_indices],
    ['split_conditions', tree.split_conditions],
    ['default_left', tree.default_left],
  ] as const) {
    if (values.length !== nodeCount)
      fail(`${name} has ${values.length} entries, tree_param.num_nodes says ${nodeCount}`);
  }
  if (nodeCount < 1) fail('the tree has no nodes');
  // Walk from the root with an explicit stack: checks links, finds the depth, rejects cycles.
  const seen = new Uint8Array(nodeCount);
  const stack: number[] = [0, 0];
  let depth = 0;
  let leafCount = 0;
  while (stack.length > 0) {
    const nodeDepth = stack.pop() as number;
    const node = stack.pop() as number;
    if (seen[node]) fail(`node ${node} is reached twice (the links do not form a tree)`);
    seen[node] = 1;
    const left = tree.left_children[node] as number;
    if (left === -1) {
      if (nodeDepth > depth) depth = nodeDepth;
      leafCount++;
      continue;
    }
    const right = tree.right_children[node] as number;
    if (left < 0 || left >= nodeCount || right < 0 || right >= nodeCount) {
      fail(`node ${node} links to children ${left} and ${right}, outside 0..${nodeCount - 1}`);
    }
    if ((tree.split_indices[node] as number) >= featureCount) {
      fail(`node ${node} splits on feature ${tree.split_indices[node]}, the model has ${featureCount} features`);
    }
    stack.push(left, nodeDepth + 1, right, nodeDepth + 1);
  }
  if (seen.indexOf(0) >= 0) fail(`node ${seen.indexOf(0)} is not reachable from the root`);
  return { depth, nodeCount, leafCount };
}

/** An ensemble's trees in XGBoost's node layout; each tree adds to one output group. */
export class FlatForest {
  readonly featureCount: number;
  readonly groupCount: number;
  readonly treeCount: number;
  readonly maxDepth: number;
  readonly treeGroup: Int32Array;
  readonly treeRoot: Int32Array;
  readonly treeLeafCount: Int32Array;
  /** Split feature per node; -1 marks a leaf. */
  readonly nodeFeature: Int32Array;
  /** Split threshold (internal node) or leaf value (leaf), as float32 values. */
  readonly nodeValue: Float64Array;
  readonly nodeLeft: Int32Array;
  readonly nodeRight: Int32Array;
  readonly nodeDefaultLeft: Uint8Array;

  constructor(
    trees: readonly XgboostTreeDocument[],
    treeGroups: readonly number[],
    featureCount: number,
    groupCount: number,
  ) {
    this.featureCount = featureCount;
    this.groupCount = groupCount;
    this.treeCount = trees.length;
    const shapes = trees.map((tree, index) => checkTree(tree, index, featureCount));
    this.maxDepth = shapes.reduce((max, shape) => Math.max(max, shape.depth), 0);
    const totalNodes = shapes.reduce((sum, shape) => sum + shape.nodeCount, 0);
    this.treeGroup = Int32Array.from(treeGroups);
    this.treeRoot = new Int32Array(trees.length);
    this.treeLeafCount = Int32Array.from(shapes, (shape) => shape.leafCount);
    this.nodeFeature = new Int32Array(totalNodes);
    this.nodeValue = new Float64Array(totalNodes);
    this.nodeLeft = new Int32Array(totalNodes);
    this.nodeRight = new Int32Array(totalNodes);
    this.nodeDefaultLeft = new Uint8Array(totalNodes);
    let nodeBase = 0;
    trees.forEach((tree, t) => {
      const shape = shapes[t] as TreeShape;
      this.treeRoot[t] = nodeBase;
      for (let node = 0; node < shape.nodeCount; node++) {
        const at = nodeBase + node;
        const left = tree.left_children[node] as number;
        const isLeaf = left === -1;
        this.nodeFeature[at] = isLeaf ? -1 : (tree.split_indices[node] as number);
        // A leaf's value sits in split_conditions too; every number in the file is a float32.
        this.nodeValue[at] = Math.fround(tree.split_conditions[node] as number);
        this.nodeLeft[at] = isLeaf ? -1 : nodeBase + left;
        this.nodeRight[at] = isLeaf ? -1 : nodeBase + (tree.right_children[node] as number);
        this.nodeDefaultLeft[at] = tree.default_left[node] ? 1 : 0;
      }
      nodeBase += shape.nodeCount;
    });
  }

  /** The leaf value tree `tree` gives the row at `x[rowBase…]`, walked as XGBoost walks it. */
  walk(tree: number, x: Float64Array, rowBase: number): number {
    const feature = this.nodeFeature;
    const value = this.nodeValue;
    let node = this.treeRoot[tree] as number;
    let split = feature[node] as number;
    while (split >= 0) {
      const input = x[rowBase + split] as number;
      if (Number.isNaN(input)) {
        node = this.nodeDefaultLeft[node] ? (this.nodeLeft[node] as number) : (this.nodeRight[node] as number);
      } else {
        node = input < (value[node] as number) ? (this.nodeLeft[node] as number) : (this.nodeRight[node] as number);
      }
      split = feature[node] as number;
    }
    return value[node] as number;
  }
}
