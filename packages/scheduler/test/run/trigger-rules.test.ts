import { describe, expect, it } from 'vitest';
import { TRIGGER_RULES, type TriggerRule } from '../../src/dag/model.js';
import { evaluateTriggerRule, type RuleVerdict, type UpstreamCounts } from '../../src/run/trigger-rules.js';

type Action = RuleVerdict['action'];

/** Upstreams by state; `open` are not terminal yet (none, scheduled, running, up_for_retry …). */
function counts(
  parts: Partial<Record<'success' | 'failed' | 'upstreamFailed' | 'skipped' | 'removed' | 'open', number>>,
) {
  const { success = 0, failed = 0, upstreamFailed = 0, skipped = 0, removed = 0, open = 0 } = parts;
  const done = success + failed + upstreamFailed + skipped + removed;
  const value: UpstreamCounts = { total: done + open, success, failed, upstreamFailed, skipped, removed, done };
  return value;
}

// Three upstreams in every combination that matters to some rule.
const scenarios = {
  allSuccess: counts({ success: 3 }),
  allFailed: counts({ failed: 3 }),
  allUpstreamFailed: counts({ upstreamFailed: 3 }),
  allSkipped: counts({ skipped: 3 }),
  successAndFailed: counts({ success: 2, failed: 1 }),
  successAndSkipped: counts({ success: 2, skipped: 1 }),
  failedAndSkipped: counts({ failed: 1, skipped: 2 }),
  upstreamFailedAndSkipped: counts({ upstreamFailed: 1, skipped: 2 }),
  noneDone: counts({ open: 3 }),
  oneSuccessRestOpen: counts({ success: 1, open: 2 }),
  oneFailedRestOpen: counts({ failed: 1, open: 2 }),
  oneUpstreamFailedRestOpen: counts({ upstreamFailed: 1, open: 2 }),
  oneSkippedRestOpen: counts({ skipped: 1, open: 2 }),
  successSkippedOneOpen: counts({ success: 1, skipped: 1, open: 1 }),
  failedSkippedOneOpen: counts({ failed: 1, skipped: 1, open: 1 }),
} satisfies Record<string, UpstreamCounts>;
type Scenario = keyof typeof scenarios;

const R = 'run';
const W = 'wait';
const S = 'skip';
const U = 'upstream_failed';

// Expected verdicts, one row per rule, columns in the order of `scenarios` above.
const expected: Record<TriggerRule, Action[]> = {
  //                           aS aF aU aK SF SK FK UK none 1S 1F 1U 1K SKo FKo
  all_success: /*           */ [R, U, U, S, U, S, U, U, W, W, U, U, S, S, U],
  all_failed: /*            */ [S, R, R, S, S, S, S, S, W, S, W, W, S, S, S],
  all_done: /*              */ [R, R, R, R, R, R, R, R, W, W, W, W, W, W, W],
  all_skipped: /*           */ [S, S, S, R, S, S, S, S, W, S, S, S, W, S, S],
  one_success: /*           */ [R, U, U, S, R, R, U, U, W, R, W, W, W, R, W],
  one_failed: /*            */ [S, R, R, S, R, S, R, R, W, W, R, R, W, W, R],
  one_done: /*              */ [R, R, S, S, R, R, R, S, W, R, R, W, W, R, R],
  none_failed: /*           */ [R, U, U, R, U, R, U, U, W, W, U, U, W, W, U],
  none_failed_min_one_success: [R, U, U, S, U, R, U, U, W, W, U, U, W, W, U],
  none_skipped: /*          */ [R, R, R, S, R, S, S, S, W, W, W, W, S, S, S],
  always: /*                */ [R, R, R, R, R, R, R, R, R, R, R, R, R, R, R],
};

const names = Object.keys(scenarios) as Scenario[];
const cases = TRIGGER_RULES.flatMap((rule) =>
  names.map((scenario, column) => ({ rule, scenario, action: expected[rule][column]! })),
);

