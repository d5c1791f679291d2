// A multi-armed bandit over model versions: each request goes to one arm, its feedback (a reward in
// [0, 1], e.g. 1 for a correct prediction) updates that arm, and traffic drifts to the best arm while the
// others keep a share. Thompson sampling (Beta posteriors) or UCB1, with an exploration floor: a share of
// requests spread evenly over all arms whatever the rewards say, so a slow-changing world is still seen.
import { betaDraw, type RandomSource } from './random.js';

/** What one arm has earned so far. */
export interface ArmStats {
  pulls: number;
  /** The sum of its rewards, each in [0, 1]. */
  rewards: number;
}

export type BanditAlgorithm = 'thompson' | 'ucb';

/** The policy and its running statistics (serialisable: `stats` is plain data). */
export class BanditPolicy {
  readonly stats: Map<string, ArmStats>;

  constructor(
    readonly arms: readonly string[],
    readonly algorithm: BanditAlgorithm = 'thompson',
    readonly explorationFloor = 0.05,
    stats?: Readonly<Record<string, ArmStats>>,
  ) {
    if (arms.length < 2 || new Set(arms).size !== arms.length)
      throw new RangeError('a bandit needs two or more distinct arms');
    if (!(explorationFloor >= 0 && explorationFloor <= 0.5))
      throw new RangeError('explorationFloor must be in [0, 0.5]');
    this.stats = new Map(
      arms.map((arm) => [arm, { pulls: stats?.[arm]?.pulls ?? 0, rewards: stats?.[arm]?.rewards ?? 0 }]),
    );
  }

  /** The arm for the next request. */
  choose(random: RandomSource): string {
    if (random.next() < this.explorationFloor) return this.arms[Math.floor(random.next() * this.arms.length)]!;
    return this.algorithm === 'thompson' ? this.thompson(random) : this.ucb();
  }

  /** Records the feedback of a request the arm answered. */
  reward(arm: string, reward: number): void {
    const stats = this.stats.get(arm);
    if (!stats) throw new RangeError(`unknown arm '${arm}' (arms: ${this.arms.join(', ')})`);
    if (!(reward >= 0 && reward <= 1)) throw new RangeError(`a reward must be in [0, 1], got ${reward}`);
    stats.pulls += 1;
    stats.rewards += reward;
  }

  /** The arm with the best mean reward so far (ties: the first declared). */
  best(): string {
    let best = this.arms[0]!;
    let bestMean = -1;
    for (const arm of this.arms) {
      const { pulls, rewards } = this.stats.get(arm)!;
      const mean = pulls === 0 ? 0 : rewards / pulls;
      if (mean > bestMean) {
        best = arm;
        bestMean = mean;
      }
    }
    return best;
  }

  /** The statistics as plain data, to store. */
  snapshot(): Record<string, ArmStats> {
    return Object.fromEntries([...this.stats].map(([arm, stats]) => [arm, { ...stats }]));
  }

  private thompson(random: RandomSource): string {
    let best = this.arms[0]!;
    let bestDraw = -1;
    for (const arm of this.arms) {
      const { pulls, rewards } = this.stats.get(arm)!;
      // Beta(1 + rewards, 1 + misses): fractional rewards give fractional (still valid) parameters.
      const draw = betaDraw(random, 1 + rewards, 1 + pulls - rewards);
      if (draw > bestDraw) {
        best = arm;
        bestDraw = draw;
      }
    }
    return best;
  }

  private ucb(): string {
    let total = 0;
    for (const stats of this.stats.values()) total += stats.pulls;
    let best = this.arms[0]!;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const arm of this.arms) {
      const { pulls, rewards } = this.stats.get(arm)!;
      if (pulls === 0) return arm;
      const score = rewards / pulls + Math.sqrt((2 * Math.log(total)) / pulls);
      if (score > bestScore) {
        best = arm;
        bestScore = score;
      }
    }
    return best;
  }
}
