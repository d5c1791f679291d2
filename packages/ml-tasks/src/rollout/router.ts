// Routing in one place: which version answers a request, for every strategy. Used by the batch lookup
// (which prediction set to read) and the online scorer (which model to run). Pure: the state comes in,
// a route goes out; the sticky assignment is a hash of the entity's key, so it holds across restarts and
// across servers with no stored table.
import { hash } from 'node:crypto';
import type { BanditPolicy } from './bandit.js';
import type { RandomSource } from './random.js';
import type { RolloutSpec } from './rollout-spec.js';

/** Where a rollout stands. `aborted` routes everything to the baseline; `promoted` to the candidate. */
export type RolloutStatus = 'running' | 'promoted' | 'aborted';

export interface RolloutState {
  spec: RolloutSpec;
  status: RolloutStatus;
  /** The canary step in force (0 for the other strategies). */
  stepIndex: number;
  /** When that step began (ms since the epoch). */
  stepStartedMs: number;
  /** Why it was aborted or promoted, for people. */
  reason?: string;
  /** The version promoted (a bandit's best arm; otherwise the candidate). */
  winner?: string;
}

/** The version a promoted rollout serves. */
export function promotedVersion(state: RolloutState): string {
  const { spec } = state;
  return state.winner ?? ('candidate' in spec ? spec.candidate : spec.baseline);
}

/** The route of one request. */
export type Route =
  | { arm: 'holdout' }
  | {
      arm: 'baseline' | 'candidate';
      /** The version that answers. */
      version: string;
      /** A version that also scores the request, silently (shadow): its answer is logged, never returned. */
      shadow?: string;
    };

/** A uniform number in [0, 1) fixed by the salt, the purpose and the entity's key (48 bits of SHA-256). */
export function stickyBucket(salt: string, purpose: string, key: string): number {
  // One-shot hash of the joined text: the same bytes as updating with each part, a third of the cost. Its
  // first 6 bytes, big-endian, are its first 12 hex digits: read from the hex text, no Buffer is made.
  return Number.parseInt(hash('sha256', `${salt}\0${purpose}\0${key}`, 'hex').slice(0, 12), 16) / 2 ** 48;
}

/** The candidate's share of the traffic not held out, for the strategies with one candidate. */
export function candidateShare(state: RolloutState): number {
  const { spec } = state;
  if (state.status === 'aborted') return 0;
  if (state.status === 'promoted') return spec.strategy === 'single' || spec.strategy === 'bandit' ? 0 : 1;
  switch (spec.strategy) {
    case 'ab':
      return spec.split;
    case 'canary':
      return spec.steps[Math.min(state.stepIndex, spec.steps.length - 1)]!.share;
    default:
      return 0;
  }
}

/**
 * The share of the traffic not held out each version gets now (version → share). A running bandit has no
 * fixed split (it routes each request by the rewards so far): an empty record.
 */
export function rolloutSplit(state: RolloutState): Record<string, number> {
  const { spec } = state;
  if (spec.strategy === 'bandit') {
    if (state.status === 'running') return {};
    return { [state.status === 'promoted' ? (state.winner ?? spec.baseline) : spec.baseline]: 1 };
  }
  if (!('candidate' in spec) || spec.strategy === 'shadow') {
    const serving = state.status === 'promoted' ? (state.winner ?? spec.baseline) : spec.baseline;
    return { [serving]: 1 };
  }
  const share = candidateShare(state);
  return { [spec.baseline]: 1 - share, [spec.candidate]: share };
}

/**
 * Routes a request of entity `key`. Requests without an entity key get a random key from `random` (not
 * sticky). A bandit needs its policy, and draws from `random`.
 */
export function route(
  state: RolloutState,
  key: string,
  options: { bandit?: BanditPolicy; random?: RandomSource } = {},
): Route {
  const { spec } = state;
  const salt = spec.salt ?? spec.model;
  if (spec.holdout > 0 && stickyBucket(salt, 'holdout', key) < spec.holdout) return { arm: 'holdout' };
  if (state.status === 'promoted') {
    const version = promotedVersion(state);
    return { arm: version === spec.baseline ? 'baseline' : 'candidate', version };
  }
  if (state.status !== 'running') return { arm: 'baseline', version: spec.baseline };
  switch (spec.strategy) {
    case 'single':
      return { arm: 'baseline', version: spec.baseline };
    case 'shadow':
      return { arm: 'baseline', version: spec.baseline, shadow: spec.candidate };
    case 'ab':
    case 'canary':
      return stickyBucket(salt, 'split', key) < candidateShare(state)
        ? { arm: 'candidate', version: spec.candidate }
        : { arm: 'baseline', version: spec.baseline };
    case 'bandit': {
      if (!options.bandit || !options.random)
        throw new Error('a bandit rollout routes with its policy and a random source');
      const version = options.bandit.choose(options.random);
      return { arm: version === spec.baseline ? 'baseline' : 'candidate', version };
    }
  }
}