describe('evaluateTriggerRule', () => {
  it('has an expectation for every rule and scenario', () => {
    for (const rule of TRIGGER_RULES) expect(expected[rule]).toHaveLength(names.length);
  });

  it.each(cases)('$rule with $scenario → $action', ({ rule, scenario, action }) => {
    const verdict = evaluateTriggerRule(rule, scenarios[scenario]);
    expect(verdict.action).toBe(action);
    const prefix = { wait: 'waiting:', run: 'ready:', skip: 'skipped:', upstream_failed: 'upstream_failed:' }[action];
    expect(verdict.reason.startsWith(prefix)).toBe(true);
    if (rule !== 'always') expect(verdict.reason).toContain(`rule ${rule}`);
  });

  it('lets a task without upstreams run under every rule', () => {
    for (const rule of TRIGGER_RULES) {
      expect(evaluateTriggerRule(rule, counts({})).action).toBe('run');
    }
  });

  it('waits in one_success while a branch skipped one path and another upstream has not run (apache/airflow#42581)', () => {
    const verdict = evaluateTriggerRule('one_success', counts({ skipped: 1, open: 1 }));
    expect(verdict).toEqual({ action: 'wait', reason: 'waiting: 1 of 2 upstreams done; rule one_success' });
    expect(evaluateTriggerRule('one_success', counts({ skipped: 1, success: 1 })).action).toBe('run');
    expect(evaluateTriggerRule('one_success', counts({ skipped: 2 })).action).toBe('skip');
  });

  it('marks all_success on the first decisive upstream, failure winning over skip', () => {
    expect(evaluateTriggerRule('all_success', counts({ failed: 1, skipped: 1, open: 5 })).action).toBe(
      'upstream_failed',
    );
    expect(evaluateTriggerRule('all_success', counts({ skipped: 1, open: 5 })).action).toBe('skip');
    expect(evaluateTriggerRule('none_failed', counts({ upstreamFailed: 1, open: 5 })).action).toBe('upstream_failed');
    expect(evaluateTriggerRule('none_skipped', counts({ skipped: 1, open: 5 })).action).toBe('skip');
  });

  it('marks one_* rules only once every upstream is done', () => {
    expect(evaluateTriggerRule('one_success', counts({ failed: 2, open: 1 })).action).toBe('wait');
    expect(evaluateTriggerRule('one_success', counts({ failed: 3 })).action).toBe('upstream_failed');
    expect(evaluateTriggerRule('one_failed', counts({ success: 2, open: 1 })).action).toBe('wait');
    expect(evaluateTriggerRule('one_failed', counts({ success: 3 })).action).toBe('skip');
    expect(evaluateTriggerRule('one_done', counts({ upstreamFailed: 2, open: 1 })).action).toBe('wait');
    expect(evaluateTriggerRule('one_done', counts({ upstreamFailed: 3 })).action).toBe('skip');
  });

  it('leaves removed upstreams out of the counts, as if absent', () => {
    expect(evaluateTriggerRule('all_success', counts({ success: 2, removed: 1 })).action).toBe('run');
    expect(evaluateTriggerRule('none_failed', counts({ success: 1, removed: 1, open: 1 })).action).toBe('wait');
    expect(evaluateTriggerRule('one_success', counts({ skipped: 1, removed: 2 })).action).toBe('skip');
    expect(evaluateTriggerRule('all_skipped', counts({ skipped: 1, removed: 1 })).action).toBe('run');
    const allRemoved = evaluateTriggerRule('all_success', counts({ removed: 2 }));
    expect(allRemoved.action).toBe('run');
    expect(allRemoved.reason).toContain('2 removed upstreams ignored');
  });

  it('explains itself', () => {
    expect(evaluateTriggerRule('all_success', counts({ success: 2, open: 1 })).reason).toBe(
      'waiting: 2 of 3 upstreams done; rule all_success',
    );
    expect(evaluateTriggerRule('all_success', counts({ success: 3 })).reason).toBe(
      'ready: 3 of 3 upstreams done (3 success); rule all_success',
    );
    expect(evaluateTriggerRule('all_success', counts({ success: 1, failed: 1, open: 1 })).reason).toBe(
      'upstream_failed: 1 upstream failed or upstream_failed (1 success, 1 failed, 1 not done); rule all_success',
    );
    expect(evaluateTriggerRule('none_failed_min_one_success', counts({ skipped: 2 })).reason).toBe(
      'skipped: all 2 upstreams skipped (2 skipped); rule none_failed_min_one_success',
    );
    expect(evaluateTriggerRule('always', counts({ open: 2 })).reason).toBe(
      'ready: runs regardless of upstreams (0 of 2 upstreams done); rule always',
    );
  });
});
