// A layered (Sugiyama-style) layout of a DAG, left to right, pure and small: ranks by longest path from the
// sources, a waypoint in every rank an edge crosses (so long edges take part in the ordering and route
// around nodes), a few barycenter sweeps to cut crossings, then each rank stacked and centred. Good for the
// hundreds of tasks a DAG has; no dependency to ship.

/** A node to lay out: its id and the ids of its upstreams (unknown ids are ignored). */
export interface LayoutInput {
  id: string;
  upstream: readonly string[];
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal space between ranks. */
  rankGap: number;
  /** Vertical space between nodes of a rank. */
  nodeGap: number;
  /** The height a passing edge takes in a rank. */
  waypointHeight: number;
  /** Barycenter sweeps (down and up count as one). */
  sweeps: number;
}

export interface PlacedNode {
  id: string;
  rank: number;
  /** The top-left corner. */
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** From the source's right side, across each rank it passes (two points each), to the target's left side. */
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

const DEFAULTS: LayoutOptions = {
  nodeWidth: 180,
  nodeHeight: 44,
  rankGap: 60,
  nodeGap: 16,
  waypointHeight: 12,
  sweeps: 4,
};

interface Slot {
  /** A node id, or undefined for an edge's waypoint. */
  node?: string;
  key: string;
  rank: number;
  up: Slot[];
  down: Slot[];
  order: number;
  y: number;
  height: number;
}

/** Ranks by longest path from the sources, in declaration order; a node on a cycle gets rank 0. */
function rankNodes(nodes: readonly LayoutInput[], known: Set<string>): Map<string, number> {
  const indegree = new Map(nodes.map((n) => [n.id, 0]));
  const downstream = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const node of nodes) {
    for (const up of new Set(node.upstream)) {
      if (!known.has(up) || up === node.id) continue;
      indegree.set(node.id, (indegree.get(node.id) ?? 0) + 1);
      downstream.get(up)?.push(node.id);
    }
  }
  const rank = new Map<string, number>();
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (const id of ready) rank.set(id, 0);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    for (const next of downstream.get(id) ?? []) {
      rank.set(next, Math.max(rank.get(next) ?? 0, (rank.get(id) ?? 0) + 1));
      const left = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  for (const node of nodes) if (!rank.has(node.id)) rank.set(node.id, 0);
  return rank;
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Reorders one rank by the mean position of each slot's neighbours in the rank before it. */
function sortByBarycenter(rank: Slot[], neighbours: (slot: Slot) => Slot[]): void {
  const weight = new Map<Slot, number>();
  for (const slot of rank) {
    const near = neighbours(slot);
    weight.set(slot, near.length === 0 ? slot.order : mean(near.map((n) => n.order)));
  }
  rank.sort((a, b) => (weight.get(a) ?? 0) - (weight.get(b) ?? 0) || a.order - b.order);
  rank.forEach((slot, index) => {
    slot.order = index;
  });
}

export function layoutGraph(nodes: readonly LayoutInput[], options: Partial<LayoutOptions> = {}): GraphLayout {
  const o = { ...DEFAULTS, ...options };
  const known = new Set(nodes.map((n) => n.id));
  const rankOf = rankNodes(nodes, known);
  const rankCount = Math.max(0, ...rankOf.values()) + (nodes.length > 0 ? 1 : 0);
  const ranks: Slot[][] = Array.from({ length: rankCount }, () => []);
  const slotOf = new Map<string, Slot>();
  const add = (slot: Omit<Slot, 'up' | 'down' | 'order' | 'y'>): Slot => {
    const rank = ranks[slot.rank]!;
    const full: Slot = { ...slot, up: [], down: [], order: rank.length, y: 0 };
    rank.push(full);
    return full;
  };
  for (const node of nodes) {
    slotOf.set(node.id, add({ node: node.id, key: node.id, rank: rankOf.get(node.id) ?? 0, height: o.nodeHeight }));
  }

  // Every edge as a chain of slots, one per rank it spans.
  const chains: { from: string; to: string; slots: Slot[] }[] = [];
  for (const node of nodes) {
    const target = slotOf.get(node.id)!;
    for (const up of new Set(node.upstream)) {
      const source = slotOf.get(up);
      if (!source || up === node.id || source.rank >= target.rank) continue;
      const slots = [source];
      for (let r = source.rank + 1; r < target.rank; r++) {
        slots.push(add({ key: `${up}->${node.id}@${r}`, rank: r, height: o.waypointHeight }));
      }
      slots.push(target);
      for (let i = 1; i < slots.length; i++) {
        slots[i]!.up.push(slots[i - 1]!);
        slots[i - 1]!.down.push(slots[i]!);
      }
      chains.push({ from: up, to: node.id, slots });
    }
  }

  for (let sweep = 0; sweep < o.sweeps; sweep++) {
    for (let r = 1; r < ranks.length; r++) sortByBarycenter(ranks[r]!, (slot) => slot.up);
    for (let r = ranks.length - 2; r >= 0; r--) sortByBarycenter(ranks[r]!, (slot) => slot.down);
  }

  // Stack each rank and centre it on the tallest.
  const heights = ranks.map((rank) =>
    rank.reduce((sum, slot, index) => sum + slot.height + (index > 0 ? o.nodeGap : 0), 0),
  );
  const height = Math.max(0, ...heights);
  ranks.forEach((rank, r) => {
    let y = (height - heights[r]!) / 2;
    for (const slot of rank) {
      slot.y = y;
      y += slot.height + o.nodeGap;
    }
  });

  const xOf = (rank: number) => rank * (o.nodeWidth + o.rankGap);
  const placed: PlacedNode[] = nodes.map((node) => {
    const slot = slotOf.get(node.id)!;
    return { id: node.id, rank: slot.rank, x: xOf(slot.rank), y: slot.y };
  });
  const edges: PlacedEdge[] = chains.map(({ from, to, slots }) => {
    // Through a rank it only passes, the edge runs straight across the rank's width at its waypoint's height,
    // so it bends in the gaps between ranks and never across a node.
    const points = slots.flatMap((slot, index) => {
      const middle = slot.y + slot.height / 2;
      if (index === 0) return [{ x: xOf(slot.rank) + o.nodeWidth, y: middle }];
      if (index === slots.length - 1) return [{ x: xOf(slot.rank), y: middle }];
      return [
        { x: xOf(slot.rank), y: middle },
        { x: xOf(slot.rank) + o.nodeWidth, y: middle },
      ];
    });
    return { from, to, points };
  });
  return { width: rankCount > 0 ? xOf(rankCount - 1) + o.nodeWidth : 0, height, nodes: placed, edges };
}

/** An SVG path through the points: horizontal-tangent curves between them. */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M${first.x},${first.y}`;
  let previous = first;
  for (const point of rest) {
    const bend = (point.x - previous.x) / 2;
    d += ` C${previous.x + bend},${previous.y} ${point.x - bend},${point.y} ${point.x},${point.y}`;
    previous = point;
  }
  return d;
}
