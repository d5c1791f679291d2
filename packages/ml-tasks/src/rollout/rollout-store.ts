// A model's rollout in Redis, next to its prediction sets: the state (compare-and-set, so two servers or
// a server and an operator never overwrite each other's step), the counters the guards and reports read,
// and a capped log of assignments and decisions. Promoting can switch the model's `current` prediction set
// to the winner and aborting puts it back on the baseline (a promoted rollout's, or a running one whose
// candidate had been made current): rollback is the same operation as deploy.
import { parseSafeJson } from '@batuta/scheduler';
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { PredictionSets } from '../ingest/prediction-sets.js';
import { checkName, DEFAULT_NAMESPACE, PredictionKeys } from '../ingest/redis-layout.js';
import { type ArmStats, BanditPolicy } from './bandit.js';
import { type ArmFigures, type CanaryDecision, decideCanary, emptyArmFigures } from './canary.js';
import { type RolloutSpec, type RolloutSpecInput, rolloutSpecSchema } from './rollout-spec.js';
import { promotedVersion, type RolloutState, type Route } from './router.js';
import {
  type DifferenceReport,
  proportionDifference,
  type SampleRatioReport,
  sampleRatioMismatch,
} from './statistics.js';

/** The stored rollout: the router's state plus what the guards and the bandit carry between checks. */
export interface StoredRollout extends RolloutState {
  startedMs: number;
  /** The running always-valid p-value of the canary's accuracy guard. */
  accuracyPValue?: number;
  /** The bandit's rewards per arm (a bandit rollout only). */
  bandit?: Record<string, ArmStats>;
}

/** The counters per version (and for the holdout, under `HOLDOUT`) since the rollout started. */
export interface RolloutFigures {
  arms: Record<string, ArmFigures>;
  candidateRequestsThisStep: number;
}

/** One arm's figures as a flat row (what `batuta rollout status` and the web API show). */
export interface ArmFigureRow {
  arm: string;
  requests: number;
  errors: number;
  compared: number;
  disagreements: number;
  feedbackTrials: number;
  feedbackCorrect: number;
}

/** The arms' figures as flat rows, sorted by arm name. */
export function armFigureRows(figures: RolloutFigures): ArmFigureRow[] {
  return Object.entries(figures.arms)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([arm, f]) => ({
      arm,
      requests: f.requests,
      errors: f.errors,
      compared: f.compared,
      disagreements: f.disagreements,
      feedbackTrials: f.feedback.trials,
      feedbackCorrect: f.feedback.successes,
    }));
}

/** What `report` returns: the state, the figures, and the statistics fit for the strategy. */
export interface RolloutReport {
  rollout: StoredRollout;
  figures: RolloutFigures;
  /** Served requests per arm against the declared split (A/B) or the holdout share (any with a holdout). */
  sampleRatio?: SampleRatioReport;
  /** Candidate − baseline feedback accuracy, with its interval (strategies with one candidate). */
  accuracy?: DifferenceReport;
  /** Candidate − baseline error rate, with its interval. */
  errorRate?: DifferenceReport;
}

/** One entry of the rollout log: a start, a decision, or (when asked) a request's assignment. */
export interface RolloutLogEntry {
  id: string;
  /** When it was written (from the stream id). */
  atMs: number;
  type: string;
  fields: Record<string, string>;
}

/** What a counted request went through: the answering version failed; a second version scored it and disagreed. */
export interface RecordOutcome {
  error?: boolean;
  compared?: boolean;
  disagreed?: boolean;
  /** The entity's key, logged as assigned to the arm. */
  key?: string;
}

/** The figures key of requests routed around every model. */
export const HOLDOUT = '~holdout';
const STEP_REQUESTS = '~step:requests';
const FIGURES = ['requests', 'errors', 'compared', 'disagreements', 'feedbackTrials', 'feedbackCorrect'] as const;

/** Sets the state when `rev` is still the one read; optionally resets the figures or the step counter. */
const COMPARE_AND_SET = `
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return -1 end
local next = tonumber(rev) + 1
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'rev', tostring(next))
if ARGV[3] == 'figures' then redis.call('DEL', KEYS[2]) end
if ARGV[3] == 'step' then redis.call('HSET', KEYS[2], '${STEP_REQUESTS}', '0') end
return next
`;

