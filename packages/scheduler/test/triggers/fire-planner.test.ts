// The fire planner, with no store and no clock: which scheduled runs to create at a pass, how the live
// schedulers' shares defer each other's DAGs, pauses, catchup under maxActiveRuns, and forgotten DAGs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineDag } from '../../src/dag/define-dag.js';
import type { DagSpec } from '../../src/dag/model.js';
import { type FireCounts, FirePlanner } from '../../src/triggers/fire-planner.js';
import { type FireShares, isInShare } from '../../src/triggers/fire-shares.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2026, 4, 1, 10, 0, 0);
const alone: FireShares = { schedulerId: 'a', live: [], graceMs: 500 };
const none: FireCounts = { active: new Map(), paused: new Map() };

function hourly(id: string, options: { catchup?: boolean; maxActiveRuns?: number; startDate?: string } = {}): DagSpec {
  const dag = defineDag({ id, schedule: '0 * * * *', ...options });
  dag.task('work', { run: () => 1 });
  return dag.spec;
}

function byId(...dags: DagSpec[]): Map<string, DagSpec> {
  return new Map(dags.map((dag) => [dag.id, dag]));
}

/** One pass as a daemon makes it: due DAGs, learn the new ones, plan, and settle every planned run. */
function pass(
  planner: FirePlanner,
  dags: ReadonlyMap<string, DagSpec>,
  nowMs: number,
  options: { shares?: FireShares; counts?: FireCounts; lastFires?: Record<string, number> } = {},
): number[] {
  const { due, unknown } = planner.due(dags, nowMs, options.shares ?? alone);
  for (const dag of unknown) planner.learn(dag.id, options.lastFires?.[dag.id]);
  const planned = planner.plan(due, nowMs, options.counts ?? none);
  for (const run of planned) planner.settle(run, nowMs);
  return planned.map((run) => run.run.logicalDateMs);
}

