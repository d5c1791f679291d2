// QuickScorer (Lucchese et al., SIGIR 2015) over a run of consecutive trees with at most 32 leaves.
//
// Instead of walking each tree, every split of every tree is visited feature by feature in
// ascending threshold order. A split whose test fails (x >= threshold: the row goes right) rules
// out the leaves of its left subtree, so it ANDs a mask into its tree's 32-bit leaf set (bit 0 =
// leftmost leaf). Once the failing splits are applied, each tree's exit leaf is its lowest set
// bit. Per feature the failing splits are a prefix of the sorted thresholds, so the work is a
// scan with one predictable exit instead of a data-dependent branch per tree level.
//
// The scan is compiled to JavaScript (`new Function`) with thresholds, masks and indices as
// constants, which V8 turns into compare-and-AND sequences with no table loads; about 3× faster
// than the interpreted loop. Only numbers produced here are written into the generated source.
// Where code generation is disabled (--disallow-code-generation-from-strings) the same tables
// run through the interpreted loop. Chunks are capped so V8 still optimizes each function.
// Rows with a missing value are skipped here (flagged in `missing`); the caller walks them.
import type { FlatForest } from './flat-forest.js';

/** Trees with at most this many leaves are scored with QuickScorer (one bit per leaf). */
export const QUICKSCORER_MAX_LEAVES = 32;
/** Splits per chunk: keeps each generated function small enough for V8's optimizing compiler. */
export const QUICKSCORER_MAX_SPLITS = 400;

type Kernel = (
  x: Float64Array,
  rowCount: number,
  missing: Uint8Array,
  margins: Float32Array,
  leafSets: Int32Array,
  leaves: Float64Array,
) => void;

interface Split {
  threshold: number;
  slot: number;
  mask: number;
}

/** A run of trees [firstTree, endTree) scored with QuickScorer, compiled when the runtime allows. */
export class QuickScorerChunk {
  readonly firstTree: number;
  readonly endTree: number;
  readonly splitCount: number;
  /** True when the scan runs as generated code. */
  readonly compiled: boolean;

  private readonly kernel: Kernel;
  private readonly leafSets: Int32Array;
  private readonly leaves: Float64Array;

  constructor(forest: FlatForest, firstTree: number, endTree: number, compile: boolean) {
    this.firstTree = firstTree;
    this.endTree = endTree;
    const splitsByFeature: Split[][] = Array.from({ length: forest.featureCount }, () => []);
    const leaves: number[] = [];
    const leafBase: number[] = [];
    for (let tree = firstTree; tree < endTree; tree++) {
      leafBase.push(leaves.length);
      addTree(forest, tree, tree - firstTree, leaves, splitsByFeature);
    }
    for (const splits of splitsByFeature) splits.sort((a, b) => a.threshold - b.threshold);
    this.splitCount = splitsByFeature.reduce((sum, splits) => sum + splits.length, 0);
    this.leafSets = new Int32Array(endTree - firstTree);
    this.leaves = Float64Array.from(leaves);
    const groups = Array.from(forest.treeGroup.subarray(firstTree, endTree));
    const generated = compile ? generateKernel(forest, splitsByFeature, leafBase, groups) : undefined;
    this.compiled = generated !== undefined;
    this.kernel = generated ?? interpretedKernel(forest, splitsByFeature, leafBase, groups);
  }

  /** Adds this chunk's trees, in order, to the float32 margins of every row not flagged missing. */
  accumulate(x: Float64Array, rowCount: number, missing: Uint8Array, margins: Float32Array): void {
    this.kernel(x, rowCount, missing, margins, this.leafSets, this.leaves);
  }
}

// Numbers a tree's leaves left to right and records, per split, the mask clearing its left subtree.
function addTree(forest: FlatForest, tree: number, slot: number, leaves: number[], splitsByFeature: Split[][]): void {
  const firstLeaf = leaves.length;
  const leafRange = new Map<number, { first: number; end: number }>();
  // Iterative post-order walk, left subtree before right, so leaves are numbered left to right.
  const stack: { node: number; expanded: boolean }[] = [{ node: forest.treeRoot[tree] as number, expanded: false }];
  while (stack.length > 0) {
    const entry = stack.pop() as { node: number; expanded: boolean };
    const feature = forest.nodeFeature[entry.node] as number;
    if (feature < 0) {
      const index = leaves.length - firstLeaf;
      leaves.push(forest.nodeValue[entry.node] as number);
      leafRange.set(entry.node, { first: index, end: index + 1 });
      continue;
    }
    const left = forest.nodeLeft[entry.node] as number;
    const right = forest.nodeRight[entry.node] as number;
    if (!entry.expanded) {
      stack.push(
        { node: entry.node, expanded: true },
        { node: right, expanded: false },
        { node: left, expanded: false },
      );
      continue;
    }
    const leftRange = leafRange.get(left) as { first: number; end: number };
    const rightRange = leafRange.get(right) as { first: number; end: number };
    leafRange.set(entry.node, { first: leftRange.first, end: rightRange.end });
    const width = leftRange.end - leftRange.first;
    const leftBits = width >= 32 ? -1 : ((1 << width) - 1) << leftRange.first;
    splitsByFeature[feature]?.push({ threshold: forest.nodeValue[entry.node] as number, slot, mask: ~leftBits });
  }
}

