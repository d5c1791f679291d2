// A rollout as the API shows it: the report @batuta/ml-tasks computes (the same `RolloutStore.report` the
// CLI's `batuta rollout status` prints) plus what the page needs to draw it — the split, the step's hold
// time left, each guard's interval against its limit, the sequential test's verdict and the recent log.
import {
  armFigureRows,
  type DifferenceReport,
  type RolloutLogEntry,
  type RolloutReport,
  rolloutSplit,
  versionsOf,
  wilsonInterval,
} from '@batuta/ml-tasks';
import type { RolloutView } from './prediction-schemas.js';

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
const iso = (ms: number) => new Date(ms).toISOString();

function differenceOf(d: DifferenceReport | undefined): RolloutView['accuracy'] {
  if (!d) return null;
  return {
    estimate: finite(d.estimate),
    lower: finite(d.lower),
    upper: finite(d.upper),
    confidence: d.confidence,
    significant: d.significant,
  };
}

/** The view of a model's rollout at `nowMs`. */
export function rolloutViewOf(report: RolloutReport, log: readonly RolloutLogEntry[], nowMs: number): RolloutView {
  const { rollout, figures } = report;
  const { spec } = rollout;
  const canary = spec.strategy === 'canary' ? spec : undefined;
  const step = canary?.steps[Math.min(rollout.stepIndex, canary.steps.length - 1)];
  const candidate = 'candidate' in spec ? figures.arms[spec.candidate] : undefined;

  const guards: RolloutView['guards'] = [];
  if (canary) {
    const { guards: declared } = canary;
    const rate = (guard: 'errorRate' | 'disagreementRate', limit: number, successes: number, trials: number) => {
      const found = wilsonInterval({ successes, trials }, declared.confidence);
      // The same reading as the canary's check: broken once the lower bound passes the limit.
      const verdict =
        trials === 0 ? 'no-data' : found.lower > limit ? 'broken' : found.estimate > limit ? 'above-limit' : 'ok';
      guards.push({
        guard,
        limit,
        trials,
        verdict,
        estimate: finite(found.estimate),
        lower: finite(found.lower),
        upper: finite(found.upper),
        confidence: found.confidence,
      });
    };
    if (declared.maxErrorRate !== undefined)
      rate('errorRate', declared.maxErrorRate, candidate?.errors ?? 0, candidate?.requests ?? 0);
    if (declared.maxDisagreementRate !== undefined)
      rate('disagreementRate', declared.maxDisagreementRate, candidate?.disagreements ?? 0, candidate?.compared ?? 0);
  }
  const pValue = rollout.accuracyPValue ?? 1;
  const serving =
    rollout.status === 'aborted' ? spec.baseline : rollout.status === 'promoted' ? (rollout.winner ?? null) : null;

  return {
    model: spec.model,
    strategy: spec.strategy,
    status: rollout.status,
    step: rollout.stepIndex + 1,
    steps: canary ? canary.steps.length : 1,
    stepShares: canary ? canary.steps.map((s) => s.share) : [],
    baseline: spec.baseline,
    candidates: versionsOf(spec).filter((version) => version !== spec.baseline),
    holdout: spec.holdout,
    split: rolloutSplit(rollout),
    serving,
    reason: rollout.reason ?? null,
    startedAt: iso(rollout.startedMs),
    stepStartedAt: iso(rollout.stepStartedMs),
    hold:
      step && rollout.status === 'running'
        ? {
            holdMs: step.holdMs,
            remainingMs: Math.max(0, step.holdMs - (nowMs - rollout.stepStartedMs)),
            minRequests: step.minRequests,
            candidateRequests: figures.candidateRequestsThisStep,
          }
        : null,
    figures: armFigureRows(figures),
    guards,
    accuracy: differenceOf(report.accuracy),
    errorRate: differenceOf(report.errorRate),
    sampleRatio: report.sampleRatio
      ? {
          chiSquare: finite(report.sampleRatio.chiSquare),
          degreesOfFreedom: report.sampleRatio.degreesOfFreedom,
          pValue: finite(report.sampleRatio.pValue),
          alpha: report.sampleRatio.alpha,
          mismatch: report.sampleRatio.mismatch,
        }
      : null,
    sequentialTest:
      canary?.guards.maxAccuracyDrop !== undefined
        ? {
            maxAccuracyDrop: canary.guards.maxAccuracyDrop,
            alpha: canary.guards.alpha,
            pValue,
            rejected: pValue < canary.guards.alpha,
          }
        : null,
    bandit: rollout.bandit ?? null,
    log: log.map((entry) => ({ id: entry.id, at: iso(entry.atMs), type: entry.type, fields: entry.fields })),
  };
}
