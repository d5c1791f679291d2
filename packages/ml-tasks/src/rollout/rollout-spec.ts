// A rollout of one model, as declared in YAML or code: which versions, which strategy, and the rules that
// move it (canary steps and guards, bandit settings, the holdout). One zod schema is the source of the
// TypeScript type and of the error messages a bad declaration gets.
import { parseDuration } from '@batuta/scheduler';
import { z } from 'zod';

const share = z.number().min(0).max(1);
const version = z.string().min(1).max(200);

/** Guards a canary checks at every step; any one confidently broken aborts the rollout. */
export const canaryGuardsSchema = z
  .object({
    /** The candidate's error rate (failed scorings / requests) must stay at or below this. */
    maxErrorRate: share.optional(),
    /** The share of requests where the candidate and the baseline disagree must stay at or below this. */
    maxDisagreementRate: share.optional(),
    /** Feedback accuracy: abort when the candidate is (always-valid test) worse than the baseline by more than this. */
    maxAccuracyDrop: share.optional(),
    /** Confidence of the error and disagreement guards (their Wilson bound); high, as they are looked at often. */
    confidence: z.number().gt(0.5).lt(1).default(0.99),
    /** Alpha of the always-valid accuracy test. */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
  })
  .strict();

/** A duration such as '90s', '30m', '1h' or '1h30m' (the DAG files' grammar), in milliseconds. */
const holdDuration = z.string().transform((text, context) => {
  try {
    return parseDuration(text);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

export const canaryStepSchema = z
  .object({
    /** The candidate's share of the traffic (not held out) during this step. */
    share: share.refine((value) => value > 0, 'a canary step needs a share above 0'),
    /** The least time this step lasts before the next, as a duration: '90s', '30m', '1h' (or holdMs). */
    hold: holdDuration.optional(),
    /** The same in milliseconds (or hold). */
    holdMs: z
      .number({
        error: (issue) =>
          typeof issue.input === 'string'
            ? `holdMs is a number of milliseconds; for a duration such as '${issue.input}' write hold: ${issue.input}`
            : undefined,
      })
      .int()
      .min(0)
      .optional(),
    /** The least requests the candidate must have served in this step before it may advance. */
    minRequests: z.number().int().min(0).default(100),
  })
  .strict()
  .superRefine((step, context) => {
    if (step.hold !== undefined && step.holdMs !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['hold'],
        message: 'give the hold time once: hold or holdMs, not both',
      });
    if (step.hold === undefined && step.holdMs === undefined)
      context.addIssue({
        code: 'custom',
        path: ['hold'],
        message: "a canary step needs its hold time: hold (e.g. '1h', '30m', '90s') or holdMs",
      });
  })
  // One form from here on: the router, the guards and the stored rollout read holdMs.
  .transform(({ hold, holdMs, ...step }) => ({ ...step, holdMs: hold ?? holdMs ?? 0 }));

const common = {
  model: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a model name: letters, digits, _ . - (at most 100)'),
  /** The version serving today: the control of every comparison, and where an abort routes everything. */
  baseline: version,
  /** A share of requests routed around every model (answered by the fallback): the feedback-loop guard. */
  holdout: share.max(0.5).default(0),
  /** Salt of the sticky assignment: change it to reshuffle who sees what. Default: the model's name. */
  salt: z.string().min(1).max(200).optional(),
};

export const rolloutSpecSchema = z.discriminatedUnion('strategy', [
  z.object({ strategy: z.literal('single'), ...common }).strict(),
  z.object({ strategy: z.literal('shadow'), ...common, candidate: version }).strict(),
  z
    .object({
      strategy: z.literal('ab'),
      ...common,
      candidate: version,
      /** The candidate's share of the traffic not held out. */
      split: share.default(0.5),
    })
    .strict(),
  z
    .object({
      strategy: z.literal('canary'),
      ...common,
      candidate: version,
      steps: z
        .array(canaryStepSchema)
        .min(1)
        .refine(
          (steps) => steps.every((step, index) => index === 0 || step.share > steps[index - 1]!.share),
          'canary steps must grow in share',
        ),
      guards: canaryGuardsSchema.default({ confidence: 0.99, alpha: 0.05 }),
    })
    .strict(),
  z
    .object({
      strategy: z.literal('bandit'),
      ...common,
      /** The versions competing besides the baseline. */
      candidates: z.array(version).min(1),
      algorithm: z.enum(['thompson', 'ucb']).default('thompson'),
      /** A share of requests spread evenly over all arms whatever the rewards say. */
      explorationFloor: share.max(0.5).default(0.05),
    })
    .strict(),
]);

export type RolloutSpec = z.infer<typeof rolloutSpecSchema>;
export type RolloutSpecInput = z.input<typeof rolloutSpecSchema>;
export type CanaryGuards = z.infer<typeof canaryGuardsSchema>;
export type CanaryStep = z.infer<typeof canaryStepSchema>;
export type RolloutStrategy = RolloutSpec['strategy'];
