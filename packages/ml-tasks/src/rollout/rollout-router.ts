// The per-batch side of routing, shared by the online server and the batch lookups so the two cannot
// drift: a router over one read of the rollout state (a running bandit's policy built once from its
// stored rewards, not per request), and the version that gives a second opinion for the guards.
import { BanditPolicy } from './bandit.js';
import type { RandomSource } from './random.js';
import { type StoredRollout, versionsOf } from './rollout-store.js';
import { type Route, route } from './router.js';

/** Routes entity keys by one read of the rollout: `route()` with the bandit (if running) built once. */
export function routerFor(state: StoredRollout, random: RandomSource): (key: string) => Route {
  const bandit =
    state.status === 'running' && state.spec.strategy === 'bandit'
      ? new BanditPolicy(versionsOf(state.spec), state.spec.algorithm, state.spec.explorationFloor, state.bandit)
      : undefined;
  return (key) => route(state, key, { random, ...(bandit ? { bandit } : {}) });
}

/**
 * The version that also answers a routed request, silently, so the disagreement guard has data: the
 * shadow, or the baseline beside a candidate. Undefined for the baseline and the holdout.
 */
export function secondOpinion(chosen: Route, answering: string, baseline: string): string | undefined {
  if (chosen.arm === 'holdout') return undefined;
  return chosen.shadow ?? (chosen.arm === 'candidate' && answering !== baseline ? baseline : undefined);
}
