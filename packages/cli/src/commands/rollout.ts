// `batuta rollout start|status|advance|promote|abort MODEL`: a model's rollout in Redis through the same
// RolloutStore the model servers route by and the `ml.rollout.*` operators drive. Abort and rollback are
// one command each; `advance` is the canary's guard check (it may promote or abort), `advance --force`
// moves a step now.
import {
  armFigureRows,
  HOLDOUT,
  MlTasksError,
  type RolloutReport,
  RolloutStore,
  rolloutSpecSchema,
  rolloutSplit,
  type StoredRollout,
  versionsOf,
} from '@batuta/ml-tasks';
import { z } from 'zod';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { printJson, rolloutStatusJson } from '../json-shapes.js';
import { withRedis } from '../redis-client.js';
import { renderTable } from '../render/table.js';
import { readYamlFile } from '../yaml-file.js';

const MODEL_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Runs `body` with the model's RolloutStore; a model with no rollout is "not found" (exit 3). */
async function withRollouts<T>(
  config: CliConfig,
  model: string,
  options: { switchPredictions?: boolean },
  body: (store: RolloutStore) => Promise<T>,
): Promise<T> {
  if (!MODEL_NAME.test(model)) throw new UsageError(`'${model}' is not a model name (letters, digits, _ . -)`);
  return withRedis(config, async (redis) => {
    const store = new RolloutStore(redis, {
      model,
      namespace: config.namespace,
      activatePredictionSets: options.switchPredictions ?? false,
    });
    try {
      return await body(store);
    } catch (error) {
      if (error instanceof MlTasksError && error.code === 'NO_ROLLOUT') throw new NotFoundError(error.message);
      throw error;
    }
  });
}

