// Trigger rules over a mapped upstream, checked against Airflow's trigger_rule_dep semantics: each
// expanded instance counts as an upstream of its own (ADR 005); an unexpanded mapped upstream counts
// as one, an empty list as one skipped upstream, and instances that were all removed as absent (ADR 003).
import { describe, expect, it } from 'vitest';
import type { TaskSpec, TriggerRule } from '../../src/dag/model.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import { evaluateTriggerRule } from '../../src/run/trigger-rules.js';
import type { InstanceSnapshot, Outcome } from '../../src/run/types.js';
import { dag, engineFor, failed, finishOf, marks, ok, runIds, skippedOutcome, task } from './helpers.js';

const key = (taskId: string, mapIndex = -1) => ({ taskId, mapIndex });
const mapped = (id: string, values: unknown[], upstream: string[] = []) =>
  task(id, upstream, { map: { over: { x: { values } }, maxLength: 1024 } });
const after = (rule: TriggerRule, upstream: string[] = ['each']) => task('after', upstream, { triggerRule: rule });

type Kind = 'ok' | 'fail' | 'skip';
const outcomeOf = (kind: Kind): Outcome => (kind === 'ok' ? ok() : kind === 'fail' ? failed() : skippedOutcome());

describe('trigger rules over a mapped upstream count each instance', () => {
  it('runs a one_success downstream as soon as one instance succeeds, without waiting for the others', () => {
    const engine = engineFor([mapped('each', [1, 2]), after('one_success')]);
    engine.start(0);
    expect(engine.explain('after')).toBe(
      "waiting: 0 of 2 upstreams done (mapped 'each' counts its 2 instances); rule one_success",
    );
    const decisions = engine.complete(key('each', 0), ok(), 1);
    expect(runIds(decisions)).toEqual(['after']);
    expect(decisions.find((d) => d.kind === 'run')?.reason).toBe(
      "ready: 1 of 2 upstreams done (1 success, 1 not done; mapped 'each' counts its 2 instances); rule one_success",
    );
    // The parent keeps ADR 005's aggregate: the failed instance makes it failed.
    const rest = engine.complete(key('each', 1), failed(), 2);
    expect(marks(rest)).toEqual(['each[1]=failed', 'each=failed']);
  });

  it('runs one_success over [success, failed] instances where the aggregate said upstream_failed', () => {
    const engine = engineFor([mapped('each', [1, 2]), after('one_success')]);
    engine.start(0);
    expect(runIds(engine.complete(key('each', 1), failed(), 1))).toEqual([]);
    expect(runIds(engine.complete(key('each', 0), ok(), 2))).toEqual(['after']);
  });

  it('skips an all_success downstream on the first skipped instance, even if the others succeed', () => {
    const engine = engineFor([mapped('each', [1, 2, 3]), after('all_success')]);
    engine.start(0);
    engine.complete(key('each', 0), ok(), 1);
    const decisions = engine.complete(key('each', 1), skippedOutcome(), 2);
    expect(marks(decisions)).toEqual(['each[1]=skipped', 'after=skipped']);
    expect(engine.explain('after')).toBe(
      "skipped: 1 upstream skipped (1 success, 1 skipped, 1 not done; mapped 'each' counts its 3 instances); rule all_success",
    );
    const last = engine.complete(key('each', 2), ok(), 3);
    expect(marks(last)).toEqual(['each[2]=success', 'each=success']);
    expect(finishOf(last)?.state).toBe('success');
  });

  it('skips an all_failed downstream when one instance succeeds', () => {
    const engine = engineFor([mapped('each', [1, 2]), after('all_failed')]);
    engine.start(0);
    engine.complete(key('each', 0), failed(), 1);
    expect(marks(engine.complete(key('each', 1), ok(), 2))).toEqual([
      'each[1]=success',
      'each=failed',
      'after=skipped',
    ]);
  });

  it('explains the counts with a plain and a mapped upstream together', () => {
    const engine = engineFor([task('a'), mapped('each', [1, 2, 3, 4]), after('one_success', ['a', 'each'])]);
    engine.start(0);
    engine.complete(key('a'), failed(), 1);
    engine.complete(key('each', 0), failed(), 2);
    expect(engine.explain('after')).toBe(
      "waiting: 2 of 5 upstreams done (mapped 'each' counts its 4 instances); rule one_success",
    );
  });

  it('counts an unexpanded mapped upstream as one pending upstream', () => {
    const engine = engineFor([
      task('list'),
      task('each', ['list'], { map: { over: { x: { fromTask: 'list' } }, maxLength: 10 } }),
      after('all_done', ['list', 'each']),
    ]);
    engine.start(0);
    expect(engine.explain('after')).toBe('waiting: 0 of 2 upstreams done; rule all_done');
    engine.complete(key('list'), ok(['p', 'q', 'r']), 1);
    expect(engine.explain('after')).toBe(
      "waiting: 1 of 4 upstreams done (mapped 'each' counts its 3 instances); rule all_done",
    );
  });

  it('treats a mapped upstream over an empty list as one skipped upstream', () => {
    const tasks = (rule: TriggerRule): TaskSpec[] => [
      task('list'),
      task('each', ['list'], { map: { over: { x: { fromTask: 'list' } }, maxLength: 10 } }),
      task('other'),
      after(rule, ['each', 'other']),
    ];
    const run = (rule: TriggerRule) => {
      const engine = engineFor(tasks(rule));
      engine.start(0);
      engine.complete(key('other'), ok(), 1);
      engine.complete(key('list'), ok([]), 2);
      return engine;
    };
    expect(run('one_success').instance(key('after'))?.state).toBe('scheduled');
    expect(run('none_failed').instance(key('after'))?.state).toBe('scheduled');
    const allSuccess = run('all_success');
    expect(allSuccess.instance(key('after'))?.state).toBe('skipped');
    expect(allSuccess.explain('after')).toBe('skipped: 1 upstream skipped (1 success, 1 skipped); rule all_success');
  });

  it('still holds a downstream that maps over the mapped task until every instance is done', () => {
    const engine = engineFor([
      mapped('each', [1, 2]),
      task('report', ['each'], {
        triggerRule: 'one_success',
        map: { over: { v: { fromTask: 'each' } }, maxLength: 9 },
      }),
    ]);
    engine.start(0);
    expect(runIds(engine.complete(key('each', 0), ok(10), 1))).toEqual([]);
    expect(engine.explain('report')).toBe("waiting: map source 'each' is running");
    expect(runIds(engine.complete(key('each', 1), ok(20), 2))).toEqual(['report[0]', 'report[1]']);
  });

  it.each<[TriggerRule, Kind[]]>([
    ['all_success', ['ok', 'ok', 'skip']],
    ['all_failed', ['fail', 'ok', 'fail']],
    ['all_skipped', ['skip', 'ok', 'skip']],
    ['one_success', ['fail', 'skip', 'ok']],
    ['one_failed', ['ok', 'skip', 'ok']],
    ['one_done', ['skip', 'skip', 'skip']],
    ['none_failed', ['ok', 'skip', 'fail']],
    ['none_failed_min_one_success', ['skip', 'skip', 'skip']],
    ['none_skipped', ['ok', 'fail', 'skip']],
    ['all_done', ['fail', 'ok', 'skip']],
  ])('decides %s over instances %j as the rule does over three separate upstreams', (rule, kinds) => {
    const engine = engineFor([mapped('each', kinds), after(rule)]);
    engine.start(0);
    const counts = { total: 3, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, removed: 0, done: 0 };
    let decided = false;
    kinds.forEach((kind, i) => {
      engine.complete(key('each', i), outcomeOf(kind), i + 1);
      counts.done++;
      if (kind === 'ok') counts.success++;
      else if (kind === 'fail') counts.failed++;
      else counts.skipped++;
      const verdict = evaluateTriggerRule(rule, counts);
      const state = engine.instance(key('after'))?.state;
      if (decided) return;
      const expected = { run: 'scheduled', wait: 'none', skip: 'skipped', upstream_failed: 'upstream_failed' }[
        verdict.action
      ];
      expect(state, `after instance ${i}`).toBe(expected);
      decided = verdict.action !== 'wait';
    });
  });
});

