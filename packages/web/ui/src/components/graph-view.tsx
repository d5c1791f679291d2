// A DAG drawn as SVG, left to right (graph-layout.ts places it): a box per task coloured by its state in
// the run shown, an arrow per dependency. A mapped task's box counts its instances per state. With a run,
// each box is a link to the task's page (Tab reaches them in declaration order, Enter opens one).
import './graph.css';
import { useMemo } from 'preact/hooks';
import type { DagTask, TaskInstance } from '../api.js';
import { edgePath, layoutGraph } from '../graph-layout.js';
import { navigate, taskPath } from '../router.js';
import { describeCounts, type StateSummary, summariseStates } from '../states.js';

const NODE_WIDTH = 190;
const NODE_HEIGHT = 46;
const MARGIN = 12;
const MAX_LABEL = 24;

const shorten = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);

export interface GraphViewProps {
  dagId: string;
  tasks: DagTask[];
  /** The run whose states colour the boxes; none: the DAG's shape only. */
  runId?: string;
  instances?: TaskInstance[];
}

export function GraphView({ dagId, tasks, runId, instances }: GraphViewProps) {
  const layout = useMemo(
    () =>
      layoutGraph(
        tasks.map((task) => ({ id: task.taskId, upstream: task.upstream })),
        { nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT },
      ),
    [tasks],
  );
  const summaries = useMemo(() => {
    const byTask = new Map<string, TaskInstance[]>();
    for (const instance of instances ?? []) {
      const list = byTask.get(instance.taskId) ?? [];
      list.push(instance);
      byTask.set(instance.taskId, list);
    }
    return new Map(
      [...byTask].map(([taskId, list]) => [taskId, { list, summary: summariseStates(list.map((i) => i.state)) }]),
    );
  }, [instances]);
  const specs = useMemo(() => new Map(tasks.map((task) => [task.taskId, task])), [tasks]);

  const width = layout.width + 2 * MARGIN;
  const height = layout.height + 2 * MARGIN;
  return (
    <figure class="graph-scroll" aria-label={`Graph of ${dagId}${runId ? `, run ${runId}` : ''}`}>
      <svg
        class="graph"
        width={width}
        height={height}
        viewBox={`${-MARGIN} ${-MARGIN} ${width} ${height}`}
        data-testid="graph"
      >
        <title>{`Graph of ${dagId}${runId ? `, run ${runId}` : ''}`}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        <g class="edges">
          {layout.edges.map((edge) => (
            <path
              key={`${edge.from}->${edge.to}`}
              class="edge"
              d={edgePath(edge.points)}
              marker-end="url(#arrow)"
              data-testid={`graph-edge-${edge.from}-${edge.to}`}
            />
          ))}
        </g>
        {layout.nodes.map((node) => {
          const spec = specs.get(node.id);
          const found = summaries.get(node.id);
          const state = runId ? (found?.summary.state ?? 'none') : 'plain';
          const instanceCount = found?.list.length ?? 0;
          const single = instanceCount === 1 ? found?.list[0] : undefined;
          const detail = !runId
            ? (spec?.operator ?? '')
            : instanceCount > 1 || (spec?.mapped && instanceCount > 0)
              ? `${instanceCount} mapped: ${describeCounts(found!.summary)}`
              : single
                ? `${single.state}, try ${single.tryNumber}`
                : 'no instance yet';
          const label = `${node.id}: ${detail}`;
          const body = (
            <>
              <title>{label}</title>
              <rect class="box" width={NODE_WIDTH} height={NODE_HEIGHT} rx="6" />
              <text class="name" x="10" y="19">
                {shorten(node.id)}
              </text>
              <text class="detail" x="10" y="36">
                {shorten(runId && instanceCount > 1 ? describeCounts(found!.summary) : detail)}
              </text>
              {runId && found && instanceCount > 1 && <CountBar summary={found.summary} />}
            </>
          );
          const common = {
            class: `node state-${state}`,
            transform: `translate(${node.x},${node.y})`,
            'data-testid': `graph-node-${node.id}`,
            'data-state': state,
          };
          if (!runId) {
            return (
              <g key={node.id} {...common}>
                {body}
              </g>
            );
          }
          const mapIndex = single?.mapIndex ?? (instanceCount > 1 ? (found?.list[0]?.mapIndex ?? -1) : -1);
          const href = taskPath(runId, node.id, mapIndex);
          return (
            <a
              key={node.id}
              {...common}
              aria-label={label}
              href={href}
              onClick={(event: MouseEvent) => {
                if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
                event.preventDefault();
                navigate(href);
              }}
            >
              {body}
            </a>
          );
        })}
      </svg>
    </figure>
  );
}

/** A thin bar under a mapped task's name: one segment per state, as wide as its share. */
function CountBar({ summary }: { summary: StateSummary }) {
  let x = 0;
  const width = NODE_WIDTH - 2;
  return (
    <g class="counts" transform={`translate(1,${NODE_HEIGHT - 6})`}>
      {summary.counts.map(([state, count]) => {
        const part = (count / summary.total) * width;
        const segment = <rect key={state} class={`segment state-${state}`} x={x} width={part} height="5" />;
        x += part;
        return segment;
      })}
    </g>
  );
}