describe('FirePlanner', () => {
  it('plans the latest fire of a DAG new here at once, then each fire at its time', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const dags = byId(hourly('etl'));
    expect(pass(planner, dags, START + 30 * MINUTE)).toEqual([START]);
    expect(planner.nextFires().get('etl')).toBe(START + HOUR);
    expect(pass(planner, dags, START + HOUR - 1)).toEqual([]);
    expect(pass(planner, dags, START + HOUR)).toEqual([START + HOUR]);
    expect(planner.nextDueMs(alone)).toBe(START + 2 * HOUR);
  });

  it('carries the planned run: deterministic id and the data interval of its fire', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const dags = byId(hourly('etl'));
    const { due, unknown } = planner.due(dags, START, alone);
    for (const dag of unknown) planner.learn(dag.id, undefined);
    expect(planner.plan(due, START, none)).toEqual([
      {
        dag: dags.get('etl'),
        owed: false,
        run: {
          runId: 'scheduled__2026-05-01T10:00:00.000Z__etl',
          logicalDateMs: START,
          dataIntervalStartMs: START - HOUR,
          dataIntervalEndMs: START,
        },
      },
    ]);
  });

  it('does not plan again a fire the store already holds', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    expect(pass(planner, byId(hourly('etl')), START + 5 * MINUTE, { lastFires: { etl: START } })).toEqual([]);
    expect(planner.nextFires().get('etl')).toBe(START + HOUR);
  });

  it('defers the DAGs of another live scheduler share by the grace, and owns them all when alone', () => {
    const dags = Array.from({ length: 40 }, (_, i) => hourly(`dag_${i}`));
    const live = ['a', 'b'];
    const sharesOf = (schedulerId: string): FireShares => ({ schedulerId, live, graceMs: 500 });
    const mine = dags.filter((dag) => isInShare(dag.id, sharesOf('a')));
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.length).toBeLessThan(35);
    const planner = new FirePlanner({ pollMs: 1_000 });
    pass(planner, byId(...dags), START, { shares: sharesOf('a') }); // learns every DAG, plans the 10:00 fire
    const { due } = planner.due(byId(...dags), START + HOUR, sharesOf('a'));
    expect(due.map((dag) => dag.id).sort()).toEqual(mine.map((dag) => dag.id).sort());
    expect(planner.due(byId(...dags), START + HOUR + 500, sharesOf('a')).due).toHaveLength(40);
    expect(planner.due(byId(...dags), START + HOUR, alone).due).toHaveLength(40);
  });

  it('never lets a DAG fall outside every share, whoever is alive', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        (ids, dagId) => {
          const live = [...ids].sort();
          const owners = live.filter((schedulerId) => isInShare(dagId, { schedulerId, live, graceMs: 0 }));
          expect(owners).toHaveLength(1);
        },
      ),
    );
  });

  it('moves a paused DAG to its next fire without planning a run', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const dags = byId(hourly('etl'));
    pass(planner, dags, START);
    const paused: FireCounts = { active: new Map(), paused: new Map([['etl', true]]) };
    expect(pass(planner, dags, START + HOUR, { counts: paused })).toEqual([]);
    expect(planner.nextFires().get('etl')).toBe(START + 2 * HOUR);
  });

  it('catches up no further than maxActiveRuns: next poll while fires are owed, the next fire once full', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const dags = byId(hourly('backlog', { catchup: true, maxActiveRuns: 2 }));
    const lastFires = { backlog: START - 5 * HOUR };
    expect(pass(planner, dags, START, { lastFires })).toEqual([START - 4 * HOUR, START - 3 * HOUR]);
    expect(planner.nextFires().get('backlog')).toBe(START + 1_000);
    const full: FireCounts = { active: new Map([['backlog', 2]]), paused: new Map() };
    expect(pass(planner, dags, START + 1_000, { counts: full })).toEqual([]);
    // No slot at all: the owed fires wait for the DAG's next fire time (as the daemon always did).
    expect(planner.nextFires().get('backlog')).toBe(START + HOUR);
    const oneFree: FireCounts = { active: new Map([['backlog', 1]]), paused: new Map() };
    expect(pass(planner, dags, START + HOUR, { counts: oneFree })).toEqual([START - 2 * HOUR]);
  });

  it('forgets DAGs removed from the map or no longer timed, so nothing wakes for them', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    pass(planner, byId(hourly('gone'), hourly('stays')), START);
    const untimed = defineDag({ id: 'stays' });
    untimed.task('work', { run: () => 1 });
    planner.due(byId(untimed.spec), START + 1, alone);
    expect(planner.nextFires().size).toBe(0);
    expect(planner.nextDueMs(alone)).toBe(Number.POSITIVE_INFINITY);
  });

  it('plans a forgotten DAG afresh, as new, at the next pass', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const dags = byId(hourly('etl'));
    const { unknown } = planner.due(dags, START, alone);
    for (const dag of unknown) planner.learn(dag.id, undefined);
    planner.forget(['etl']);
    expect(planner.due(dags, START + 1, alone).unknown.map((dag) => dag.id)).toEqual(['etl']);
  });

  it('answers a fire with the earliest fire time of its DAGs, and reads ahead only for DAGs about to fire', () => {
    const planner = new FirePlanner({ pollMs: 1_000 });
    const every15 = defineDag({ id: 'quarter', schedule: '*/15 * * * *' });
    every15.task('work', { run: () => 1 });
    const dags = byId(hourly('etl'), every15.spec);
    pass(planner, dags, START);
    expect(planner.firingBy(dags, START + 15 * MINUTE).map((dag) => dag.id)).toEqual(['quarter']);
    expect(planner.firingBy(dags, START + HOUR).map((dag) => dag.id)).toEqual(['etl', 'quarter']);
    const { due } = planner.due(dags, START + HOUR, alone);
    expect(planner.fireTimeOf(due, START + HOUR + 3)).toBe(START + 15 * MINUTE);
  });

  it('plans one run per fire over a month of minutes, whatever the pass times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 7 * MINUTE }), { minLength: 1, maxLength: 60 }), (steps) => {
        const planner = new FirePlanner({ pollMs: 1_000 });
        const dag = defineDag({ id: 'minutely', schedule: '* * * * *' });
        dag.task('work', { run: () => 1 });
        const dags = byId(dag.spec);
        let now = START;
        const planned = pass(planner, dags, now);
        for (const step of steps) {
          now += step;
          planned.push(...pass(planner, dags, now));
        }
        expect(new Set(planned).size).toBe(planned.length);
        expect(planned).toEqual([...planned].sort((a, b) => a - b));
        expect(planned.at(-1)).toBe(Math.floor(now / MINUTE) * MINUTE); // the latest fire is never missed
      }),
    );
  });
});