describe('restoring counts over mapped upstreams', () => {
  const plan = (rule: TriggerRule) =>
    compilePlan(dag([task('a'), mapped('each', [1, 2, 3]), after(rule, ['a', 'each'])]));
  const snapshot = (taskId: string, mapIndex: number, state: InstanceSnapshot['state']): InstanceSnapshot => ({
    taskId,
    mapIndex,
    state,
    tryNumber: state === 'none' ? 0 : 1,
    reason: 'persisted',
  });

  it('rebuilds per-instance counts, so a restored engine decides and explains as the live one did', () => {
    const live = new RunEngine(plan('one_success'), { runId: 'run_1' });
    live.start(0);
    live.complete(key('a'), failed(), 1);
    live.complete(key('each', 0), failed(), 2);
    const restored = RunEngine.restore(plan('one_success'), { runId: 'run_1' }, live.instances(), new Map());
    expect(restored.explain('after')).toBe(live.explain('after'));
    expect(restored.explain('after')).toBe(
      "waiting: 2 of 4 upstreams done (mapped 'each' counts its 3 instances); rule one_success",
    );
    restored.resume(3);
    expect(runIds(restored.complete(key('each', 2), ok(), 4))).toEqual(['after']);
  });

  it('runs a one_success downstream on resume when an instance had already succeeded', () => {
    const snapshots = [
      snapshot('a', -1, 'failed'),
      snapshot('each', -1, 'running'),
      snapshot('each', 0, 'failed'),
      snapshot('each', 1, 'success'),
      snapshot('each', 2, 'running'),
    ];
    const restored = RunEngine.restore(plan('one_success'), { runId: 'run_1' }, snapshots, new Map());
    expect(runIds(restored.resume(0))).toEqual(['each[2]', 'after']);
  });

  it('treats a mapped upstream whose instances were all removed as absent, not skipped', () => {
    const snapshots = [
      snapshot('a', -1, 'success'),
      snapshot('each', -1, 'running'),
      snapshot('each', 0, 'removed'),
      snapshot('each', 1, 'removed'),
      snapshot('each', 2, 'removed'),
    ];
    const restored = RunEngine.restore(plan('all_success'), { runId: 'run_1' }, snapshots, new Map());
    const decisions = restored.resume(0);
    expect(marks(decisions)).toEqual(['each=removed']);
    expect(runIds(decisions)).toEqual(['after']);
    expect(decisions.find((d) => d.kind === 'run')?.reason).toBe(
      "ready: 1 of 1 upstream done (1 success; mapped 'each' counts its 3 instances); rule all_success; 3 removed upstreams ignored",
    );
    expect(finishOf(restored.complete(key('after'), ok(), 1))?.state).toBe('success');
  });

  it('leaves removed instances out and counts the rest', () => {
    const snapshots = [
      snapshot('a', -1, 'success'),
      snapshot('each', -1, 'running'),
      snapshot('each', 0, 'removed'),
      snapshot('each', 1, 'success'),
      snapshot('each', 2, 'running'),
    ];
    const restored = RunEngine.restore(plan('all_success'), { runId: 'run_1' }, snapshots, new Map());
    restored.resume(0);
    expect(restored.explain('after')).toBe(
      "waiting: 2 of 3 upstreams done (mapped 'each' counts its 3 instances); rule all_success; 1 removed upstream ignored",
    );
    expect(runIds(restored.complete(key('each', 2), ok(), 1))).toEqual(['after']);
  });
});
