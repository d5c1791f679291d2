// The graph page's layout, pure: ranks left to right, no two nodes of a rank overlap, long edges pass
// through a waypoint per rank, and a crossing that ordering can remove is removed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { edgePath, layoutGraph } from '../ui/src/graph-layout.js';

const node = (id: string, ...upstream: string[]) => ({ id, upstream });

describe('layoutGraph', () => {
  it('puts every task one rank right of its furthest upstream', () => {
    const layout = layoutGraph([node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c'), node('e', 'a', 'd')]);
    const rank = Object.fromEntries(layout.nodes.map((n) => [n.id, n.rank]));
    expect(rank).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 3 });
    const long = layout.edges.find((e) => e.from === 'a' && e.to === 'e')!;
    expect(long.points).toHaveLength(6); // source, across ranks 1 and 2, target
    // Across a rank it passes, the edge is level: it bends only between ranks.
    expect(long.points[1]!.y).toBe(long.points[2]!.y);
    expect(long.points[3]!.y).toBe(long.points[4]!.y);
  });

  it('orders a rank to undo a crossing the declaration order made', () => {
    // a1→b2 and a2→b1 cross when b1, b2 keep declaration order.
    const layout = layoutGraph([node('a1'), node('a2'), node('b1', 'a2'), node('b2', 'a1')]);
    const y = Object.fromEntries(layout.nodes.map((n) => [n.id, n.y]));
    expect(Math.sign(y.a1! - y.a2!)).toBe(Math.sign(y.b2! - y.b1!));
  });

  it('lays out an empty DAG and ignores unknown upstreams', () => {
    expect(layoutGraph([])).toEqual({ width: 0, height: 0, nodes: [], edges: [] });
    const layout = layoutGraph([node('a', 'ghost')]);
    expect(layout.nodes).toEqual([{ id: 'a', rank: 0, x: 0, y: 0 }]);
    expect(layout.edges).toEqual([]);
  });

  it('draws a path through every point', () => {
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 20 },
      ]),
    ).toBe('M0,0 C5,0 5,20 10,20');
    expect(edgePath([])).toBe('');
  });

  it('keeps every edge pointing right and no two nodes overlapping, for any DAG', () => {
    const dag = fc
      .array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 40 })
      .map((ups) => ups.map((list, i) => node(`t${i}`, ...(i === 0 ? [] : list.map((u) => `t${u % i}`)))));
    fc.assert(
      fc.property(dag, (nodes) => {
        const height = 44;
        const layout = layoutGraph(nodes, { nodeHeight: height });
        const at = new Map(layout.nodes.map((n) => [n.id, n]));
        for (const edge of layout.edges) expect(at.get(edge.to)!.x).toBeGreaterThan(at.get(edge.from)!.x);
        const ranks = new Set(layout.nodes.map((n) => n.rank));
        for (const rank of ranks) {
          const ys = layout.nodes
            .filter((n) => n.rank === rank)
            .map((n) => n.y)
            .sort((a, b) => a - b);
          for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(height);
        }
        for (const n of layout.nodes) {
          expect(n.y).toBeGreaterThanOrEqual(0);
          expect(n.y + height).toBeLessThanOrEqual(layout.height);
        }
      }),
    );
  });
});
