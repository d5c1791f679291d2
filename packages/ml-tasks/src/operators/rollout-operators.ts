// The rollout steps as operators, so a DAG can train → validate → shadow → canary → promote:
//   ml.rollout.start    starts a rollout of a model (any strategy); `replace` takes over a running one
//   ml.rollout.advance  a canary's check: advance, promote or abort by its guards (or `force` a step)
//   ml.rollout.promote  the candidate (a bandit: its best arm) serves everything
//   ml.rollout.abort    the baseline serves everything again, and `current` is the baseline's (a promoted
//                       rollout is rolled back; a running one's candidate never stays current)
// Each returns the rollout's state after the step, so a downstream task (or a branch) can read it.
import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import type { RolloutSpecInput } from '../rollout/rollout-spec.js';
import { RolloutStore } from '../rollout/rollout-store.js';
import { openRedis, redisUrlFor } from './task-inputs.js';

const where = {
  model: z.string().min(1).describe('The model whose rollout this is'),
  namespace: z.string().optional(),
  redisUrl: z.string().optional().describe('Default: BATUTA_REDIS_URL, else redis://127.0.0.1:6379'),
  activatePredictionSets: z
    .boolean()
    .default(true)
    .describe(
      "Switch the model's current prediction set on promote (to the winner) and abort (back to the baseline) (default true)",
    ),
};

/** What every rollout operator returns. */
export interface RolloutStepOutput {
  model: string;
  strategy: string;
  status: string;
  step: number;
  /** The version serving everything once promoted or aborted. */
  serving?: string;
  reason?: string;
}

async function withStore<T>(
  args: {
    model: string;
    namespace?: string | undefined;
    redisUrl?: string | undefined;
    activatePredictionSets: boolean;
  },
  body: (store: RolloutStore) => Promise<T>,
): Promise<T> {
  const redis = await openRedis(redisUrlFor(args.redisUrl));
  try {
    const store = new RolloutStore(redis, {
      model: args.model,
      activatePredictionSets: args.activatePredictionSets,
      ...(args.namespace ? { namespace: args.namespace } : {}),
    });
    return await body(store);
  } finally {
    redis.disconnect();
  }
}

function output(rollout: Awaited<ReturnType<RolloutStore['get']>>): RolloutStepOutput {
  const serving =
    rollout.status === 'aborted' ? rollout.spec.baseline : rollout.status === 'promoted' ? rollout.winner : undefined;
  return {
    model: rollout.spec.model,
    strategy: rollout.spec.strategy,
    status: rollout.status,
    step: rollout.stepIndex + 1,
    ...(serving === undefined ? {} : { serving }),
    ...(rollout.reason === undefined ? {} : { reason: rollout.reason }),
  };
}

const startArgs = z
  .object({
    ...where,
    rollout: z
      .record(z.string(), z.unknown())
      .describe('The rollout without its model: strategy, baseline, candidate(s), split, steps, guards, holdout'),
    replace: z.boolean().default(false).describe('Take over a running rollout of the model'),
  })
  .strict();

export const rolloutStartOperator = defineOperator<z.infer<typeof startArgs>>({
  name: 'ml.rollout.start',
  description: 'Start a rollout of a model: single, shadow, ab, canary or bandit',
  args: startArgs,
  run: (context, args) =>
    withStore(args, async (store) => {
      const rollout = await store.start({ ...args.rollout, model: args.model } as RolloutSpecInput, {
        nowMs: Date.now(),
        replace: args.replace,
      });
      context.log(`started a ${rollout.spec.strategy} rollout of ${args.model}`);
      return output(rollout);
    }),
});

const advanceArgs = z
  .object({
    ...where,
    force: z.boolean().default(false).describe('Move to the next step now, whatever the hold time and guards say'),
  })
  .strict();

export const rolloutAdvanceOperator = defineOperator<z.infer<typeof advanceArgs>>({
  name: 'ml.rollout.advance',
  description: "A canary's check: advance, promote or abort by its guards (or force the next step)",
  args: advanceArgs,
  run: (context, args) =>
    withStore(args, async (store) => {
      if (args.force) return output(await store.advance());
      const decision = await store.check();
      context.log(`${args.model}: ${decision.action} (${decision.reason})`);
      return output(await store.get());
    }),
});

const promoteArgs = z.object({ ...where, reason: z.string().optional() }).strict();

export const rolloutPromoteOperator = defineOperator<z.infer<typeof promoteArgs>>({
  name: 'ml.rollout.promote',
  description: 'Promote the running rollout: its candidate (a bandit: the best arm) serves everything',
  args: promoteArgs,
  run: (_context, args) => withStore(args, async (store) => output(await store.promote(Date.now(), args.reason))),
});

const abortArgs = z.object({ ...where, reason: z.string().default('aborted by a DAG task') }).strict();

export const rolloutAbortOperator = defineOperator<z.infer<typeof abortArgs>>({
  name: 'ml.rollout.abort',
  description: 'Abort the rollout: the baseline serves everything again (rolls a promoted rollout back)',
  args: abortArgs,
  run: (_context, args) => withStore(args, async (store) => output(await store.abort(Date.now(), args.reason))),
});
