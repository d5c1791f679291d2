// The eleven trigger rules as a pure function of upstream-state counts (as Airflow's
// trigger_rule_dep does: counts, not lists). The engine keeps the counts incrementally and calls
// `triggerRuleAction` on its hot path; `evaluateTriggerRule` adds a reason a user can read.
import type { TriggerRule } from '../dag/model.js';

/**
 * How many of a task's direct upstreams are in each state. A mapped upstream expanded into N
 * instances counts as N upstreams, each instance by its own state (as Airflow counts them); before
 * it expands, or when it is marked without expanding (an empty list), it counts as one.
 */
export interface UpstreamCounts {
  /** upstreams incl. removed ones, each mapped instance counted */
  total: number;
  success: number;
  failed: number;
  upstreamFailed: number;
  skipped: number;
  removed: number;
  /** terminal ones incl. removed */
  done: number;
}

/** What a trigger rule says about a task that has not started: run it, wait, or auto-mark it. */
export type RuleVerdict = { action: 'run' | 'wait' | 'skip' | 'upstream_failed'; reason: string };

/** Numeric verdicts for the engine's hot path (no allocation). */
export const ACTION_WAIT = 0;
export const ACTION_RUN = 1;
export const ACTION_SKIP = 2;
export const ACTION_UPSTREAM_FAILED = 3;
export type RuleAction = typeof ACTION_WAIT | typeof ACTION_RUN | typeof ACTION_SKIP | typeof ACTION_UPSTREAM_FAILED;

/**
 * The rule table of AIRFLOW.md on counts that already leave removed upstreams out (`total` and
 * `done` exclude them). one_success / one_failed / one_done are marked only once every upstream
 * is done; the other rules are marked on the first decisive upstream.
 */
export function triggerRuleAction(
  rule: TriggerRule,
  total: number,
  done: number,
  success: number,
  failed: number,
  upstreamFailed: number,
  skipped: number,
): RuleAction {
  if (total <= 0) return ACTION_RUN;
  const failures = failed + upstreamFailed;
  const allDone = done >= total;
  switch (rule) {
    case 'all_success':
      if (failures > 0) return ACTION_UPSTREAM_FAILED;
      if (skipped > 0) return ACTION_SKIP;
      return success >= total ? ACTION_RUN : ACTION_WAIT;
    case 'all_failed':
      if (success + skipped > 0) return ACTION_SKIP;
      return failures >= total ? ACTION_RUN : ACTION_WAIT;
    case 'all_done':
      return allDone ? ACTION_RUN : ACTION_WAIT;
    case 'all_skipped':
      if (success + failures > 0) return ACTION_SKIP;
      return skipped >= total ? ACTION_RUN : ACTION_WAIT;
    case 'one_success':
      if (success > 0) return ACTION_RUN;
      if (!allDone) return ACTION_WAIT;
      return skipped >= total ? ACTION_SKIP : ACTION_UPSTREAM_FAILED;
    case 'one_failed':
      if (failures > 0) return ACTION_RUN;
      return allDone ? ACTION_SKIP : ACTION_WAIT;
    case 'one_done':
      if (success + failed > 0) return ACTION_RUN;
      return allDone ? ACTION_SKIP : ACTION_WAIT;
    case 'none_failed':
      if (failures > 0) return ACTION_UPSTREAM_FAILED;
      return allDone ? ACTION_RUN : ACTION_WAIT;
    case 'none_failed_min_one_success':
      if (failures > 0) return ACTION_UPSTREAM_FAILED;
      if (!allDone) return ACTION_WAIT;
      return success > 0 ? ACTION_RUN : ACTION_SKIP;
    case 'none_skipped':
      if (skipped > 0) return ACTION_SKIP;
      return allDone ? ACTION_RUN : ACTION_WAIT;
    case 'always':
      return ACTION_RUN;
  }
}

/**
 * Decides whether a task may run given its direct upstreams' states, and says why. `mappedNote`
 * names the expanded mapped upstreams in the counts ("mapped 'each' counts its 4 instances").
 */
export function evaluateTriggerRule(rule: TriggerRule, counts: UpstreamCounts, mappedNote = ''): RuleVerdict {
  const total = counts.total - counts.removed;
  const done = counts.done - counts.removed;
  const action = triggerRuleAction(
    rule,
    total,
    done,
    counts.success,
    counts.failed,
    counts.upstreamFailed,
    counts.skipped,
  );
  return { action: ACTION_NAMES[action], reason: verdictReason(rule, action, counts, mappedNote) };
}