function interpretedKernel(
  forest: FlatForest,
  splitsByFeature: Split[][],
  leafBase: number[],
  groups: number[],
): Kernel {
  const featureCount = forest.featureCount;
  const groupCount = forest.groupCount;
  const treeCount = groups.length;
  const featureStart = new Int32Array(featureCount);
  const total = splitsByFeature.reduce((sum, splits) => sum + splits.length + 1, 0);
  const threshold = new Float64Array(total);
  const slots = new Int32Array(total);
  const masks = new Int32Array(total);
  let at = 0;
  splitsByFeature.forEach((splits, feature) => {
    featureStart[feature] = at;
    for (const split of splits) {
      threshold[at] = split.threshold;
      slots[at] = split.slot;
      masks[at] = split.mask;
      at++;
    }
    // `NaN <= x` is false for every x: the scan of a feature always stops at this sentinel.
    threshold[at] = Number.NaN;
    masks[at] = -1;
    at++;
  });
  const bases = Int32Array.from(leafBase);
  const treeGroups = Int32Array.from(groups);
  return (x, rowCount, missing, margins, leafSets, leaves) => {
    for (let row = 0; row < rowCount; row++) {
      if (missing[row] !== 0) continue;
      const rowBase = row * featureCount;
      leafSets.fill(-1);
      for (let feature = 0; feature < featureCount; feature++) {
        const value = x[rowBase + feature] as number;
        let index = featureStart[feature] as number;
        while ((threshold[index] as number) <= value) {
          const slot = slots[index] as number;
          leafSets[slot] = (leafSets[slot] as number) & (masks[index] as number);
          index++;
        }
      }
      const marginBase = row * groupCount;
      for (let slot = 0; slot < treeCount; slot++) {
        const set = leafSets[slot] as number;
        const at = marginBase + (treeGroups[slot] as number);
        margins[at] =
          (margins[at] as number) + (leaves[(bases[slot] as number) + 31 - Math.clz32(set & -set)] as number);
      }
    }
  };
}

// Writes a number so that reading it back gives the same double (String() round-trips).
const literal = (value: number): string => (Object.is(value, -0) ? '0' : String(value));

function generateKernel(
  forest: FlatForest,
  splitsByFeature: Split[][],
  leafBase: number[],
  groups: number[],
): Kernel | undefined {
  const featureCount = forest.featureCount;
  const groupCount = forest.groupCount;
  const usedGroups = [...new Set(groups)].sort((a, b) => a - b);
  const lines: string[] = [
    "'use strict';",
    'const fround = Math.fround;',
    'const clz32 = Math.clz32;',
    'for (let r = 0; r < rowCount; r++) {',
    '  if (missing[r] !== 0) continue;',
    `  const o = r * ${featureCount};`,
    `  S.fill(-1);`,
  ];
  splitsByFeature.forEach((splits, feature) => {
    if (splits.length === 0) return;
    lines.push(`  f${feature}: {`, `    const v = x[o + ${feature}];`);
    for (const split of splits) {
      lines.push(
        `    if (v < ${literal(split.threshold)}) break f${feature};`,
        `    S[${split.slot}] &= ${split.mask};`,
      );
    }
    lines.push('  }');
  });
  lines.push(`  const mb = r * ${groupCount};`);
  for (const group of usedGroups) lines.push(`  let s${group} = m[mb + ${group}];`);
  groups.forEach((group, slot) => {
    lines.push(
      `  { const b = S[${slot}]; s${group} = fround(s${group} + L[${leafBase[slot]} + 31 - clz32(b & -b)]); }`,
    );
  });
  for (const group of usedGroups) lines.push(`  m[mb + ${group}] = s${group};`);
  lines.push('}');
  try {
    return new Function('x', 'rowCount', 'missing', 'm', 'S', 'L', lines.join('\n')) as Kernel;
  } catch {
    return undefined;
  }
}