/** A rollout file: the spec, `model` optional (the command names it) but, when given, the same. */
const rolloutFileSchema = z.record(z.string(), z.unknown()).superRefine((value, context) => {
  const parsed = rolloutSpecSchema.safeParse({ model: '_', ...value });
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

/** `batuta rollout start MODEL --file SPEC.yaml [--replace]`. */
export async function rolloutStart(
  config: CliConfig,
  model: string,
  options: { file: string; replace?: boolean },
): Promise<number> {
  const declared = readYamlFile(options.file, rolloutFileSchema, 'the rollout file');
  if (declared.model !== undefined && declared.model !== model) {
    throw new UsageError(`${options.file} declares model '${String(declared.model)}', not '${model}'`);
  }
  return withRollouts(config, model, {}, async (store) => {
    const rollout = await store.start({ ...declared, model } as never, { replace: options.replace ?? false });
    console.log(`${model}: started a ${rollout.spec.strategy} rollout of ${versionsOf(rollout.spec).join(', ')}`);
    console.log(describeSplit(rollout));
    return 0;
  });
}

/** `batuta rollout status MODEL [--json]`. */
export async function rolloutStatus(
  config: CliConfig,
  model: string,
  options: { json?: boolean } = {},
): Promise<number> {
  return withRollouts(config, model, {}, async (store) => {
    const report = await store.report();
    if (options.json) printJson(rolloutStatusJson, statusJson(config.namespace, report));
    else printReport(report);
    return 0;
  });
}

/** `batuta rollout advance MODEL [--force]`: the guard check (hold, advance, promote or abort), or a forced step. */
export async function rolloutAdvance(
  config: CliConfig,
  model: string,
  options: { force?: boolean; switchPredictions?: boolean },
): Promise<number> {
  return withRollouts(config, model, options, async (store) => {
    if (options.force) {
      const rollout = await store.advance();
      console.log(`${model}: moved to step ${rollout.stepIndex + 1} by hand`);
      console.log(describeSplit(rollout));
      return 0;
    }
    const decision = await store.check();
    console.log(`${model}: ${decision.action} (${decision.reason})`);
    console.log(describeSplit(await store.get()));
    return 0;
  });
}

/** `batuta rollout promote MODEL [--reason TEXT]`. */
export async function rolloutPromote(
  config: CliConfig,
  model: string,
  options: { reason?: string; switchPredictions?: boolean },
): Promise<number> {
  return withRollouts(config, model, options, async (store) => {
    const rollout = await store.promote(Date.now(), options.reason ?? 'promoted with batuta rollout promote');
    console.log(`${model}: promoted; ${rollout.winner ?? '?'} serves everything`);
    return 0;
  });
}

/** `batuta rollout abort MODEL [--reason TEXT]`: the baseline serves everything (a promoted rollout rolls back). */
export async function rolloutAbort(
  config: CliConfig,
  model: string,
  options: { reason?: string; switchPredictions?: boolean },
): Promise<number> {
  return withRollouts(config, model, options, async (store) => {
    const rollout = await store.abort(Date.now(), options.reason ?? 'aborted with batuta rollout abort');
    console.log(`${model}: aborted; ${rollout.spec.baseline} serves everything (${rollout.reason ?? ''})`);
    return 0;
  });
}

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
const round = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '-' : String(Math.round(value * 10_000) / 10_000);

function percent(value: number): string {
  return `${Math.round(value * 1000) / 10} %`;
}

function describeSplit(rollout: StoredRollout): string {
  const split = Object.entries(rolloutSplit(rollout))
    .map(([version, share]) => `${version} ${percent(share)}`)
    .join(', ');
  const bandit =
    rollout.spec.strategy === 'bandit' && rollout.status === 'running'
      ? `by rewards (${Object.entries(rollout.bandit ?? {})
          .map(
            ([version, arm]) =>
              `${version}: ${arm.pulls} rewarded, mean ${round(arm.pulls > 0 ? arm.rewards / arm.pulls : Number.NaN)}`,
          )
          .join('; ')})`
      : '';
  const holdout = rollout.spec.holdout > 0 ? `; holdout ${percent(rollout.spec.holdout)}` : '';
  return `status ${rollout.status}; split ${split}${bandit}${holdout}`;
}

function statusJson(namespace: string, report: RolloutReport): z.input<typeof rolloutStatusJson> {
  const { rollout, figures } = report;
  const { spec } = rollout;
  const difference = (d: RolloutReport['accuracy']) =>
    d
      ? {
          estimate: finite(d.estimate),
          lower: finite(d.lower),
          upper: finite(d.upper),
          confidence: d.confidence,
          significant: d.significant,
        }
      : null;
  const serving =
    rollout.status === 'aborted' ? spec.baseline : rollout.status === 'promoted' ? (rollout.winner ?? null) : null;
  return {
    model: spec.model,
    namespace,
    strategy: spec.strategy,
    status: rollout.status,
    step: rollout.stepIndex + 1,
    steps: spec.strategy === 'canary' ? spec.steps.length : 1,
    baseline: spec.baseline,
    candidates: versionsOf(spec).filter((version) => version !== spec.baseline),
    holdout: spec.holdout,
    split: rolloutSplit(rollout),
    serving,
    reason: rollout.reason ?? null,
    started: new Date(rollout.startedMs).toISOString(),
    stepStarted: new Date(rollout.stepStartedMs).toISOString(),
    figures: armFigureRows(figures),
    candidateRequestsThisStep: figures.candidateRequestsThisStep,
    sampleRatio: report.sampleRatio
      ? {
          ...report.sampleRatio,
          chiSquare: finite(report.sampleRatio.chiSquare),
          pValue: finite(report.sampleRatio.pValue),
        }
      : null,
    accuracy: difference(report.accuracy),
    errorRate: difference(report.errorRate),
    bandit: rollout.bandit ?? null,
  };
}

function printReport(report: RolloutReport): void {
  const json = statusJson('', report);
  const steps = json.strategy === 'canary' ? ` (step ${json.step} of ${json.steps})` : '';
  console.log(`${json.model}: ${json.strategy} rollout, ${json.status}${steps}, started ${json.started}`);
  console.log(describeSplit(report.rollout));
  if (json.reason) console.log(`reason: ${json.reason}`);
  if (json.figures.length > 0) {
    console.log(
      renderTable(
        ['VERSION', 'REQUESTS', 'ERRORS', 'COMPARED', 'DISAGREED', 'FEEDBACK'],
        json.figures.map((f) => [
          f.arm === HOLDOUT ? '(holdout)' : f.arm,
          String(f.requests),
          String(f.errors),
          String(f.compared),
          String(f.disagreements),
          f.feedbackTrials > 0 ? `${f.feedbackCorrect}/${f.feedbackTrials}` : '-',
        ]),
      ),
    );
  } else {
    console.log('no requests yet');
  }
  if (json.sampleRatio) {
    const s = json.sampleRatio;
    console.log(
      `sample ratio: ${s.mismatch ? 'MISMATCH' : 'ok'} (chi-square ${round(s.chiSquare ?? Number.NaN)}, p ${round(s.pValue ?? Number.NaN)}, alpha ${s.alpha})`,
    );
  }
  const interval = (label: string, d: RolloutReport['accuracy']) => {
    if (!d) return;
    console.log(
      `${label} (candidate − baseline): ${round(d.estimate)} [${round(d.lower)}, ${round(d.upper)}] at ${d.confidence}${d.significant ? ', significant' : ''}`,
    );
  };
  interval('accuracy', report.accuracy);
  interval('error rate', report.errorRate);
}
