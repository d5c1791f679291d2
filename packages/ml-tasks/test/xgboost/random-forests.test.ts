// Property test of the scorer's fast paths against a plain reference walk: random trees of every
// shape (1 to 40 leaves, so QuickScorer chunks, the 32-leaf boundary and walked trees all occur),
// random default directions, rows with missing values and values sitting exactly on thresholds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XgboostModel } from '../../src/index.js';

interface Tree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: number[];
  tree_param: { num_nodes: string; size_leaf_vector: string };
}

/** A random binary tree with `leaves` leaves, nodes numbered in creation order (root 0). */
function randomTree(leaves: number, features: number, random: () => number, thresholds: number[]): Tree {
  const tree: Tree = {
    left_children: [-1],
    right_children: [-1],
    split_indices: [0],
    split_conditions: [Math.fround(random() * 4 - 2)],
    default_left: [0],
    tree_param: { num_nodes: '1', size_leaf_vector: '1' },
  };
  const open = [0];
  while (open.length < leaves) {
    const node = open.splice(Math.floor(random() * open.length), 1)[0] as number;
    const left = tree.left_children.length;
    tree.left_children[node] = left;
    tree.right_children[node] = left + 1;
    tree.split_indices[node] = Math.floor(random() * features);
    tree.split_conditions[node] = thresholds[Math.floor(random() * thresholds.length)] as number;
    tree.default_left[node] = random() < 0.5 ? 1 : 0;
    for (let i = 0; i < 2; i++) {
      tree.left_children.push(-1);
      tree.right_children.push(-1);
      tree.split_indices.push(0);
      tree.split_conditions.push(Math.fround(random() * 2 - 1));
      tree.default_left.push(0);
      open.push(left + i);
    }
  }
  tree.tree_param.num_nodes = String(tree.left_children.length);
  return tree;
}

/** XGBoost's semantics written plainly: float32 inputs, `x < t` goes left, NaN follows default_left, float32 sums. */
function reference(trees: Tree[], groups: number[], base: number[], row: number[]): number[] {
  const margins = base.map((value) => Math.fround(value));
  trees.forEach((tree, t) => {
    let node = 0;
    while (tree.left_children[node] !== -1) {
      const value = Math.fround(row[tree.split_indices[node] as number] as number);
      const goLeft = Number.isNaN(value)
        ? tree.default_left[node] === 1
        : value < (tree.split_conditions[node] as number);
      node = goLeft ? (tree.left_children[node] as number) : (tree.right_children[node] as number);
    }
    const group = groups[t] as number;
    margins[group] = Math.fround((margins[group] as number) + (tree.split_conditions[node] as number));
  });
  return margins;
}

function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the scorer on random forests', () => {
  it('sums exactly the margins of a plain reference walk, compiled and interpreted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 60 }),
        (seed, groupCount, treeCount) => {
          const random = mulberry(seed);
          const features = 1 + Math.floor(random() * 5);
          const thresholds = Array.from({ length: 12 }, () => Math.fround(random() * 4 - 2));
          const trees = Array.from({ length: treeCount }, () =>
            randomTree(1 + Math.floor(random() * 40), features, random, thresholds),
          );
          const groups = trees.map((_, t) => t % groupCount);
          const document = {
            learner: {
              learner_model_param: {
                base_score: '5E-1',
                num_class: String(groupCount === 1 ? 0 : groupCount),
                num_feature: String(features),
              },
              objective: { name: groupCount === 1 ? 'reg:squarederror' : 'multi:softprob' },
              gradient_booster: {
                name: 'gbtree',
                model: { gbtree_model_param: { num_trees: String(treeCount) }, tree_info: groups, trees },
              },
            },
          };
          const rows = 300;
          const data = new Float64Array(rows * features);
          for (let i = 0; i < data.length; i++) {
            const pick = random();
            data[i] =
              pick < 0.1
                ? Number.NaN
                : pick < 0.4
                  ? (thresholds[Math.floor(random() * thresholds.length)] as number)
                  : random() * 5 - 2.5;
          }
          const outputs = [true, false].map((compile) => {
            const model = XgboostModel.fromJson(document, { compile });
            const out = new Float64Array(rows * model.groupCount);
            model.predictMarginInto(data, rows, out);
            return out;
          });
          const base = Array.from({ length: groupCount }, () => 0.5);
          for (let row = 0; row < rows; row++) {
            const expected = reference(
              trees,
              groups,
              base,
              Array.from(data.subarray(row * features, (row + 1) * features)),
            );
            for (let group = 0; group < groupCount; group++) {
              expect(outputs[0]?.[row * groupCount + group]).toBe(expected[group]);
              expect(outputs[1]?.[row * groupCount + group]).toBe(expected[group]);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
