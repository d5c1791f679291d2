// Placement, pure: which worker pool runs a task. Only pools whose per-worker capacity covers the task's
// declared needs (and whose labels match its selector) qualify; among them the tightest fit wins, then
// the least backlog, then the name (so the choice is deterministic). A task no pool can ever run is a
// validation error when its DAG loads, not a job that waits forever.
import type { DagSpec, ResourceSpec } from '@batuta/scheduler';
import { OrchestratorError } from '../errors.js';
import { type SlotPool, slotPoolNames, type WorkerPool, workerNeed } from '../pools/worker-pool.js';
import { fits, formatResources } from '../resources/resources.js';

/** What placement needs to know about one task. */
export interface PlacementRequest {
  taskId: string;
  resources: ResourceSpec;
  /** The pool the task names; placement then only checks that it exists and fits. */
  pool?: string;
  /** Labels a pool must carry (each entry equal), like Kubernetes' matchLabels. */
  selector?: Readonly<Record<string, string>>;
}

/** What placement may weigh besides the pools themselves. */
export interface PlacementOptions {
  /** Jobs waiting per pool name; among equally tight pools the shorter backlog wins. */
  backlog?: Readonly<Record<string, number>>;
  /** Slot pools: counters with these names are cluster-wide slots, not per-worker capacity. */
  slotPools?: readonly SlotPool[];
}

/** Why a task cannot be placed. */
export interface PlacementIssue {
  code: 'NO_POOL_FITS' | 'UNKNOWN_POOL' | 'SLOT_POOL_TOO_SMALL';
  taskId: string;
  /** The field of the DAG document at fault, e.g. `tasks.train.resources`. */
  field: string;
  message: string;
}

/** The chosen pool, or the issue that prevents any choice. */
export type Placement = { pool: WorkerPool; issue?: undefined } | { pool?: undefined; issue: PlacementIssue };

/** Every task's pool, and every task that has none. */
export interface DagPlacement {
  pools: Map<string, string>;
  issues: PlacementIssue[];
}

/** The pools that can run `request`, best first (tightest fit, then least backlog, then name). */
export function rankPools(
  request: PlacementRequest,
  pools: readonly WorkerPool[],
  options: PlacementOptions = {},
): WorkerPool[] {
  const slotNames = slotPoolNames(options.slotPools);
  const need = workerNeed(request.resources, slotNames);
  const backlog = options.backlog ?? {};
  return pools
    .filter((pool) => (request.pool === undefined || pool.name === request.pool) && qualifies(pool, need, request))
    .map((pool) => ({ pool, leftover: leftover(need, pool.capacity), backlog: backlog[pool.name] ?? 0 }))
    .sort(
      (a, b) =>
        a.leftover - b.leftover ||
        a.backlog - b.backlog ||
        (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0),
    )
    .map((ranked) => ranked.pool);
}

/** Picks the pool for one task, or explains why none can run it. */
export function choosePool(
  request: PlacementRequest,
  pools: readonly WorkerPool[],
  options: PlacementOptions = {},
): Placement {
  const field = `tasks.${request.taskId}`;
  const slotIssue = slotPoolIssue(request, options.slotPools ?? []);
  if (slotIssue) return { issue: slotIssue };
  if (request.pool !== undefined && !pools.some((pool) => pool.name === request.pool)) {
    return {
      issue: {
        code: 'UNKNOWN_POOL',
        taskId: request.taskId,
        field: `${field}.pool`,
        message:
          `task '${request.taskId}' names pool '${request.pool}', but no pool has that name ` +
          `(pools: ${pools.map((pool) => pool.name).join(', ') || 'none'}); fix the name or declare the pool`,
      },
    };
  }
  const best = rankPools(request, pools, options)[0];
  if (best) return { pool: best };
  return { issue: noPoolFits(request, pools, options) };
}

/** Places every task of a DAG; `selectors` gives label selectors by task id (the DAG model has none yet). */
export function placeDag(
  dag: DagSpec,
  pools: readonly WorkerPool[],
  options: PlacementOptions & { selectors?: Readonly<Record<string, Readonly<Record<string, string>>>> } = {},
): DagPlacement {
  const placed = new Map<string, string>();
  const issues: PlacementIssue[] = [];
  for (const task of dag.tasks) {
    const selector = options.selectors?.[task.id];
    const placement = choosePool(
      {
        taskId: task.id,
        resources: task.resources,
        ...(task.pool === undefined ? {} : { pool: task.pool }),
        ...(selector === undefined ? {} : { selector }),
      },
      pools,
      options,
    );
    if (placement.pool) placed.set(task.id, placement.pool.name);
    else issues.push(placement.issue);
  }
  return { pools: placed, issues };
}

