// The request and response bodies of the prediction-set and rollout routes, one zod schema each: they
// validate requests, type the handlers and generate the OpenAPI document.
import { z } from '@hono/zod-openapi';

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const REASON = z.string().trim().min(1).max(500);

export const modelParams = z.object({
  model: z.string().regex(NAME, 'a model name: 1-128 letters, digits, _ . -'),
});

export const modelList = z
  .object({
    namespace: z.string(),
    models: z.array(
      z.object({
        model: z.string(),
        layout: z.enum(['versioned', 'plain']).nullable(),
        current: z.string().nullable(),
        versions: z.number().int(),
        rollout: z
          .object({ strategy: z.string(), status: z.enum(['running', 'promoted', 'aborted']) })
          .nullable()
          .openapi({ description: "The model's rollout, if it ever had one" }),
      }),
    ),
  })
  .openapi('ModelList');

const ingestGate = z
  .object({
    verdict: z.enum(['passed', 'forced']),
    rows: z.number().int(),
    previousVersion: z.string().optional(),
    previousRows: z.number().int().optional(),
    minKeepShare: z.number(),
    reason: z.string().optional(),
  })
  .openapi('IngestGateRecord', { description: 'What the ingest safety gate decided when the version was committed' });

export const versionList = z
  .object({
    model: z.string(),
    current: z.string().nullable(),
    versions: z.array(
      z.object({
        version: z.string(),
        status: z.enum(['writing', 'complete']),
        rows: z.number().int(),
        current: z.boolean(),
        bad: z.string().optional().openapi({ description: 'Why it is marked bad (rollback skips it)' }),
        startedAt: z.string(),
        committedAt: z.string().optional().openapi({ description: 'When its ingest completed (and made it current)' }),
        activatedAt: z
          .string()
          .optional()
          .openapi({ description: 'When it last became current: its commit, an activate or a rollback' }),
        classNames: z.array(z.string()).optional(),
        featureCount: z.number().int().optional(),
        gate: ingestGate.optional(),
      }),
    ),
  })
  .openapi('PredictionVersionList');

export const activateBody = z
  .object({
    version: z.string().regex(NAME, 'a version name: 1-128 letters, digits, _ . -'),
    force: z.boolean().optional().openapi({ description: 'Needed for a version marked bad (clears the mark)' }),
  })
  .strict()
  .openapi('ActivateVersion');

export const activated = z
  .object({ model: z.string(), previous: z.string().nullable(), current: z.string() })
  .openapi('VersionActivated');

export const rolledBack = z
  .object({
    model: z.string(),
    from: z.string(),
    to: z.string(),
    skipped: z.array(z.string()).openapi({ description: 'Earlier versions passed over because they are marked bad' }),
  })
  .openapi('VersionRolledBack');

export const emptyBody = z.object({}).strict().openapi('RollbackRequest');

const switchPredictions = z
  .boolean()
  .optional()
  .openapi({ description: "Also switch the model's current prediction set (as `--switch-predictions`)" });

export const advanceBody = z
  .object({
    force: z.boolean().optional().openapi({
      description: 'Move to the next step now; otherwise run the guard check (hold, advance, promote, abort)',
    }),
    switchPredictions,
  })
  .strict()
  .openapi('AdvanceRollout');

export const decideBody = z
  .object({ reason: REASON.optional().openapi({ description: 'Why, for the rollout log' }), switchPredictions })
  .strict()
  .openapi('DecideRollout');

const interval = z.object({
  estimate: z.number().nullable(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
  confidence: z.number(),
});
const difference = interval.extend({ significant: z.boolean() }).openapi('Difference');

export const rolloutView = z
  .object({
    model: z.string(),
    strategy: z.enum(['single', 'shadow', 'ab', 'canary', 'bandit']),
    status: z.enum(['running', 'promoted', 'aborted']),
    step: z.number().int().openapi({ description: 'The step in force, from 1 (a canary; 1 otherwise)' }),
    steps: z.number().int(),
    stepShares: z.array(z.number()).openapi({ description: "A canary's share per step; empty otherwise" }),
    baseline: z.string(),
    candidates: z.array(z.string()),
    holdout: z.number(),
    split: z.record(z.string(), z.number()).openapi({ description: 'Share of the traffic not held out, per version' }),
    serving: z.string().nullable().openapi({ description: 'The version answering everything, once decided' }),
    reason: z.string().nullable(),
    startedAt: z.string(),
    stepStartedAt: z.string(),
    hold: z
      .object({
        holdMs: z.number().int(),
        remainingMs: z.number().int(),
        minRequests: z.number().int(),
        candidateRequests: z.number().int(),
      })
      .nullable()
      .openapi({ description: "A running canary's step: its hold time left and candidate requests so far" }),
    figures: z.array(
      z.object({
        arm: z.string(),
        requests: z.number().int(),
        errors: z.number().int(),
        compared: z.number().int(),
        disagreements: z.number().int(),
        feedbackTrials: z.number().int(),
        feedbackCorrect: z.number().int(),
      }),
    ),
    guards: z
      .array(
        interval.extend({
          guard: z.enum(['errorRate', 'disagreementRate']),
          limit: z.number(),
          trials: z.number().int(),
          verdict: z.enum(['no-data', 'ok', 'above-limit', 'broken']),
        }),
      )
      .openapi({ description: "A canary's rate guards: the candidate's Wilson interval at the guard's confidence" }),
    accuracy: difference.nullable().openapi({ description: 'Candidate − baseline feedback accuracy (Newcombe)' }),
    errorRate: difference.nullable().openapi({ description: 'Candidate − baseline error rate (Newcombe)' }),
    sampleRatio: z
      .object({
        chiSquare: z.number().nullable(),
        degreesOfFreedom: z.number().int(),
        pValue: z.number().nullable(),
        alpha: z.number(),
        mismatch: z.boolean(),
      })
      .nullable()
      .openapi({ description: 'The sample-ratio-mismatch check of the split (or the holdout)' }),
    sequentialTest: z
      .object({
        maxAccuracyDrop: z.number(),
        alpha: z.number(),
        pValue: z.number(),
        rejected: z.boolean(),
      })
      .nullable()
      .openapi({ description: "A canary's always-valid (mSPRT) accuracy test, when it guards accuracy" }),
    bandit: z.record(z.string(), z.object({ pulls: z.number(), rewards: z.number() })).nullable(),
    log: z.array(
      z.object({ id: z.string(), at: z.string(), type: z.string(), fields: z.record(z.string(), z.string()) }),
    ),
  })
  .openapi('Rollout');

export const rolloutDecision = z
  .object({
    model: z.string(),
    action: z.enum(['hold', 'advance', 'promote', 'abort']),
    reason: z.string(),
    rollout: rolloutView,
  })
  .openapi('RolloutDecision');

export type RolloutView = z.infer<typeof rolloutView>;
export type VersionItem = z.infer<typeof versionList>['versions'][number];