export interface RolloutStoreOptions {
  model: string;
  namespace?: string;
  /** Switch the model's `current` prediction set on start (single), promote and abort (default false). */
  activatePredictionSets?: boolean;
  /** Entries kept in the rollout log (approximately; default 100,000). */
  logMaxLength?: number;
  /** [key, arm] pairs listed in a batch's `assigned` log entry (default 20; 0: none). */
  logSampleSize?: number;
}

export class RolloutStore {
  readonly keys: PredictionKeys;
  private readonly sets: PredictionSets | undefined;
  private readonly logMaxLength: number;
  private readonly logSampleSize: number;

  constructor(
    private readonly redis: Redis,
    options: RolloutStoreOptions,
  ) {
    this.keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
    this.sets = options.activatePredictionSets
      ? new PredictionSets(redis, { model: options.model, namespace: this.keys.namespace })
      : undefined;
    this.logMaxLength = options.logMaxLength ?? 100_000;
    this.logSampleSize = options.logSampleSize ?? 20;
  }

  /** The rollout and its revision, or undefined when the model never had one. */
  async read(): Promise<{ rollout: StoredRollout; rev: string } | undefined> {
    const [state, rev] = await this.redis.hmget(this.keys.rollout, 'state', 'rev');
    if (!state || !rev) return undefined;
    const parsed = parseSafeJson(state, `the rollout of ${this.keys.model}`, {
      maxBytes: 1024 * 1024,
    }) as StoredRollout;
    return { rollout: { ...parsed, spec: rolloutSpecSchema.parse(parsed.spec) }, rev };
  }

  /** The rollout, or NO_ROLLOUT. */
  async get(): Promise<StoredRollout> {
    const found = await this.read();
    if (!found) throw new MlTasksError('NO_ROLLOUT', `model ${this.keys.model} has no rollout; start one first`);
    return found.rollout;
  }