/** Like `placeDag`, but throws `OrchestratorError('NO_POOL_FITS' …)` listing every task that cannot be placed. */
export function assertDagPlaceable(
  dag: DagSpec,
  pools: readonly WorkerPool[],
  options: PlacementOptions & { selectors?: Readonly<Record<string, Readonly<Record<string, string>>>> } = {},
): Map<string, string> {
  const { pools: placed, issues } = placeDag(dag, pools, options);
  if (issues.length > 0) {
    const where = dag.sourceFile ? `${dag.sourceFile}: ` : '';
    throw new OrchestratorError(
      issues[0]!.code,
      issues.map((issue) => `${where}${issue.code} ${issue.field}: ${issue.message}`).join('\n'),
    );
  }
  return placed;
}

function qualifies(pool: WorkerPool, need: ResourceSpec, request: PlacementRequest): boolean {
  return fits(need, pool.capacity) && selectorMatches(request.selector, pool.labels);
}

function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Record<string, string>) {
  if (!selector) return true;
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/**
 * What a worker would have left, per dimension as a share of its capacity, summed: 0 is a perfect fit.
 * Summing (not averaging) makes idle special hardware count against a pool, so a cpu task avoids gpu pools.
 */
function leftover(need: ResourceSpec, capacity: ResourceSpec): number {
  const share = (offered: number, needed: number) => (offered > 0 ? (offered - needed) / offered : 0);
  let total = share(capacity.cpu, need.cpu) + share(capacity.memoryMb, need.memoryMb) + share(capacity.gpu, need.gpu);
  for (const name in capacity.custom) total += share(capacity.custom[name]!, need.custom[name] ?? 0);
  return total;
}

function slotPoolIssue(request: PlacementRequest, slotPools: readonly SlotPool[]): PlacementIssue | undefined {
  for (const slotPool of slotPools) {
    const needed = request.resources.custom[slotPool.name] ?? 0;
    if (needed <= slotPool.slots) continue;
    return {
      code: 'SLOT_POOL_TOO_SMALL',
      taskId: request.taskId,
      field: `tasks.${request.taskId}.resources.${slotPool.name}`,
      message:
        `task '${request.taskId}' needs ${needed} slots of slot pool '${slotPool.name}', which has ${slotPool.slots}; ` +
        'lower the task’s need or give the slot pool more slots',
    };
  }
  return undefined;
}

function noPoolFits(request: PlacementRequest, pools: readonly WorkerPool[], options: PlacementOptions) {
  const need = workerNeed(request.resources, slotPoolNames(options.slotPools));
  const considered = request.pool === undefined ? pools : pools.filter((pool) => pool.name === request.pool);
  const reasons = considered.map(
    (pool) => `${pool.name} offers ${formatResources(pool.capacity)} (${why(pool, need, request)})`,
  );
  const subject = request.pool === undefined ? 'no pool fits' : `its pool '${request.pool}' does not fit`;
  const issue: PlacementIssue = {
    code: 'NO_POOL_FITS',
    taskId: request.taskId,
    field: `tasks.${request.taskId}.resources`,
    message:
      `task '${request.taskId}' needs ${formatResources(need)}${describeSelector(request.selector)} but ${subject}: ` +
      `${reasons.join('; ') || 'there are no pools'}. ` +
      'Lower the task’s resources, add or enlarge a pool, or relax its selector',
  };
  return issue;
}

function describeSelector(selector: Readonly<Record<string, string>> | undefined): string {
  if (!selector || Object.keys(selector).length === 0) return '';
  return ` on a pool labelled ${Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}`;
}

/** `short of cpu by 4, gpu by 1; label zone is a, not b` */
function why(pool: WorkerPool, need: ResourceSpec, request: PlacementRequest): string {
  const parts: string[] = [];
  const short = (name: string, needed: number, offered: number) => {
    if (needed > offered) parts.push(`${name} by ${round(needed - offered)}`);
  };
  short('cpu', need.cpu, pool.capacity.cpu);
  short('memoryMb', need.memoryMb, pool.capacity.memoryMb);
  short('gpu', need.gpu, pool.capacity.gpu);
  for (const name in need.custom) short(name, need.custom[name]!, pool.capacity.custom[name] ?? 0);
  const reasons = parts.length > 0 ? [`short of ${parts.join(', ')}`] : [];
  for (const key in request.selector ?? {}) {
    const wanted = request.selector![key];
    const has = pool.labels[key];
    if (has !== wanted) reasons.push(has === undefined ? `no label ${key}` : `label ${key} is ${has}, not ${wanted}`);
  }
  return reasons.join('; ');
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