const ACTION_NAMES = ['wait', 'run', 'skip', 'upstream_failed'] as const;

/** The reason text of `evaluateTriggerRule`, for a caller that already has the action. */
export function verdictReason(rule: TriggerRule, action: RuleAction, counts: UpstreamCounts, mappedNote = ''): string {
  const total = counts.total - counts.removed;
  const done = counts.done - counts.removed;
  if (mappedNote === '' && counts.removed === 0 && action === ACTION_RUN && (total <= 0 || counts.success === total)) {
    const common = allSucceededReason(rule, total);
    if (common !== undefined) return common;
  }
  const ignored = counts.removed > 0 ? `; ${counts.removed} removed ${plural(counts.removed, 'upstream')} ignored` : '';
  if (total <= 0) return `ready: no upstream tasks${ignored}`;
  const tail = `; rule ${rule}${ignored}`;
  const of = `${done} of ${total} ${plural(total, 'upstream')}`;
  const mapped = mappedNote === '' ? '' : `; ${mappedNote}`;
  const breakdown = `${describeCounts(counts)}${mapped}`;
  switch (action) {
    case ACTION_WAIT:
      return `waiting: ${of} done${mappedNote === '' ? '' : ` (${mappedNote})`}${tail}`;
    case ACTION_RUN:
      if (rule === 'always') return `ready: runs regardless of upstreams (${of} done${mapped})${tail}`;
      return `ready: ${of} done (${breakdown})${tail}`;
    case ACTION_SKIP:
      return `skipped: ${skipCause(rule, counts, done, total)} (${breakdown})${tail}`;
    case ACTION_UPSTREAM_FAILED:
      return `upstream_failed: ${upstreamFailedCause(rule, counts)} (${breakdown})${tail}`;
  }
}

function skipCause(rule: TriggerRule, counts: UpstreamCounts, done: number, total: number): string {
  switch (rule) {
    case 'all_failed':
      return 'an upstream did not fail';
    case 'all_skipped':
      return 'an upstream was not skipped';
    case 'one_success':
    case 'none_failed_min_one_success':
      return `all ${total} ${plural(total, 'upstream')} skipped`;
    case 'one_failed':
      return `all ${done} ${plural(done, 'upstream')} done and none failed`;
    case 'one_done':
      return `all ${done} ${plural(done, 'upstream')} done and none succeeded or failed`;
    default:
      return `${counts.skipped} ${plural(counts.skipped, 'upstream')} skipped`;
  }
}

function upstreamFailedCause(rule: TriggerRule, counts: UpstreamCounts): string {
  if (rule === 'one_success') return 'all upstreams done and none succeeded';
  const failures = counts.failed + counts.upstreamFailed;
  return `${failures} ${plural(failures, 'upstream')} failed or upstream_failed`;
}

/** "2 success, 1 failed, 1 not done" — only the non-zero parts. */
export function describeCounts(counts: UpstreamCounts): string {
  const parts: string[] = [];
  if (counts.success > 0) parts.push(`${counts.success} success`);
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  if (counts.upstreamFailed > 0) parts.push(`${counts.upstreamFailed} upstream_failed`);
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  const open = counts.total - counts.done;
  if (open > 0) parts.push(`${open} not done`);
  return parts.length > 0 ? parts.join(', ') : 'none done';
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

// The common "ready" reasons (no upstream; every upstream succeeded), built once per rule and
// upstream count: a run of 100,000 tasks would otherwise build and collect 100,000 equal strings.
const allSucceededReasons = new Map<TriggerRule, string[]>();

/** The reason a task whose `total` upstreams all succeeded is ready (shared strings; undefined past 63 upstreams). */
export function allSucceededReason(rule: TriggerRule, total: number): string | undefined {
  if (total <= 0) return 'ready: no upstream tasks';
  if (total >= 64 || rule === 'always') return undefined;
  let cache = allSucceededReasons.get(rule);
  if (!cache) {
    cache = [];
    allSucceededReasons.set(rule, cache);
  }
  cache[total] ??= `ready: ${total} of ${total} ${plural(total, 'upstream')} done (${total} success); rule ${rule}`;
  return cache[total];
}