  /**
   * Starts a rollout (its figures start from zero). Refused while another is running unless `replace`.
   * A `single` rollout switches the served version at once and is promoted from the start.
   */
  async start(input: RolloutSpecInput, options: { nowMs?: number; replace?: boolean } = {}): Promise<StoredRollout> {
    const parsed = rolloutSpecSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new MlTasksError('INVALID_ARGUMENT', `rollout: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const spec = parsed.data;
    if (spec.model !== this.keys.model) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        `rollout of model '${spec.model}' given to the store of '${this.keys.model}'`,
      );
    }
    for (const version of versionsOf(spec)) checkName('version', version);
    const nowMs = options.nowMs ?? Date.now();
    const found = await this.read();
    if (found?.rollout.status === 'running' && !options.replace) {
      throw new MlTasksError(
        'ROLLOUT_CONFLICT',
        `model ${this.keys.model} has a ${found.rollout.spec.strategy} rollout running since ${new Date(found.rollout.startedMs).toISOString()}; promote or abort it, or replace it`,
      );
    }
    const single = spec.strategy === 'single';
    const rollout: StoredRollout = {
      spec,
      status: single ? 'promoted' : 'running',
      stepIndex: 0,
      stepStartedMs: nowMs,
      startedMs: nowMs,
      ...(single ? { winner: spec.baseline, reason: 'single replacement' } : {}),
      ...(spec.strategy === 'bandit' ? { bandit: new BanditPolicy(armsOf(spec)).snapshot() } : {}),
    };
    if (single) await this.sets?.activate(spec.baseline, { nowMs });
    await this.write(found?.rev ?? '0', rollout, 'figures');
    await this.log('started', { strategy: spec.strategy, versions: versionsOf(spec).join(',') });
    return rollout;
  }

  /** Counts a request by its route; `outcome` says whether the answering version failed, and whether a
   *  second version (shadow, or a canary's comparison) scored it and disagreed. `key`: logged as assigned
   *  (a batch of one: see `recordMany`). */
  async record(route: Route, outcome: RecordOutcome = {}): Promise<void> {
    await this.recordMany([{ route, ...outcome }]);
  }

  /**
   * Counts a batch of routed requests or lookups in one pipeline (one round trip): each entry adds to
   * exactly the counters `record` adds to, summed per field, and the batch writes ONE `assigned` log
   * entry — `n` keyed entries, `arms` (JSON: keyed entries per arm, exact) and `sample` (JSON: up to
   * `logSampleSize` [key, arm] pairs, evenly spaced over the batch). Why a summary plus a sample, not
   * every key: the log is capped by entries, so a full listing would make each entry up to a batch
   * larger and the cap no bound on memory; the SRM check and the guards read the counters, never the
   * log; and a sticky strategy's assignment of any key can be recomputed with `route()`.
   */
  async recordMany(entries: ReadonlyArray<RecordOutcome & { route: Route }>): Promise<void> {
    if (entries.length === 0) return;
    const counts = new Map<string, number>();
    const assigned: Record<string, number> = {};
    const keyed: Array<[string, string]> = [];
    for (const entry of entries) {
      const arm = countEntry(entry, counts);
      if (entry.key !== undefined) {
        assigned[arm] = (assigned[arm] ?? 0) + 1;
        keyed.push([entry.key, arm]);
      }
    }
    await this.writeFigures(counts, assigned, keyed.length, evenSample(keyed, this.logSampleSize));
  }

  /** An empty tally for this store's figures, to add requests to as they are answered (`recordTally`). */
  tally(): RecordTally {
    return new RecordTally(this.logSampleSize);
  }

  /** Writes what a tally summed, as `recordMany` writes a batch: one pipeline, one `assigned` entry. */
  async recordTally(tally: RecordTally): Promise<void> {
    if (tally.requests === 0) return;
    await this.writeFigures(tally.counts, tally.assigned, tally.keyed, tally.sample());
  }

  private async writeFigures(
    counts: ReadonlyMap<string, number>,
    assigned: Readonly<Record<string, number>>,
    keyed: number,
    sample: ReadonlyArray<[string, string]>,
  ): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [field, count] of counts) pipeline.hincrby(this.keys.rolloutFigures, field, count);
    if (keyed > 0) {
      pipeline.xadd(
        this.keys.rolloutLog,
        'MAXLEN',
        '~',
        this.logMaxLength,
        '*',
        'type',
        'assigned',
        'n',
        String(keyed),
        'arms',
        JSON.stringify(assigned),
        'sample',
        JSON.stringify(sample),
      );
    }
    await pipeline.exec();
  }

  /** Records feedback on an answer a version gave: `reward` 1 right, 0 wrong (fractions allowed). */
  async feedback(version: string, reward: number): Promise<void> {
    if (!(reward >= 0 && reward <= 1))
      throw new MlTasksError('INVALID_ARGUMENT', `a reward must be in [0, 1], got ${reward}`);
    checkName('version', version);
    const pipeline = this.redis.pipeline();
    pipeline.hincrby(this.keys.rolloutFigures, `${version}:feedbackTrials`, 1);
    pipeline.hincrbyfloat(this.keys.rolloutFigures, `${version}:feedbackCorrect`, reward);
    await pipeline.exec();
  }

  /** The counters since the rollout started. */
  async figures(): Promise<RolloutFigures> {
    const raw = await this.redis.hgetall(this.keys.rolloutFigures);
    const arms: Record<string, ArmFigures> = {};
    for (const [field, value] of Object.entries(raw)) {
      if (field === STEP_REQUESTS) continue;
      const at = field.lastIndexOf(':');
      const arm = field.slice(0, at);
      const figure = field.slice(at + 1) as (typeof FIGURES)[number];
      if (!FIGURES.includes(figure)) continue;
      const target = arms[arm] ?? emptyArmFigures();
      arms[arm] = target;
      const number = Number(value);
      if (figure === 'feedbackTrials') target.feedback.trials = number;
      else if (figure === 'feedbackCorrect') target.feedback.successes = Math.round(number);
      else target[figure] = number;
    }
    return { arms, candidateRequestsThisStep: Number(raw[STEP_REQUESTS] ?? 0) };
  }

  /**
   * A canary's check: decides from the figures and the time, and applies the decision (advance, promote
   * or abort). Returns the decision; NO_ROLLOUT when the model's rollout is not a running canary.
   */
  async check(nowMs = Date.now()): Promise<CanaryDecision> {
    const found = await this.read();
    const rollout = found?.rollout;
    if (!found || !rollout || rollout.spec.strategy !== 'canary' || rollout.status !== 'running') {
      throw new MlTasksError('NO_ROLLOUT', `model ${this.keys.model} has no running canary to check`);
    }
    const figures = await this.figures();
    const spec = rollout.spec;
    const decision = decideCanary(
      rollout,
      {
        baseline: figures.arms[spec.baseline] ?? emptyArmFigures(),
        candidate: figures.arms[spec.candidate] ?? emptyArmFigures(),
        candidateRequestsThisStep: figures.candidateRequestsThisStep,
      },
      nowMs,
    );
    const next: StoredRollout = { ...rollout, ...decision.state };
    await this.write(found.rev, next, decision.action === 'advance' ? 'step' : undefined);
    if (decision.action !== 'hold') await this.afterDecision(rollout, next, decision.action, decision.reason, nowMs);
    return decision;
  }

  /** Moves a canary to its next step now (an operator's override of the hold time and request count). */
  async advance(nowMs = Date.now()): Promise<StoredRollout> {
    const { rollout, rev } = await this.running('advance');
    if (rollout.spec.strategy !== 'canary') {
      throw new MlTasksError(
        'NO_ROLLOUT',
        `only a canary advances; ${this.keys.model} runs a ${rollout.spec.strategy} rollout`,
      );
    }
    if (rollout.stepIndex + 1 >= rollout.spec.steps.length) return this.promote(nowMs, 'advanced past the last step');
    const next = { ...rollout, stepIndex: rollout.stepIndex + 1, stepStartedMs: nowMs };
    await this.write(rev, next, 'step');
    await this.log('advance', { step: String(next.stepIndex + 1), reason: 'by hand' });
    return next;
  }

  /** Promotes: the candidate (a bandit: its best arm) serves everything. */
  async promote(nowMs = Date.now(), reason = 'promoted by hand'): Promise<StoredRollout> {
    const { rollout, rev } = await this.running('promote');
    const winner =
      rollout.spec.strategy === 'bandit'
        ? new BanditPolicy(armsOf(rollout.spec), 'thompson', 0, rollout.bandit).best()
        : promotedVersion(rollout);
    const next: StoredRollout = { ...rollout, status: 'promoted', winner, reason, stepStartedMs: nowMs };
    await this.write(rev, next);
    await this.afterDecision(rollout, next, 'promote', reason, nowMs);
    return next;
  }

  /** Aborts: the baseline serves everything again (and is `current` again when sets are switched). */
  async abort(nowMs = Date.now(), reason = 'aborted by hand'): Promise<StoredRollout> {
    const found = await this.read();
    if (!found || found.rollout.status === 'aborted') {
      throw new MlTasksError('NO_ROLLOUT', `model ${this.keys.model} has no rollout to abort`);
    }
    const next: StoredRollout = { ...found.rollout, status: 'aborted', reason, stepStartedMs: nowMs };
    await this.write(found.rev, next);
    await this.afterDecision(found.rollout, next, 'abort', reason, nowMs);
    return next;
  }

  /** Records a bandit's reward for an arm (and counts the feedback). */
  async reward(version: string, reward: number): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const { rollout, rev } = await this.running('reward');
      if (rollout.spec.strategy !== 'bandit') return this.feedback(version, reward);
      const policy = new BanditPolicy(
        armsOf(rollout.spec),
        rollout.spec.algorithm,
        rollout.spec.explorationFloor,
        rollout.bandit,
      );
      policy.reward(version, reward);
      if (await this.tryWrite(rev, { ...rollout, bandit: policy.snapshot() })) return this.feedback(version, reward);
    }
    throw new MlTasksError('ROLLOUT_CONFLICT', `the bandit of ${this.keys.model} kept changing; try again`);
  }

  /** The figures with the statistics that fit the strategy. */
  async report(): Promise<RolloutReport> {
    const rollout = await this.get();
    const figures = await this.figures();
    const spec = rollout.spec;
    const report: RolloutReport = { rollout, figures };
    const requests = (arm: string) => figures.arms[arm]?.requests ?? 0;
    if (spec.strategy === 'ab' && rollout.status === 'running') {
      report.sampleRatio = sampleRatioMismatch(
        [requests(spec.baseline), requests(spec.candidate)],
        [1 - spec.split, spec.split],
      );
    } else if (spec.holdout > 0) {
      const served = Object.keys(figures.arms)
        .filter((arm) => arm !== HOLDOUT)
        .reduce((sum, arm) => sum + requests(arm), 0);
      report.sampleRatio = sampleRatioMismatch([requests(HOLDOUT), served], [spec.holdout, 1 - spec.holdout]);
    }
    if ('candidate' in spec) {
      const baseline = figures.arms[spec.baseline] ?? emptyArmFigures();
      const candidate = figures.arms[spec.candidate] ?? emptyArmFigures();
      if (baseline.feedback.trials > 0 && candidate.feedback.trials > 0) {
        report.accuracy = proportionDifference(baseline.feedback, candidate.feedback);
      }
      if (baseline.requests > 0 && candidate.requests > 0) {
        report.errorRate = proportionDifference(
          { successes: baseline.errors, trials: baseline.requests },
          { successes: candidate.errors, trials: candidate.requests },
        );
      }
    }
    return report;
  }

  /**
   * The newest entries of the log, newest first: at most `count` (default 20), read from the last
   * `scanLimit` entries (default 500). `withAssignments` keeps the per-request assignments, left out by default.
   */
  async recentLog(
    options: { count?: number; scanLimit?: number; withAssignments?: boolean } = {},
  ): Promise<RolloutLogEntry[]> {
    const count = options.count ?? 20;
    const raw = await this.redis.xrevrange(this.keys.rolloutLog, '+', '-', 'COUNT', options.scanLimit ?? 500);
    const entries: RolloutLogEntry[] = [];
    for (const [id, flat] of raw) {
      const fields: Record<string, string> = {};
      for (let at = 0; at + 1 < flat.length; at += 2) fields[flat[at]!] = flat[at + 1]!;
      const { type = '', ...rest } = fields;
      if (type === 'assigned' && !options.withAssignments) continue;
      entries.push({ id, atMs: Number(id.split('-')[0]), type, fields: rest });
      if (entries.length >= count) break;
    }
    return entries;
  }

  private async running(what: string): Promise<{ rollout: StoredRollout; rev: string }> {
    const found = await this.read();
    if (found?.rollout.status !== 'running') {
      throw new MlTasksError('NO_ROLLOUT', `model ${this.keys.model} has no running rollout to ${what}`);
    }
    return found;
  }

  private async tryWrite(rev: string, rollout: StoredRollout, reset?: 'figures' | 'step'): Promise<boolean> {
    const result = await this.redis.eval(
      COMPARE_AND_SET,
      2,
      this.keys.rollout,
      this.keys.rolloutFigures,
      rev,
      JSON.stringify(rollout),
      reset ?? '',
    );
    return result !== -1;
  }

  private async write(rev: string, rollout: StoredRollout, reset?: 'figures' | 'step'): Promise<void> {
    if (!(await this.tryWrite(rev, rollout, reset))) {
      throw new MlTasksError(
        'ROLLOUT_CONFLICT',
        `the rollout of ${this.keys.model} changed meanwhile; read it again and retry`,
      );
    }
  }

  private async afterDecision(
    before: StoredRollout,
    after: StoredRollout,
    action: string,
    reason: string,
    nowMs: number,
  ): Promise<void> {
    if (this.sets && action === 'promote') await this.sets.activate(promotedVersion(after), { nowMs });
    if (this.sets && action === 'abort') {
      const baseline = before.spec.baseline;
      if (before.status === 'promoted') await this.sets.activate(baseline, { nowMs });
      // A running rollout's candidate can be `current` too (ingested the old way, activated): put the
      // baseline back over it, as deploy would. `current` on anything else is not this rollout's to move.
      else
        await this.sets.activate(baseline, {
          nowMs,
          onlyFrom: versionsOf(before.spec).filter((v) => v !== baseline),
        });
    }
    await this.log(action, { reason, step: String(after.stepIndex + 1) });
  }

  private async log(type: string, fields: Record<string, string>): Promise<void> {
    const flat = Object.entries(fields).flat();
    await this.redis.xadd(this.keys.rolloutLog, 'MAXLEN', '~', this.logMaxLength, '*', 'type', type, ...flat);
  }
}

/** Up to `size` items evenly spaced over `items` (all of them when there are no more): deterministic. */
/** Adds one routed request to `counts` (the fields `record` adds to); returns its arm's figures name. */
function countEntry(entry: RecordOutcome & { route: Route }, counts: Map<string, number>): string {
  const add = (field: string) => counts.set(field, (counts.get(field) ?? 0) + 1);
  const { route } = entry;
  const arm = route.arm === 'holdout' ? HOLDOUT : route.version;
  add(`${arm}:requests`);
  if (entry.error) add(`${arm}:errors`);
  if (route.arm === 'candidate') add(STEP_REQUESTS);
  const compared =
    route.arm !== 'holdout' ? (route.shadow ?? (route.arm === 'candidate' ? route.version : undefined)) : undefined;
  if (entry.compared && compared) {
    add(`${compared}:compared`);
    if (entry.disagreed) add(`${compared}:disagreements`);
  }
  return arm;
}

/**
 * Routed requests summed as they are answered, for one write later (`RolloutStore.recordTally`): the
 * counters, the keyed requests per arm, and an evenly spaced sample of [key, arm] pairs kept in at most
 * twice the sample size (every `stride`-th keyed request; when the buffer fills, every other one is
 * dropped and the stride doubles). A server that writes its figures every 200 ms so keeps no object per
 * request until then: a thousand of them per write outlived the young generation, and the garbage
 * collector copied, promoted and marked them — pauses in the serving process's tail.
 */
export class RecordTally {
  readonly counts = new Map<string, number>();
  readonly assigned: Record<string, number> = {};
  /** Requests added, and those of them with an entity key. */
  requests = 0;
  keyed = 0;
  private kept: Array<[string, string]> = [];
  private stride = 1;

  constructor(private readonly sampleSize: number) {}

  add(entry: RecordOutcome & { route: Route }): void {
    this.requests++;
    const arm = countEntry(entry, this.counts);
    if (entry.key === undefined) return;
    this.assigned[arm] = (this.assigned[arm] ?? 0) + 1;
    if (this.sampleSize > 0 && this.keyed % this.stride === 0) {
      this.kept.push([entry.key, arm]);
      if (this.kept.length >= 2 * this.sampleSize) {
        this.kept = this.kept.filter((_, index) => index % 2 === 0);
        this.stride *= 2;
      }
    }
    this.keyed++;
  }

  /**
   * [key, arm] pairs evenly spaced over the keyed requests: every one when there are no more than the
   * sample size, else between half the sample size and the sample size of them at equal steps.
   */
  sample(): Array<[string, string]> {
    if (this.kept.length <= this.sampleSize) return [...this.kept];
    const step = Math.ceil(this.kept.length / this.sampleSize);
    return this.kept.filter((_, index) => index % step === 0);
  }
}

function evenSample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  return Array.from({ length: size }, (_, index) => items[Math.floor((index * items.length) / size)]!);
}

/** Every version a rollout names. */
export function versionsOf(spec: RolloutSpec): string[] {
  switch (spec.strategy) {
    case 'single':
      return [spec.baseline];
    case 'bandit':
      return armsOf(spec);
    default:
      return [spec.baseline, spec.candidate];
  }
}

function armsOf(spec: Extract<RolloutSpec, { strategy: 'bandit' }>): string[] {
  return [spec.baseline, ...spec.candidates.filter((version) => version !== spec.baseline)];
}
